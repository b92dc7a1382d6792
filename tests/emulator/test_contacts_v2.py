"""Contacts v2 / topapi (POST JSON, `result`, request_id): departments and users."""

import pytest
from emulator_helpers import corp_token_signed, internal_app, org_tree, post

V2_SECRET = {"mobile", "telephone", "email", "work_place", "remark", "org_email",
             "hired_date", "state_code", "extension"}


@pytest.fixture
def org(emulator):
    corp, _, token = internal_app(emulator, users=150)
    detail = emulator.get_corp(corp["corp_id"])
    children, members = org_tree(detail)
    return {"corp": corp, "token": token, "detail": detail, "children": children,
            "members": members}


def _nested(org):
    by_id = {d["id"]: d for d in org["detail"]["departments"]}
    return next(d for d in org["detail"]["departments"]
                if d["parent_id"] not in (None, 1) and by_id[d["parent_id"]]["parent_id"] == 1)


def test_listsub_and_listsubid(emulator, org):
    token = org["token"]
    body = post(emulator, "topapi/v2/department/listsub", token, {"dept_id": 1})
    assert body["errcode"] == 0 and isinstance(body["request_id"], str)
    assert sorted(d["dept_id"] for d in body["result"]) == sorted(org["children"][1])
    assert all(d["parent_id"] == 1 for d in body["result"])
    default = post(emulator, "topapi/v2/department/listsub", token, {})
    assert default["result"] == body["result"]
    ids = post(emulator, "topapi/v2/department/listsubid", token, {"dept_id": 1})
    assert sorted(ids["result"]["dept_id_list"]) == sorted(org["children"][1])
    assert post(emulator, "topapi/v2/department/listsubid", token, {})["errcode"] == 400002


def test_department_get_v2(emulator, org):
    dept = _nested(org)
    body = post(emulator, "topapi/v2/department/get", org["token"], {"dept_id": dept["id"]})
    result = body["result"]
    assert result["dept_id"] == dept["id"] and result["parent_id"] == dept["parent_id"]
    assert result["member_count"] >= len(org["members"].get(dept["id"], []))
    missing = post(emulator, "topapi/v2/department/get", org["token"], {"dept_id": 77})
    assert missing["errcode"] == 60003 and "request_id" in missing


def test_listparentbydept_and_byuser(emulator, org):
    dept = _nested(org)
    body = post(emulator, "topapi/v2/department/listparentbydept", org["token"],
                {"dept_id": dept["id"]})
    assert body["result"]["parent_id_list"] == [dept["id"], dept["parent_id"], 1]
    user = next(u for u in org["detail"]["users"] if len(u["depts"]) == 2)
    body = post(emulator, "topapi/v2/department/listparentbyuser", org["token"],
                {"userid": user["userid"]})
    paths = body["result"]["parent_list"]
    assert [p["parent_dept_id_list"][0] for p in paths] == user["depts"]
    bad = post(emulator, "topapi/v2/department/listparentbyuser", org["token"], {"userid": "x"})
    assert bad["errcode"] == 33012


def test_v2_user_get(emulator, org):
    user = org["detail"]["users"][3]
    body = post(emulator, "topapi/v2/user/get", org["token"], {"userid": user["userid"]})
    result = body["result"]
    assert result["userid"] == user["userid"] and result["dept_id_list"] == user["depts"]
    assert V2_SECRET <= set(result)
    assert {"dept_order_list", "leader_in_dept", "role_list"} <= set(result)
    assert post(emulator, "topapi/v2/user/get", org["token"],
                {"userid": "ghost"})["errcode"] == 33012
    assert post(emulator, "topapi/v2/user/get", org["token"], {})["errcode"] == 400002


def test_v2_user_list_cursor(emulator, org):
    dept = max(org["members"], key=lambda d: len(org["members"][d]))
    seen, cursor = [], 0
    while True:
        body = post(emulator, "topapi/v2/user/list", org["token"],
                    {"dept_id": dept, "cursor": cursor, "size": 3})
        result = body["result"]
        seen += [u["userid"] for u in result["list"]]
        if not result["has_more"]:
            assert "next_cursor" not in result
            break
        cursor = result["next_cursor"]
    assert sorted(seen) == sorted(org["members"][dept])
    bad = post(emulator, "topapi/v2/user/list", org["token"],
               {"dept_id": dept, "cursor": 0, "size": 101})
    assert bad["errcode"] == 40069


def test_listsimple_listid_count_getbyunionid(emulator, org):
    token = org["token"]
    dept = max(org["members"], key=lambda d: len(org["members"][d]))
    simple = post(emulator, "topapi/user/listsimple", token,
                  {"dept_id": dept, "cursor": 0, "size": 100})["result"]
    assert sorted(u["userid"] for u in simple["list"]) == sorted(org["members"][dept])
    ids = post(emulator, "topapi/user/listid", token, {"dept_id": dept})["result"]
    assert sorted(ids["userid_list"]) == sorted(org["members"][dept])
    all_users = post(emulator, "topapi/user/count", token, {"only_active": False})
    active = post(emulator, "topapi/user/count", token, {"only_active": True})
    assert all_users["result"]["count"] == 150 > active["result"]["count"]
    assert post(emulator, "topapi/user/count", token, {})["errcode"] == 400002
    user = org["detail"]["users"][9]
    found = post(emulator, "topapi/user/getbyunionid", token, {"unionid": user["unionid"]})
    assert found["result"] == {"contact_type": 0, "userid": user["userid"]}
    assert post(emulator, "topapi/user/getbyunionid", token,
                {"unionid": "nope"})["errcode"] == 60121


def test_v2_isv_hides_fields_and_scope(emulator, org):
    dept = _nested(org)
    suite = emulator.create_suite()
    emulator.authorize(suite["suite_key"], org["corp"]["corp_id"], authed_dept=[dept["id"]])
    token = corp_token_signed(emulator, suite, org["corp"]["corp_id"])["access_token"]
    inside = org["members"][dept["id"]][0]
    body = post(emulator, "topapi/v2/user/get", token, {"userid": inside})
    assert body["errcode"] == 0 and not V2_SECRET & set(body["result"])
    root_user = org["members"][1][0]
    assert post(emulator, "topapi/v2/user/get", token, {"userid": root_user})["errcode"] == 50002
    assert post(emulator, "topapi/v2/department/get", token, {"dept_id": 1})["errcode"] == 50004
    got = post(emulator, "topapi/v2/department/get", token, {"dept_id": dept["id"]})["result"]
    assert "source_identifier" not in got
    # listsubid and listid are not limited by the scope
    assert post(emulator, "topapi/v2/department/listsubid", token, {"dept_id": 1})["errcode"] == 0
    assert post(emulator, "topapi/user/listid", token, {"dept_id": 1})["errcode"] == 0
    assert post(emulator, "topapi/v2/user/list", token,
                {"dept_id": 1, "cursor": 0, "size": 10})["errcode"] == 50004
