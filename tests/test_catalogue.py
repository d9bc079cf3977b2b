"""Catalogue items are checked when saved: every problem of a definition is reported at once."""
from __future__ import annotations

import pytest

from api.demo import CATALOGUE_FILE
from engine import catalogue, identity
from engine.errors import InvalidInput
from engine.settings import Settings

BASE = {"code": "T-1", "name": "测试事项", "department": "market", "item_type": "行政许可", "case_type": "2",
        "legal_limit_days": 20, "promised_limit_days": 10, "process_key": "window_intake",
        "form_key": "application_enterprise", "details": {"materials": [{"code": "a", "name": "申请书"}]}}


@pytest.fixture
def session(sessions):
    with sessions.begin() as session:
        identity.ensure_department(session, "market", "区市场监督管理局")
        yield session


@pytest.mark.parametrize("change, problem", [
    ({"promised_limit_days": 25}, "the promised limit (25) may not exceed the legal limit (20)"),
    ({"case_type": "1", "promised_limit_days": 3}, "an instant item (即办件) has promised limit 0"),
    ({"site_survey": True, "site_survey_suspends_clock": True}, "names the rule that says so"),
    ({"details": {"materials": [{"code": "a"}]}}, "every material needs a 'code' and a 'name'"),
    ({"department": "nowhere", "case_type": "7"}, "must be one of 1, 2, 9"),
])
def test_an_invalid_item_is_refused_with_its_problems(session, change, problem):
    with pytest.raises(InvalidInput) as refused:
        catalogue.put_item(session, {**BASE, **change}, actor="admin")
    assert problem in str(refused.value)


def test_saving_an_unchanged_item_keeps_its_version_and_a_change_adds_one(session):
    first = catalogue.put_item(session, BASE, actor="admin")
    assert catalogue.put_item(session, dict(BASE), actor="admin").id == first.id
    second = catalogue.put_item(session, {**BASE, "promised_limit_days": 5}, actor="admin")
    assert (first.version, second.version, first.current, second.current) == (1, 2, False, True)


def test_the_demo_catalogue_has_at_least_twelve_items_of_five_departments(session):
    for code in ("planning", "housing", "ecology", "culture", "center"):
        identity.ensure_department(session, code, code)
    session.flush()
    loaded = catalogue.load_file(session, CATALOGUE_FILE, actor="demo")
    singles = [i for i in loaded if i.item_type != "一件事"]
    assert len(singles) >= 12 and len({i.department for i in singles}) == 5
    assert all(i.promised_limit_days <= i.legal_limit_days for i in loaded)


def test_the_default_rating_must_be_one_of_the_five_levels():
    with pytest.raises(ValueError, match="ONEWINDOW_RATING_DEFAULT must be one of"):
        Settings.from_env({"ONEWINDOW_RATING_DEFAULT": "好评"})
