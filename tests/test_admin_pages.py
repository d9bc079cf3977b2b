"""The administrators' pages over the Flask test client on the demo center: the catalogue with every item, an
item's record and history (what changed in each version), departments added and renamed with a clear refusal
for a bad code; only administrators get in."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import catalogue
from engine.models import AuditEntry, Department

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
