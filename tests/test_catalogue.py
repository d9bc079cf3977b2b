"""Catalogue items are checked when saved: every problem of a definition is reported at once, each with
its field, a code and values; definitions are kept in one canonical form, so saving the same one twice
(as JSON, from a sheet, with names or codes) writes one version."""
from __future__ import annotations

from datetime import date

import pytest

from api.demo import CATALOGUE_FILE
from engine import catalogue, codesets, identity
from engine.errors import InvalidInput
from engine.settings import Settings

BASE = {"code": "T-1", "name": "测试事项", "department": "market", "item_type": "行政许可", "case_type": "2",
        "legal_limit_days": 20, "promised_limit_days": 10, "process_key": "window_intake",
        "form_key": "application_enterprise", "details": {"materials": [{"code": "a", "name": "申请书"}]}}
MATERIAL = {"code": "a", "name": "申请书", "form": "原件", "copies": 1, "mandatory": True, "shared": False}


@pytest.fixture
def session(sessions):
    with sessions.begin() as session:
        identity.ensure_department(session, "market", "区市场监督管理局")
        yield session


def _details(**fields):
    return {"details": {"materials": [MATERIAL], **fields}}


@pytest.mark.parametrize("change, field, code, message", [
    ({"promised_limit_days": 25}, "promised_limit_days", "item.promised-over-legal",
     "the promised limit (25) may not exceed the legal limit (20)"),
    ({"case_type": "1", "promised_limit_days": 3}, "promised_limit_days", "item.instant-not-zero",
     "an instant item (即办件) has promised limit 0"),
    ({"case_type": "7"}, "case_type", "item.not-in-code-set", "must be one of 1 即办件, 2 承诺件, 9 其他"),
    ({"item_type": "行政处罚"}, "item_type", "item.not-in-code-set", "must be one of 01 行政许可, 07 行政确认"),
    ({"status": "closed"}, "status", "item.not-in-code-set", "must be one of active 在用"),
    ({"handling": "fast"}, "handling", "item.not-in-code-set", "must be one of standard 普通件, joint 联办件"),
    ({"department": "nowhere"}, "department", "item.unknown-department", "department 'nowhere' does not exist"),
    ({"form_key": "no_such_form"}, "form_key", "item.unknown-form", "there is no application form 'no_such_form'"),
    ({"legal_limit_days": -1}, "legal_limit_days", "item.bad-number", "a whole number from 0 to 3650"),
    ({"promised_limit_days": "ten"}, "promised_limit_days", "item.bad-number", "got 'ten'"),
    ({"name": ""}, "name", "item.required", "'name' is required"),
    ({"code": "T 1"}, "code", "item.bad-code-text", "may not contain spaces"),
    ({"accepted_on_receipt": "maybe"}, "accepted_on_receipt", "item.bad-yes-no", "must be yes or no"),
    ({"effective_from": "2026-03-01", "effective_to": "2026-02-01"}, "effective_to", "item.dates-reversed",
     "stops being effective (2026-02-01) before it starts (2026-03-01)"),
    ({"effective_from": "1 March"}, "effective_from", "item.bad-date", "must be a date like 2026-01-01"),
    ({"site_survey": True, "site_survey_suspends_clock": True}, "details.site_survey_basis",
     "item.survey-basis-needed", "names the rule that says so"),
    ({"site_survey_suspends_clock": True, **_details(site_survey_basis="某规定")}, "site_survey_suspends_clock",
     "item.survey-clock-without-survey", "needs 'site_survey'"),
    ({"colour": "red"}, "colour", "item.unknown-field", "'colour' is not a field of a catalogue item"),
    (_details(fee="不收费"), "details.fee", "item.unknown-field", "'details.fee' is not a field"),
    (_details(online_depth="全网通办"), "details.online_depth", "item.not-in-code-set", "4 全程网办"),
    (_details(channels=["综合窗口", "微信"]), "details.channels", "item.not-in-code-set", "got '微信'"),
    (_details(visits=11), "details.visits", "item.bad-number", "from 0 to 10"),
    (_details(implementing_body_credit_code="1234"), "details.implementing_body_credit_code",
     "item.bad-credit-code", "18 digits or capital letters"),
    (_details(bundle_items=["A", "B"]), "details.bundle_items", "item.members-outside-bundle", "only a 一件事"),
    ({"item_type": "一件事", **_details(bundle_items=["A"])}, "details.bundle_items", "item.bundle-too-small",
     "at least two member items, got 1"),
    ({"details": {"materials": [{"code": "a"}]}}, "details.materials[1].name", "material.required",
     "every material needs a 'code' and a 'name': material 1 has no 'name'"),
    ({"details": {"materials": [{**MATERIAL, "copies": 0}]}}, "details.materials[1].copies", "item.bad-number",
     "from 1 to 99"),
    ({"details": {"materials": [{**MATERIAL, "form": "传真"}]}}, "details.materials[1].form",
     "item.not-in-code-set", "got '传真'"),
    ({"details": {"materials": [{**MATERIAL, "mandatory": "sometimes"}]}}, "details.materials[1].mandatory",
     "item.bad-yes-no", "got 'sometimes'"),
    ({"details": {"materials": [{**MATERIAL, "shared": "是", "colour": 1}]}}, "details.materials[1].colour",
     "material.unknown-field", "'colour' is not a field of a material"),
    ({"details": {"materials": [MATERIAL, {**MATERIAL, "name": "另一份"}]}}, "details.materials[2].code",
     "material.duplicate-code", "'a' is listed twice"),
    ({"details": {"materials": "申请书"}}, "details.materials", "item.not-list", "must be a list"),
], ids=lambda v: v if isinstance(v, str) and v.startswith(("item.", "material.")) else None)
def test_an_invalid_item_is_refused_with_each_problem_by_field_and_code(session, change, field, code, message):
    with pytest.raises(InvalidInput) as refused:
        catalogue.put_item(session, {**BASE, **change}, actor="admin")
    assert refused.value.code == "item.invalid" and refused.value.params["item"] == {**BASE, **change}["code"]
    problems = {(p["field"], p["code"]): p for p in refused.value.params["problems"]}
    assert (field, code) in problems, problems
    assert message in problems[(field, code)]["message"] and message in str(refused.value)
    assert catalogue.current_version(session, "T-1") is None


