"""Demo departments, users, authorizations and catalogue for `make demo` (passwords are in README).

The catalogue (``demo_data/catalogue.json``) holds items of Qingpu district's
departments with limits and materials as Shanghai districts publish them; the
authorization letters are made up for the demo.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from engine import authorizations, catalogue, identity
from engine.models import Authorization, User

DEMO_PASSWORD = "demo12345"
CATALOGUE_FILE = Path(__file__).parent / "demo_data" / "catalogue.json"

DEPARTMENTS = {
    "center": "区政务服务中心",
    "market": "区市场监督管理局",
    "planning": "区规划和自然资源局",
    "housing": "区建设管理委员会",
    "ecology": "区生态环境局",
    "culture": "区文化和旅游局",
}
#: person names per department: approval clerk, chief affairs representative, section head, specialist, leader
STAFF = {
    "market": ("李强", "张敏", "陈静", "周涛", "钱卫国"),
    "planning": ("王磊", "刘洋", "赵丽", "孙浩", "冯建华"),
    "housing": ("杨帆", "黄蕾", "吴刚", "徐峰", "韩志明"),
    "ecology": ("朱琳", "胡军", "郭红", "何平", "曹立新"),
    "culture": ("高翔", "林芳", "罗斌", "梁爽", "严文涛"),
}

USERS = [
    ("admin", "系统管理员", "center", ["admin"]),
    ("designer", "流程设计员", "center", ["designer"]),
    ("supervisor", "中心督查员 沈洁", "center", ["supervisor"]),
    ("window", "综合窗口 王芳", "center", ["window-clerk"]),
    ("window2", "综合窗口 马骏", "center", ["window-clerk"]),
    ("portal", "一网通办门户", "center", ["portal"]),
    ("worker", "服务任务执行器", "center", ["worker"]),
]
for _dept, (_clerk, _chief, _head, _specialist, _leader) in STAFF.items():
    _name = DEPARTMENTS[_dept].removeprefix("区")
    USERS += [
        (f"{_dept}_clerk", f"{_name}审批服务科 {_clerk}", _dept, ["approval-clerk"]),
        (f"{_dept}_chief", f"{_name}首席事务代表 {_chief}", _dept, ["chief-representative"]),
        (f"{_dept}_head", f"{_name}审批服务科负责人 {_head}", _dept, ["section-head"]),
        (f"{_dept}_specialist", f"{_name}专业科室 {_specialist}", _dept, ["specialist"]),
        (f"{_dept}_specialist2", f"{_name}专业科室 第二核查人", _dept, ["specialist"]),
        (f"{_dept}_leader", f"{_name}分管领导 {_leader}", _dept, ["department-leader"]),
    ]

#: the planning bureau delegates only part of its items to its representative (授权清单)
DELEGATED_ITEMS = {"planning": ["310118-GHZY-001"]}


def seed(session: so.Session, today: date | None = None, password: str | None = DEMO_PASSWORD) -> int:
    """Create what is missing; running it again changes nothing. (Tests pass ``password=None``:
    argon2 hashing is deliberately slow.)"""
    for code, name in DEPARTMENTS.items():
        identity.ensure_department(session, code, name)
    session.flush()
    created = 0
    for username, display_name, department, groups in USERS:
        if session.get(User, username) is None:
            identity.create_user(session, username, password, display_name=display_name, groups=groups,
                                 department=department)
            created += 1
    session.flush()
    catalogue.load_file(session, CATALOGUE_FILE, actor="demo")
    _authorize(session, today or date(2026, 1, 1))
    return created


def _authorize(session: so.Session, start: date) -> None:
    """Letters for each representative and each department leader, and window letters for the window clerks."""
    if session.scalar(sa.select(sa.func.count()).select_from(Authorization)):
        return
    valid_to = date(start.year + 2, 12, 31)
    for department, name in DEPARTMENTS.items():
        if department == "center":
            continue
        authorizations.grant(session, username=f"{department}_chief", department=department,
                             kind=authorizations.CHIEF, powers=["decide", "pre-review", "seal"],
                             item_codes=DELEGATED_ITEMS.get(department), valid_from=start, valid_to=valid_to,
                             signed_by=f"{name}主要负责人", document_number=f"青{department}授〔{start.year}〕1号",
                             actor="demo")
        authorizations.grant(session, username=f"{department}_leader", department=department,
                             kind=authorizations.LEADER, powers=["decide", "seal"], valid_from=start,
                             valid_to=valid_to, signed_by=f"{name}主要负责人",
                             document_number=f"青{department}授〔{start.year}〕2号", actor="demo")
    for clerk in ("window", "window2"):
        authorizations.grant(session, username=clerk, department="center", kind=authorizations.WINDOW,
                             powers=["receive", "issue", "consult"], valid_from=start, valid_to=valid_to,
                             signed_by="区政务服务中心主任", actor="demo")
