"""How users and departments look on the wire, v1 (camelCase) and v2 (snake_case)."""

from ..models import Department, User


def _map_string(values: dict) -> str:
    # DingTalk renders these maps as a JS-ish string: "{1:10,2:false}".
    return "{" + ",".join(f"{k}:{_js(v)}" for k, v in values.items()) + "}"


def _js(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def user_v1(user: User, *, isv: bool) -> dict:
    """user/get: flat camelCase; ISV tokens never see contact details."""
    out = {
        "userid": user.userid, "unionid": user.unionid, "name": user.name,
        "active": user.active, "avatar": user.avatar, "position": user.position,
        "jobnumber": user.jobnumber, "department": list(user.depts),
        "orderInDepts": _map_string(user.orders),
        "isLeaderInDepts": _map_string({d: d in user.leader_in for d in user.depts}),
        "isAdmin": user.is_admin, "isBoss": user.is_boss, "isHide": user.is_hide,
        "isSenior": user.is_senior, "managerUserid": user.manager_userid,
        "realAuthed": user.real_authed, "roles": [], "tags": {}, "exclusiveAccount": False,
    }
    if not isv:
        out.update({
            "mobile": user.mobile, "tel": user.tel, "email": user.email,
            "orgEmail": user.org_email, "workPlace": user.work_place, "remark": user.remark,
            "stateCode": user.state_code, "hiredDate": user.hired_date, "extattr": {},
        })
    return out


def user_v1_list_item(user: User, dept_id: int, *, isv: bool) -> dict:
    """user/listbypage rows."""
    out = {
        "userid": user.userid, "unionid": user.unionid, "name": user.name,
        "active": user.active, "avatar": user.avatar, "position": user.position,
        "jobnumber": user.jobnumber, "department": list(user.depts),
        "order": user.orders.get(dept_id, 0), "isAdmin": user.is_admin, "isBoss": user.is_boss,
        "isHide": user.is_hide, "isLeader": dept_id in user.leader_in,
    }
    if not isv:
        out.update({
            "mobile": user.mobile, "tel": user.tel, "email": user.email,
            "orgEmail": user.org_email, "workPlace": user.work_place, "remark": user.remark,
            "hiredDate": user.hired_date, "extattr": {},
        })
    return out


def user_v2(user: User, *, isv: bool, dept_id: int | None = None) -> dict:
    """topapi/v2/user/get (dept_id None) and topapi/v2/user/list rows (dept_id given)."""
    out = {
        "userid": user.userid, "unionid": user.unionid, "name": user.name,
        "avatar": user.avatar, "manager_userid": user.manager_userid, "hide_mobile": False,
        "job_number": user.jobnumber, "title": user.position,
        "exclusive_account": False, "dept_id_list": list(user.depts), "active": user.active,
        "real_authed": user.real_authed, "senior": user.is_senior, "admin": user.is_admin,
        "boss": user.is_boss,
    }
    if dept_id is None:
        out["dept_order_list"] = [{"dept_id": d, "order": o} for d, o in user.orders.items()]
        out["leader_in_dept"] = [{"dept_id": d, "leader": d in user.leader_in}
                                 for d in user.depts]
        out["role_list"] = []
        out["union_emp_ext"] = {}
    else:
        out["dept_order"] = user.orders.get(dept_id, 0)
        out["leader"] = dept_id in user.leader_in
    if not isv:
        out.update({
            "state_code": user.state_code, "mobile": user.mobile, "telephone": user.tel,
            "email": user.email, "work_place": user.work_place, "remark": user.remark,
            "org_email": user.org_email, "extension": "{}", "hired_date": user.hired_date,
        })
    return out


def dept_v1(dept: Department, *, isv: bool) -> dict:
    """department/get: ISV tokens get no parentid (PROTOCOL 4)."""
    out = {
        "id": dept.id, "name": dept.name, "order": dept.order,
        "sourceIdentifier": dept.source_identifier, "createDeptGroup": dept.create_dept_group,
        "autoAddUser": dept.auto_add_user, "autoApproveApply": False,
        "groupContainSubDept": False, "orgDeptOwner": "", "deptGroupChatId": dept.group_chat_id,
        "deptManagerUseridList": "|".join(dept.manager_userids), "outerDept": False,
        "outerPermitUsers": "", "outerPermitDepts": "", "deptHiding": dept.hide,
        "deptPermits": "", "userPermits": "",
    }
    if not isv and dept.parent_id is not None:
        out["parentid"] = dept.parent_id
    return out


def dept_v1_list_item(dept: Department) -> dict:
    """department/list rows."""
    out = {"id": dept.id, "name": dept.name, "createDeptGroup": dept.create_dept_group,
           "autoAddUser": dept.auto_add_user, "sourceIdentifier": dept.source_identifier}
    if dept.parent_id is not None:
        out["parentid"] = dept.parent_id
    return out


def dept_v2(dept: Department, *, isv: bool, member_count: int = 0) -> dict:
    """topapi/v2/department/get."""
    out = {
        "dept_id": dept.id, "name": dept.name, "create_dept_group": dept.create_dept_group,
        "auto_add_user": dept.auto_add_user, "order": dept.order,
        "dept_group_chat_id": dept.group_chat_id, "group_contain_sub_dept": False,
        "org_dept_owner": "", "dept_manager_userid_list": list(dept.manager_userids),
        "outer_dept": False, "outer_permit_depts": [], "outer_permit_users": [],
        "hide_dept": dept.hide, "user_permits": [], "dept_permits": [],
        "auto_approve_apply": False, "code": "", "member_count": member_count,
        "owning_member_count": member_count,
    }
    if dept.parent_id is not None:
        out["parent_id"] = dept.parent_id
    if not isv:
        out.update({"source_identifier": dept.source_identifier, "tags": "",
                    "from_union_org": False})
    return out


def dept_v2_list_item(dept: Department) -> dict:
    return {"dept_id": dept.id, "name": dept.name, "parent_id": dept.parent_id,
            "create_dept_group": dept.create_dept_group, "auto_add_user": dept.auto_add_user}
