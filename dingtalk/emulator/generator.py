"""Deterministic org generator: the same seed and size always give the same corp."""

import random

from .models import ROOT_DEPT_ID, Corp, Department, User

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建文斌宇浩凯健俊帆帅旭宁"
_DEPTS = ["研发部", "产品部", "市场部", "销售部", "财务部", "人事部", "行政部", "客服部", "法务部",
          "运营部", "设计部", "测试部", "采购部", "质量部", "培训部", "战略部"]
_POSITIONS = ["工程师", "高级工程师", "经理", "总监", "专员", "主管", "助理", "顾问"]
_USERS_PER_DEPT = 25
_MAX_DEPTH = 3


def generate_corp(*, seed: int, index: int, users: int, name: str | None = None,
                  corp_id: str | None = None, now_ms: int = 0, depts: int | None = None) -> Corp:
    """Build a corp of `users` people in a department tree rooted at 1 with `depts`
    departments below the root (default one per 25 users, at least 2)."""
    rng = random.Random(f"dingsuite:{seed}:{index}")
    corp_id = corp_id or "ding" + f"{rng.getrandbits(128):032x}"
    corp_name = name or f"测试企业{index}"
    corp = Corp(corp_id=corp_id, name=corp_name, full_name=corp_name + "有限公司",
                corpsecret=f"{rng.getrandbits(256):064x}", industry="互联网")
    corp.depts[ROOT_DEPT_ID] = Department(id=ROOT_DEPT_ID, name=corp_name, parent_id=None)
    _generate_depts(corp, rng, depts if depts is not None else max(2, users // _USERS_PER_DEPT))
    _generate_users(corp, rng, users, now_ms)
    _set_managers(corp)
    corp.reindex()
    return corp


def _generate_depts(corp: Corp, rng: random.Random, count: int) -> None:
    depth = {ROOT_DEPT_ID: 0}
    parents = [ROOT_DEPT_ID]
    base = 100000 + rng.randrange(900000)
    top_level = max(1, min(6, count // 2))
    for n in range(count):
        dept_id = base + n * 7 + 3
        parent = ROOT_DEPT_ID if n < top_level else rng.choice(parents)
        label = _DEPTS[n % len(_DEPTS)]
        suffix = "" if n < len(_DEPTS) else str(n // len(_DEPTS))
        corp.depts[dept_id] = Department(
            id=dept_id, name=f"{label}{suffix}", parent_id=parent, order=n,
            create_dept_group=rng.random() < 0.5, auto_add_user=rng.random() < 0.5,
            source_identifier=str(n))
        depth[dept_id] = depth[parent] + 1
        if depth[dept_id] < _MAX_DEPTH:
            parents.append(dept_id)
    corp.next_dept_id = base + count * 7 + 10


def _generate_users(corp: Corp, rng: random.Random, count: int, now_ms: int) -> None:
    dept_ids = [d for d in corp.depts if d != ROOT_DEPT_ID]
    prefix = f"{rng.getrandbits(16):04x}"
    day_ms = 86_400_000
    for i in range(count):
        userid = f"u{prefix}{i:05d}"
        if i < 2 or not dept_ids:
            depts = [ROOT_DEPT_ID]
        else:
            depts = [dept_ids[i % len(dept_ids)]]
            if rng.random() < 0.1:
                extra = rng.choice(dept_ids)
                if extra not in depts:
                    depts.append(extra)
        user = User(
            userid=userid, unionid=f"{rng.getrandbits(96):024x}iE", depts=depts,
            name=rng.choice(_SURNAMES) + rng.choice(_GIVEN) + (rng.choice(_GIVEN) if i % 2 else ""),
            orders={d: rng.randrange(1, 1_000_000) for d in depts},
            # Every department's first member leads it, and every 25th user leads too.
            leader_in=[depts[0]] if i % _USERS_PER_DEPT == 2 or 2 <= i < len(dept_ids) + 2
            else [],
            active=rng.random() >= 0.05, is_boss=i == 0, is_admin=i < 2,
            position=rng.choice(_POSITIONS), jobnumber=f"{i + 1:06d}",
            avatar=f"https://static.dingtalk.example/media/{userid}.jpg",
            mobile=f"1{rng.randrange(30, 99)}{rng.randrange(10**8):08d}",
            email=f"{userid}@example.com", work_place="杭州", org_email=f"{userid}@corp.example",
            hired_date=now_ms - rng.randrange(1, 3000) * day_ms,
            entry_ms=now_ms - (count - i) * 60_000,
        )
        corp.users[userid] = user


def _set_managers(corp: Corp) -> None:
    """A department's managers are its leaders (deptManagerUseridList, in userid order)."""
    for user in corp.users.values():
        for dept_id in user.leader_in:
            corp.depts[dept_id].manager_userids.append(user.userid)
