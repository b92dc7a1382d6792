"""identity's receivers of the tenants lifecycle signals (connected in apps.py): quick, after
the change committed, never a DingTalk call."""

from identity.jsapi_tickets import jsapi_ticket_drop


def on_tenant_relieved(sender, tenant, **kwargs) -> None:
    # The relieve drops the corp's tokens; its jsapi_ticket (kept under its own key) too, so a
    # re-authorization starts with a ticket fetched under the new authorization.
    jsapi_ticket_drop(tenant=tenant)
