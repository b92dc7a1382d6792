"""Helpers of the directory mirror tests: the mirror the emulator's state says the tenant
should have (within a scope), and the mirror dingsuite holds, in one comparable shape."""

from directory.models import Department, Membership, User


def _subtree(depts: dict[int, dict], roots) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in depts.values():
        if d["parent_id"] is not None:
            children.setdefault(d["parent_id"], []).append(d["id"])
    found, stack = set(), [r for r in roots if r in depts]
    while stack:
        dept = stack.pop()
        if dept not in found:
            found.add(dept)
            stack.extend(children.get(dept, ()))
    return found


def expected_mirror(world: dict, *, authed_dept=(1,), authed_user=()) -> dict:
    """{"depts": {id: fields}, "users": {userid: fields + memberships}} as a full sync of
    this scope must leave it (PROTOCOL-ISV 4.2)."""
    depts = {d["id"]: d for d in world["departments"]}
    visible = _subtree(depts, authed_dept)
    out_depts = {d: {"name": depts[d]["name"], "parent_id": depts[d]["parent_id"],
                     "order": depts[d]["order"], "managers": list(depts[d]["manager_userids"])}
                 for d in visible}
    users = {}
    for u in world["users"]:
        if u["userid"] not in authed_user and not any(d in visible for d in u["depts"]):
            continue
        orders = {int(k): v for k, v in u["orders"].items()}
        members = {}
        # Order and leader flag only for departments the mirror holds (in the scope).
        for d in u["depts"]:
            members[d] = (orders.get(d), d in u["leader_in"]) if d in visible else (None, False)
        users[u["userid"]] = {
            "unionid": u["unionid"], "name": u["name"], "title": u["position"],
            "avatar": u["avatar"], "active": u["active"], "is_admin": u["is_admin"],
            "is_boss": u["is_boss"], "is_senior": u["is_senior"], "memberships": members}
    return {"depts": out_depts, "users": users}


def actual_mirror(tenant) -> dict:
    """The live rows of the tenant's mirror, in expected_mirror's shape."""
    depts = {d.dept_id: {"name": d.name, "parent_id": d.parent_id, "order": d.order,
                         "managers": list(d.manager_userids)}
             for d in Department.objects.filter(tenant=tenant, deleted_at__isnull=True)}
    members: dict[str, dict] = {}
    for m in Membership.objects.filter(tenant=tenant):
        members.setdefault(m.userid, {})[m.dept_id] = (m.order, m.is_leader)
    users = {u.userid: {"unionid": u.unionid, "name": u.name, "title": u.title,
                        "avatar": u.avatar, "active": u.active, "is_admin": u.is_admin,
                        "is_boss": u.is_boss, "is_senior": u.is_senior,
                        "memberships": members.get(u.userid, {})}
             for u in User.objects.filter(tenant=tenant, deleted_at__isnull=True)}
    return {"depts": depts, "users": users}


def diff(expected: dict, actual: dict) -> list[str]:
    """Field-by-field differences, readable in an assertion message (at most 20)."""
    out = []
    for kind in ("depts", "users"):
        for key in sorted(set(expected[kind]) | set(actual[kind]), key=str):
            want, got = expected[kind].get(key), actual[kind].get(key)
            if want != got:
                if want is None or got is None:
                    out.append(f"{kind} {key}: expected {want!r}, mirrored {got!r}")
                else:
                    fields = [f for f in want if want[f] != got.get(f)]
                    out.append(f"{kind} {key}: " + ", ".join(
                        f"{f} expected {want[f]!r} got {got.get(f)!r}" for f in fields))
    return out[:20]
