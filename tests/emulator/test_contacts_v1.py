"""Contacts v1 (GET): departments, users, auth/scopes, paging and the ISV rules."""

import pytest
from emulator_helpers import corp_token_signed, get, internal_app, isv_app, org_tree

SECRET_FIELDS = {"mobile", "email", "tel", "workPlace", "remark", "extattr", "hiredDate",
                 "stateCode", "orgEmail"}


@pytest.fixture
def org(emulator):
    corp, app, token = internal_app(emulator, users=120)
    detail = emulator.get_corp(corp["corp_id"])
    return corp, token, detail


def _nested_dept(detail):
    """A department two levels below the root."""
    by_id = {d["id"]: d for d in detail["departments"]}
    for d in detail["departments"]:
        if d["parent_id"] not in (None, 1) and by_id[d["parent_id"]]["parent_id"] == 1:
            return d
    raise AssertionError("generator made no nested department")


def test_list_ids_direct_children(emulator, org):
    _, token, detail = org
    children, _ = org_tree(detail)
    body = get(emulator, "department/list_ids", token, id=1)
    assert sorted(body["sub_dept_id_list"]) == sorted(children[1])
    assert get(emulator, "department/list_ids", token, id=999)["errcode"] == 60003
    assert get(emulator, "department/list_ids", token)["errcode"] == 40035


def test_department_list_fetch_child(emulator, org):
    _, token, detail = org
    children, _ = org_tree(detail)
    direct = get(emulator, "department/list", token, id=1, fetch_child="false")["department"]
    assert sorted(d["id"] for d in direct) == sorted(children[1])
    whole = get(emulator, "department/list", token, id=1, fetch_child="true")["department"]
    assert len(whole) == len(detail["departments"]) - 1
    assert {"id", "name", "parentid", "createDeptGroup", "autoAddUser"} <= set(whole[0])
    default = get(emulator, "department/list", token)["department"]
    assert len(default) == len(direct)


def test_department_get(emulator, org):
    _, token, detail = org
    dept = _nested_dept(detail)
    body = get(emulator, "department/get", token, id=dept["id"])
    assert body["id"] == dept["id"] and body["name"] == dept["name"]
    assert body["parentid"] == dept["parent_id"]
    assert get(emulator, "department/get", token, id=424242)["errcode"] == 60003


def test_parent_depts_by_dept_self_first_root_last(emulator, org):
    _, token, detail = org
    dept = _nested_dept(detail)
    body = get(emulator, "department/list_parent_depts_by_dept", token, id=dept["id"])
    assert body["parentIds"] == [dept["id"], dept["parent_id"], 1]


def test_parent_depts_of_user_nested_or_flat(emulator, org):
    _, token, detail = org
    user = next(u for u in detail["users"] if len(u["depts"]) == 2)
    body = get(emulator, "department/list_parent_depts", token, userId=user["userid"])
    assert len(body["department"]) == 2
    assert all(path[0] in user["depts"] and path[-1] == 1 for path in body["department"])
    emulator.set_config(parent_depts_nested=False)
    flat = get(emulator, "department/list_parent_depts", token, userId=user["userid"])
    assert flat["department"] == [d for path in body["department"] for d in path]
    assert get(emulator, "department/list_parent_depts", token, userId="nobody")["errcode"] \
        == 60121


def test_org_user_count(emulator, org):
    _, token, detail = org
    active = sum(1 for u in detail["users"] if u["active"])
    assert active < len(detail["users"])  # the generator leaves some inactive
    assert get(emulator, "user/get_org_user_count", token, onlyActive=0)["count"] == 120
    assert get(emulator, "user/get_org_user_count", token, onlyActive=1)["count"] == active
    assert get(emulator, "user/get_org_user_count", token)["errcode"] == 40035


def test_user_get_fields_and_errors(emulator, org):
    _, token, detail = org
    user = detail["users"][5]
    body = get(emulator, "user/get", token, userid=user["userid"])
    assert body["unionid"] == user["unionid"] and body["department"] == user["depts"]
    assert SECRET_FIELDS <= set(body)  # internal apps see contact details
    assert body["orderInDepts"].startswith("{") and isinstance(body["isAdmin"], bool)
    assert get(emulator, "user/get", token, userid="nobody")["errcode"] == 60121
    assert get(emulator, "user/get", token)["errcode"] == 40035


def test_get_dept_member_direct_only(emulator, org):
    _, token, detail = org
    _, members = org_tree(detail)
    dept = _nested_dept(detail)
    body = get(emulator, "user/getDeptMember", token, deptId=dept["parent_id"])
    assert sorted(body["userIds"]) == sorted(members.get(dept["parent_id"], []))
    assert get(emulator, "user/getDeptMember", token, deptId=5)["errcode"] == 60003


def _largest_dept(detail):
    _, members = org_tree(detail)
    return max(members, key=lambda d: len(members[d])), members


def test_listbypage_pages_and_order(emulator, org):
    _, token, detail = org
    dept, members = _largest_dept(detail)
    seen, offset = [], 0
    while True:
        body = get(emulator, "user/listbypage", token, department_id=dept, offset=offset,
                   size=2)
        seen += [u["userid"] for u in body["userlist"]]
        if not body["hasMore"]:
            break
        offset += 2
    assert sorted(seen) == sorted(members[dept]) and len(seen) == len(set(seen))
    orders = [u["order"] for u in get(emulator, "user/listbypage", token, department_id=dept,
                                      offset=0, size=100)["userlist"]]
    assert orders == sorted(orders, reverse=True)


