"""The department's written application for a catalogue adjustment on a page: the form with the item's current
record beside it, JSON text for the changes, field errors in Chinese, another department's item refused; and
the form fields that carry free-form objects (the record, the changes) as JSON both ways."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from api import create_app, state
from api.web.form_fields import fields_of, parse
from engine import identity
from engine.models import ProcessInstance, User

from .flows import variables
from .paths import FOOD_CHANGE, PERFORMANCE, seeded_app
from .test_web_pages import PASSWORD, _csrf, sign_in


@pytest.fixture
def market_head(settings, clock):
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    seeded_app(app, PASSWORD, "market_head")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in(client, "market_head")
    yield app, client
    state(app).engine.dispose()


def _application(token: str, **changes) -> dict[str, str]:
    return {"csrf_token": token, "kind": "change", "itemCode": FOOD_CHANGE,
            "changes": json.dumps({"promised_limit_days": 3}), "reason": "推行告知承诺，压缩承诺办结时限",
            "legalBasis": "青府办发〔2022〕45号", "documentNumber": "青市监审〔2026〕8号", **changes}


def test_a_section_head_applies_on_the_page_and_the_adjustment_case_opens(market_head):
    app, client = market_head
    page = client.get(f"/adjustments/new?item={FOOD_CHANGE}&kind=change").get_data(as_text=True)
    assert "&#34;promised_limit_days&#34;: " in page and "事项动态调整申请" in page  # the current record beside the form
    answer = client.post("/adjustments/new", data=_application(_csrf(page)), follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "申请已提交区政务办审核，办件编号" in text
    with state(app).sessions.begin() as session:
        case = session.scalar(sa.select(ProcessInstance).where(ProcessInstance.definition_key == "catalogue_adjustment"))
        assert case is not None and case.business_key in text
    applied = variables(state(app).sessions, case.id)
    assert applied["changes"] == {"promised_limit_days": 3} and applied["appliedBy"] == "market_head"


def test_bad_json_and_missing_fields_come_back_marked_and_nothing_opens(market_head):
    app, client = market_head
    token = _csrf(client.get("/adjustments/new").get_data(as_text=True))
    answer = client.post("/adjustments/new", data=_application(token, changes="{promised_limit_days: 3", reason=""))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="changes-error"' in text and 'id="reason-error"' in text
    assert "{promised_limit_days: 3" in text  # what was typed is kept
    other = client.post("/adjustments/new", data=_application(token, itemCode=PERFORMANCE), follow_redirects=True)
    assert 'class="flash error"' in other.get_data(as_text=True)
    with state(app).sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_only_section_heads_and_administrators_apply(market_head):
    app, client = market_head
    client.post("/sign-out", data={"csrf_token": _csrf(client.get("/inbox").get_data(as_text=True))})
    with state(app).sessions.begin() as session:
        session.get(User, "window").password_hash = identity._HASHER.hash(PASSWORD)
    sign_in(client, "window")
    assert client.get("/adjustments/new").status_code == 403


def test_free_form_objects_are_json_text_both_ways():
    schema = {"properties": {"changes": {"type": "object", "title": "变更内容"}, "note": {"type": "string"}}}
    [changes, _] = fields_of(schema, {"changes": {"fees": "不收费", "visits": 0}}, {})
    assert changes.widget == "json" and json.loads(changes.value) == {"fees": "不收费", "visits": 0}
    assert "不收费" in changes.value  # Chinese as it is, not \\u escapes
    assert parse(schema, {"changes": '{"visits": 1}', "note": ""}) == {"changes": {"visits": 1}}
    assert parse(schema, {"changes": "{visits: 1"}) == {"changes": "{visits: 1"}  # the schema refuses it by name