def test_every_problem_is_listed_at_once_with_values_for_translation(session):
    with pytest.raises(InvalidInput) as refused:
        catalogue.put_item(session, {**BASE, "department": "nowhere", "case_type": "7", "legal_limit_days": 3,
                                     "promised_limit_days": 5}, actor="admin")
    problems = {p["code"]: p["params"] for p in refused.value.params["problems"]}
    assert problems == {"item.not-in-code-set": {"field": "case_type", "value": "7",
                                                 "allowed": codesets.CASE_TYPES.describe()},
                        "item.unknown-department": {"department": "nowhere"},
                        "item.promised-over-legal": {"promised": 5, "legal": 3}}


def test_names_and_codes_are_both_read_and_stored_in_one_form(session):
    item = catalogue.put_item(session, {
        **BASE, "case_type": "即办件", "promised_limit_days": 0, "item_type": "07", "accepted_on_receipt": "是",
        "effective_from": "2026-01-01", "details": {
            "materials": [{"code": "a", "name": "申请书", "form": "电子证照", "shared": "是"}],
            "channels": ["随申办", "1"], "online_depth": "全程网办", "handling_forms": ["网上办理", "窗口办理"],
            "visits": "0", "place": "  ", "fees": "不收费"}}, actor="admin")
    assert (item.case_type, item.item_type, item.accepted_on_receipt, item.effective_from) == (
        "1", "行政确认", True, date(2026, 1, 1))
    assert item.details == {"materials": [{"code": "a", "name": "申请书", "form": "5", "copies": 1, "mandatory": True,
                                           "shared": True}],
                            "channels": ["1", "3"], "online_depth": "4", "handling_forms": ["1", "2"], "visits": 0,
                            "fees": "不收费"}  # an empty place is no place
    assert catalogue.case_variables(item)["instant"] is True
    again = catalogue.put_item(session, catalogue.record(item), actor="admin")
    assert (again.id, again.version) == (item.id, 1)