def test_user_list_is_listbypage_under_its_2016_name(emulator, org):
    _, token, detail = org
    dept, _ = _largest_dept(detail)
    page = {"department_id": dept, "offset": 0, "size": 100}
    new = get(emulator, "user/listbypage", token, **page)
    old = get(emulator, "user/list", token, **page)
    assert old["errcode"] == 0 and old["userlist"] == new["userlist"]


def test_listbypage_param_errors(emulator, org):
    _, token, _ = org
    page = {"department_id": 1, "offset": 0, "size": 10}
    assert get(emulator, "user/listbypage", token, **{**page, "size": 101})["errcode"] == 40069
    assert get(emulator, "user/listbypage", token, **{**page, "size": 0})["errcode"] == 40069
    assert get(emulator, "user/listbypage", token, **{**page, "offset": -1})["errcode"] == 40068
    assert get(emulator, "user/listbypage", token, **{**page, "order": "x"})["errcode"] == 40070
    assert get(emulator, "user/listbypage", token, department_id=1, size=10)["errcode"] == 40068
    assert get(emulator, "user/listbypage", token, **{**page, "department_id": 3})["errcode"] \
        == 60003


def test_simplelist(emulator, org):
    _, token, detail = org
    dept, members = _largest_dept(detail)
    body = get(emulator, "user/simplelist", token, department_id=dept)
    assert sorted(u["userid"] for u in body["userlist"]) == sorted(members[dept])
    assert set(body["userlist"][0]) == {"userid", "name"} and body["hasMore"] is False


def test_userid_by_unionid(emulator, org):
    _, token, detail = org
    user = detail["users"][7]
    body = get(emulator, "user/getUseridByUnionid", token, unionid=user["unionid"])
    assert body["userid"] == user["userid"] and body["contactType"] == 0
    assert get(emulator, "user/getUseridByUnionid", token, unionid="zz")["errcode"] == 60121


def test_auth_scopes_internal(emulator, org):
    _, token, _ = org
    body = get(emulator, "auth/scopes", token)
    assert body["auth_org_scopes"] == {"authed_user": [], "authed_dept": [1]}
    assert "userid" in body["auth_user_field"]


# ---- ISV rules ----------------------------------------------------------------------------

@pytest.fixture
def scoped(emulator):
    """An ISV authorised for one nested department subtree plus one extra user."""
    corp = emulator.create_corp(users=120)
    detail = emulator.get_corp(corp["corp_id"])
    dept = _nested_dept(detail)
    _, members = org_tree(detail)
    inside = set(members.get(dept["id"], []))
    extra = next(u["userid"] for u in detail["users"] if u["userid"] not in inside)
    suite = emulator.create_suite(push_style="sync_http")
    emulator.authorize(suite["suite_key"], corp["corp_id"], authed_dept=[dept["id"]],
                       authed_user=[extra])
    token = corp_token_signed(emulator, suite, corp["corp_id"])["access_token"]
    return {"detail": detail, "dept": dept, "token": token, "inside": inside, "extra": extra,
            "suite": suite}


def test_isv_user_get_hides_contact_fields(emulator):
    corp, _, _, token = isv_app(emulator)
    body = get(emulator, "user/get", token, userid=corp["userids"][3])
    assert body["errcode"] == 0 and not SECRET_FIELDS & set(body)


def test_isv_department_get_has_no_parentid(emulator, scoped):
    body = get(emulator, "department/get", scoped["token"], id=scoped["dept"]["id"])
    assert body["errcode"] == 0 and "parentid" not in body


def test_isv_scope_users_50002(emulator, scoped):
    token, extra, inside = scoped["token"], scoped["extra"], scoped["inside"]
    subtree = {scoped["dept"]["id"]} | {d["id"] for d in scoped["detail"]["departments"]
                                         if d["parent_id"] == scoped["dept"]["id"]}
    outside = next(u["userid"] for u in scoped["detail"]["users"]
                   if u["userid"] != extra and not set(u["depts"]) & subtree)
    assert get(emulator, "user/get", token, userid=next(iter(inside)))["errcode"] == 0
    assert get(emulator, "user/get", token, userid=extra)["errcode"] == 0
    assert get(emulator, "user/get", token, userid=outside)["errcode"] == 50002


def test_isv_scope_depts_50004(emulator, scoped):
    token, dept = scoped["token"], scoped["dept"]
    assert get(emulator, "department/get", token, id=1)["errcode"] == 50004
    assert get(emulator, "user/getDeptMember", token, deptId=dept["parent_id"])["errcode"] \
        == 50004
    assert get(emulator, "user/listbypage", token, department_id=1, offset=0,
               size=10)["errcode"] == 50004


def test_isv_unscoped_endpoints_still_answer(emulator, scoped):
    token, dept = scoped["token"], scoped["dept"]
    assert get(emulator, "department/list_ids", token, id=1)["errcode"] == 0
    parents = get(emulator, "department/list_parent_depts_by_dept", token, id=dept["id"])
    assert parents["parentIds"][-1] == 1


def test_isv_auth_scopes_and_change_auth(emulator, scoped):
    token, dept, extra = scoped["token"], scoped["dept"], scoped["extra"]
    body = get(emulator, "auth/scopes", token)
    assert body["auth_org_scopes"] == {"authed_user": [extra], "authed_dept": [dept["id"]]}
    emulator.change_auth(scoped["suite"]["suite_key"], scoped["detail"]["corp_id"],
                         authed_dept=[1], authed_user=[])
    assert get(emulator, "department/get", token, id=1)["errcode"] == 0
    assert get(emulator, "auth/scopes", token)["auth_org_scopes"]["authed_dept"] == [1]
