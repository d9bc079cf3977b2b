"""Demo departments, users, entry confirmations, authorizations and catalogue for `make demo` (passwords are
in README).

The catalogue (``demo_data/catalogue.json``) holds items of Qingpu district's
departments with limits and materials as Shanghai districts publish them; the
entry confirmations (every department confirms all its demo items as handled in
the center) and the authorization letters are made up for the demo.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from engine import authorizations, catalogue, entry_confirmations, identity
from engine.context import services
from engine.models import Authorization, EntryConfirmation, User

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
    ("office", "区政务办 事项清单管理 顾文", "center", ["office"]),
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
    start = today or date(2026, 1, 1)
    _confirm_entries(session, start)  # before the letters: a letter names only items entered in the center
    _authorize(session, start)
    return created


def _confirm_entries(session: so.Session, start: date) -> None:
    """An entry confirmation (入驻事项确认书) per department listing all its demo items, open-ended. A department
    whose confirmation in force already lists them all gets none (seeding again changes nothing); one whose
    catalogue grew since gets a new confirmation, which replaces its list."""
    day = max(start, services(session).today())
    for department, name in DEPARTMENTS.items():
        codes = [item.code for item in catalogue.items(session, department)]
        if not codes:
            continue
        current = entry_confirmations.current(session, department, day)
        if current is not None and set(codes) <= set(current.item_codes):
            continue
        earlier = session.scalar(sa.select(sa.func.count()).select_from(EntryConfirmation)
                                 .where(EntryConfirmation.department == department))
        number = f"青{department}入驻〔{start.year}〕{earlier + 1}号"
        signer = "区政务服务中心主任" if department == "center" else f"{name}主要负责人"
        entry_confirmations.confirm(session, department=department, document_number=number, signed_by=signer,
                                    confirmed_by="区政务办", valid_from=start, item_codes=codes, actor="demo")


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