def test_saving_an_unchanged_item_keeps_its_version_and_a_change_adds_one(session):
    first = catalogue.put_item(session, BASE, actor="admin")
    assert catalogue.put_item(session, dict(BASE), actor="admin").id == first.id
    second = catalogue.put_item(session, {**BASE, "promised_limit_days": 5}, actor="admin")
    assert (first.version, second.version, first.current, second.current) == (1, 2, False, True)
    assert [i.promised_limit_days for i in catalogue.versions(session, "T-1")] == [10, 5]


def test_a_process_not_yet_deployed_is_a_warning_not_a_refusal(session):
    checked = catalogue.check_item(session, BASE)
    assert checked.problems == [] and [w.code for w in checked.warnings] == ["item.process-not-deployed"]
    assert catalogue.put_item(session, BASE, actor="admin").version == 1


def test_an_item_takes_applications_only_between_its_effective_dates(session):
    # the test clock says 2026-01-05 in Shanghai
    catalogue.put_item(session, {**BASE, "effective_from": "2026-01-06"}, actor="admin")
    with pytest.raises(InvalidInput) as early:
        catalogue.active_item(session, "T-1")
    assert (early.value.code, early.value.params["date"]) == ("item.not-yet-effective", "2026-01-06")
    catalogue.put_item(session, {**BASE, "effective_from": "2025-01-01", "effective_to": "2026-01-04"}, actor="a")
    with pytest.raises(InvalidInput) as late:
        catalogue.active_item(session, "T-1")
    assert (late.value.code, late.value.params["date"]) == ("item.no-longer-effective", "2026-01-04")
    catalogue.put_item(session, {**BASE, "effective_from": "2026-01-05", "effective_to": "2026-01-05"}, actor="a")
    assert catalogue.active_item(session, "T-1").version == 3  # first and last days count


def test_the_demo_catalogue_has_at_least_twelve_items_of_five_departments(session):
    for code in ("planning", "housing", "ecology", "culture", "center"):
        identity.ensure_department(session, code, code)
    session.flush()
    loaded = catalogue.load_file(session, CATALOGUE_FILE, actor="demo")
    singles = [i for i in loaded if i.item_type != "一件事"]
    assert len(singles) >= 12 and len({i.department for i in singles}) == 5
    assert all(i.promised_limit_days <= i.legal_limit_days for i in loaded)
    assert [i.version for i in catalogue.load_file(session, CATALOGUE_FILE, actor="demo")] == [1] * len(loaded)


def test_the_default_rating_must_be_one_of_the_five_levels():
    with pytest.raises(ValueError, match="ONEWINDOW_RATING_DEFAULT must be one of"):
        Settings.from_env({"ONEWINDOW_RATING_DEFAULT": "好评"})


def test_code_sets_read_codes_and_names_and_number_ratings_worst_first():
    assert codesets.CASE_TYPES.code_of("即办件") == codesets.CASE_TYPES.code_of(" 1 ") == "1"
    assert codesets.CASE_TYPES.code_of("急办件") is None
    assert [codesets.rating_code(n) for n in ("非常不满意", "非常满意")] == ["1", "5"]
    assert codesets.ONLINE_DEPTHS.name("4") == "全程网办" and codesets.ONLINE_DEPTHS.name("8") == "8"
    with pytest.raises(ValueError, match="has a name twice"):
        codesets.CodeSet("x", {"1": "甲", "2": "甲"})
