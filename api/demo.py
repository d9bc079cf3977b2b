"""Demo departments and users for `make demo` (passwords are printed in README)."""
from __future__ import annotations

import sqlalchemy.orm as so

from engine import identity
from engine.models import User

DEMO_PASSWORD = "demo12345"

DEPARTMENTS = {
    "center": "区政务服务中心",
    "market": "区市场监督管理局",
    "planning": "区规划和自然资源局",
    "housing": "区住房和城乡建设管理委员会",
    "ecology": "区生态环境局",
    "culture": "区文化和旅游局",
}

USERS = [
    ("admin", "系统管理员", "center", ["admin"]),
    ("designer", "流程设计员", "center", ["designer"]),
    ("supervisor", "中心督查员", "center", ["supervisor"]),
    ("window", "综合窗口 王芳", "center", ["window-clerk"]),
    ("market_clerk", "市场局审批科 李强", "market", ["approval-clerk"]),
    ("market_chief", "市场局首席事务代表 张敏", "market", ["chief-representative", "approval-clerk"]),
    ("worker", "服务任务执行器", "center", ["worker"]),
]


def seed(session: so.Session) -> int:
    """Create what is missing; running it again changes nothing."""
    for code, name in DEPARTMENTS.items():
        identity.ensure_department(session, code, name)
    session.flush()
    created = 0
    for username, display_name, department, groups in USERS:
        if session.get(User, username) is None:
            identity.create_user(session, username, DEMO_PASSWORD, display_name=display_name, groups=groups,
                                 department=department)
            created += 1
    return created
