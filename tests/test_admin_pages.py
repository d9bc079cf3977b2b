"""The administrators' pages over the Flask test client on the demo center: the catalogue with every item, an
item's record and history (what changed in each version), departments added and renamed with a clear refusal
for a bad code, authorization letters and entry confirmations recorded and revoked (refusals said in Chinese);
only administrators get in."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import catalogue, entry_confirmations
from engine.context import services
from engine.models import AuditEntry, Authorization, Department, EntryConfirmation

from .paths import seeded_app
from .test_web_pages import PASSWORD, _csrf, sign_in


@pytest.fixture
def admin(settings, clock):
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    seeded_app(app, PASSWORD, "admin", "window")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in(client, "admin")
    yield app, client
    state(app).engine.dispose()


def _an_item(app) -> catalogue.CatalogueItem:
    with state(app).sessions.begin() as session:
        return catalogue.items(session)[0]


def test_the_catalogue_lists_every_current_item_and_filters_by_department(admin):
    app, client = admin
    with state(app).sessions.begin() as session:
        everything = catalogue.items(session)
        market = catalogue.items(session, "market")
    page = client.get("/admin/items").get_data(as_text=True)
    assert len(re.findall(r'href="/admin/items/[^"]+"', page)) == len(everything)
    for item in everything:
        assert item.name in page
    filtered = client.get("/admin/items?department=market").get_data(as_text=True)
    assert len(re.findall(r'href="/admin/items/[^"]+"', filtered)) == len(market) > 0


def test_an_item_shows_its_record_and_what_each_version_changed(admin):
    app, client = admin
    item = _an_item(app)
    with state(app).sessions.begin() as session:
        record = catalogue.record(item)
        record["promised_limit_days"] = max(0, item.promised_limit_days - 1) if item.case_type != "1" else 0
        record["details"] = {**record["details"], "fees": "不收费（测试修改）"}
        catalogue.put_item(session, record, actor="admin")
    page = client.get(f"/admin/items/{item.code}").get_data(as_text=True)
    assert item.name in page and "不收费（测试修改）" in page
    version_two = re.search(r'<tr id="version-2">.*?</tr>', page, re.S).group(0)
    assert 'data-field="fees"' in version_two
    changed_limit = record["promised_limit_days"] != item.promised_limit_days
    assert ('data-field="promised_limit_days"' in version_two) == changed_limit
    assert '<tr id="version-1">' in page
    assert client.get("/admin/items/NO-SUCH-ITEM").status_code == 404


def test_departments_are_added_and_renamed_and_a_bad_code_is_refused(admin):
    app, client = admin
    page = client.get("/admin/departments").get_data(as_text=True)
    answer = client.post("/admin/departments", data={"csrf_token": _csrf(page), "code": "civil", "name": "区民政局"},
                         follow_redirects=True)
    assert "区民政局" in answer.get_data(as_text=True)
    client.post("/admin/departments", data={"csrf_token": _csrf(page), "code": "civil", "name": "青浦区民政局"})
    bad = client.post("/admin/departments", data={"csrf_token": _csrf(page), "code": "Civil Affairs", "name": "x"},
                      follow_redirects=True).get_data(as_text=True)
    assert 'class="flash error"' in bad
    with state(app).sessions.begin() as session:
        assert session.get(Department, "civil").name == "青浦区民政局"
        assert session.get(Department, "Civil Affairs") is None
        saved = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "department-saved",
                                                            AuditEntry.entity_id == "civil")).all()
        assert [e.details["before"] for e in saved] == [None, "区民政局"]


def test_only_administrators_get_in(admin):
    app, client = admin
    client.post("/sign-out", data={"csrf_token": _csrf(client.get("/inbox").get_data(as_text=True))})
    sign_in(client, "window")
    assert client.get("/admin/items").status_code == 403
    assert client.get("/admin/departments").status_code == 403
    assert client.get("/admin/authorizations").status_code == 403
    assert client.get("/admin/entry-confirmations").status_code == 403
    token = _csrf(client.get("/inbox").get_data(as_text=True))
    assert client.post("/admin/authorizations/1/revoke", data={"csrf_token": token}).status_code == 403


def test_a_letter_is_recorded_listed_and_revoked_and_a_bad_one_is_refused_with_its_reason(admin):
    app, client = admin
    page = client.get("/admin/authorizations").get_data(as_text=True)
    letter = {"csrf_token": _csrf(page), "username": "market_chief", "department": "market", "kind": "chief-representative",
              "powers": ["decide", "seal"], "items": "", "valid_from": "2026-01-01", "valid_to": "2026-12-31",
              "signed_by": "区市场监督管理局局长", "document_number": "青市监授〔2026〕99号"}
    answer = client.post("/admin/authorizations", data=letter, follow_redirects=True).get_data(as_text=True)
    assert "青市监授〔2026〕99号" in answer and "授权书已登记。" in answer
    with state(app).sessions.begin() as session:
        row = session.scalar(sa.select(Authorization).where(Authorization.document_number == "青市监授〔2026〕99号"))
        assert (row.username, row.powers, row.item_codes) == ("market_chief", ["decide", "seal"], None)
        letter_id = row.id
    assert re.search(rf'<tr id="letter-{letter_id}" data-state="in-force">', answer)

    reversed_dates = {**letter, "valid_from": "2026-12-31", "valid_to": "2026-01-01", "document_number": "x"}
    refused = client.post("/admin/authorizations", data=reversed_dates, follow_redirects=True).get_data(as_text=True)
    assert 'class="flash error"' in refused and "2026-01-01" in refused
    no_date = {**letter, "valid_from": "soon", "document_number": "y"}
    refused = client.post("/admin/authorizations", data=no_date, follow_redirects=True).get_data(as_text=True)
    assert "“soon”不是日期，请按 2026-11-25 的格式填写。" in refused

    revoked = client.post(f"/admin/authorizations/{letter_id}/revoke", data={"csrf_token": _csrf(answer)},
                          follow_redirects=True).get_data(as_text=True)
    assert re.search(rf'<tr id="letter-{letter_id}" data-state="revoked">', revoked)
    with state(app).sessions.begin() as session:
        assert session.get(Authorization, letter_id).revoked_by == "admin"
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "authorization-revoked", AuditEntry.entity_id == str(letter_id))) == 1


def test_an_entry_confirmation_is_recorded_replaces_the_list_in_force_and_is_revoked(admin):
    app, client = admin
    with state(app).sessions.begin() as session:
        codes = [i.code for i in catalogue.items(session, "market")]
        today = services(session).today().isoformat()
    page = client.get("/admin/entry-confirmations").get_data(as_text=True)
    form = {"csrf_token": _csrf(page), "department": "market", "document_number": "青市监入驻〔2027〕1号",
            "items": "、".join(codes), "valid_from": today, "valid_to": "",
            "signed_by": "区市场监督管理局局长", "confirmed_by": "区政务办"}
    answer = client.post("/admin/entry-confirmations", data=form, follow_redirects=True).get_data(as_text=True)
    assert "入驻事项确认书已登记。" in answer
    with state(app).sessions.begin() as session:
        row = session.scalar(sa.select(EntryConfirmation).where(
            EntryConfirmation.document_number == "青市监入驻〔2027〕1号"))
        assert sorted(row.item_codes) == sorted(codes) and row.valid_to is None
        in_force = entry_confirmations.current(session, "market", services(session).today())
        assert in_force.id == row.id
    elsewhere = {**form, "document_number": "青市监入驻〔2027〕2号", "items": "310118-WHLY-002"}
    refused = client.post("/admin/entry-confirmations", data=elsewhere, follow_redirects=True).get_data(as_text=True)
    assert 'class="flash error"' in refused
    client.post(f"/admin/entry-confirmations/{row.id}/revoke", data={"csrf_token": _csrf(answer)})
    with state(app).sessions.begin() as session:
        assert session.get(EntryConfirmation, row.id).revoked_at is not None
