"""The get_auth_info body: one corp's authorisation of a suite as DingTalk describes it."""

from .models import AuthRecord, Suite


def auth_info(state, suite: Suite, record: AuthRecord) -> dict:
    """The get_auth_info body (also the biz_type 4 payload the pusher sends)."""
    corp = state.corps[record.corp_id]
    admins = [u.userid for u in corp.users.values() if u.is_admin]
    return {
        "auth_corp_info": {
            "corpid": corp.corp_id, "corp_name": corp.name, "full_corp_name": corp.full_name,
            "corp_type": 0, "corp_logo_url": corp.logo_url, "industry": corp.industry,
            "invite_code": "", "invite_url": "", "license_code": "", "auth_channel": "",
            "auth_channel_type": "", "is_authenticated": False, "auth_level": 0,
            "belong_corp_id": "",
        },
        "auth_user_info": {"userId": record.admin_userid},
        "auth_info": {"agent": [{
            "agentid": record.agent_id, "agent_name": suite.name, "logo_url": "",
            "appid": record.app_id, "admin_list": admins,
        }]},
        "channel_auth_info": {"channelAgent": []},
        "auth_market_info": {},
    }
