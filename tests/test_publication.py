"""One-source publication (同源发布, rule 14): the public API, the service-guide pages and the window's receive
page show one record (``engine.publication``); ETags follow RFC 9110 and change with the catalogue; no sign-in."""
from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from api import state
from engine import catalogue, publication
from engine.catalogue_fields import FIELDS
from engine.settings import PROJECT_ROOT

from .paths import FOOD_LICENCE, RESTAURANT_BUNDLE, SOLE_TRADER, seeded_app

PASSWORD = "window-pass-1"
CACHING = "public, max-age=60"


@pytest.fixture
def center_app(app):
    """The demo center (departments, catalogue, processes) and the window clerk able to sign in."""
    return seeded_app(app, PASSWORD, "window")


@pytest.fixture
def visitor(center_app):
    """A client with no credentials and no cookie: anyone on the internet, or a terminal."""
    return center_app.test_client()


def published(app, code: str) -> publication.Guide:
    with state(app).sessions.begin() as session:
        return publication.guide(session, code)


def change_item(app, code: str, **changes: Any) -> None:
    """A catalogue change as the 区政务办 saves it: a new version of the item."""
    with state(app).sessions.begin() as session:
        data = catalogue.record(catalogue.current_version(session, code))
        data.update(changes)
        catalogue.put_item(session, data, actor="test")


def tag_of(response) -> str:
    return response.headers["ETag"].strip('"')


def sign_in_window(client) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"username": "window", "password": PASSWORD, **({"csrf_token": token.group(1)} if token else {})}
    assert client.post("/sign-in", data=data).status_code == 302


def window_materials(page: str) -> list[tuple[str, str, bool, bool]]:
    """The materials the receive page lists: (code, name, mandatory, shared) per upload field."""
    found = re.findall(r'<label for="file:([^"]+)">([^<]+?)\s*(<span class="req">\*</span>)?\s*'
                       r'(<span class="tag shared">[^<]*</span>)?\s*</label>', page)
    return [(html.unescape(code), html.unescape(name).strip(), bool(req), bool(shared))
            for code, name, req, shared in found]


def test_every_public_field_of_the_catalogue_is_published():
    """A field added to the catalogue must be published or named internal: none is left out silently."""
    names = {f.name for f in FIELDS}
    assert names - publication.INTERNAL - set(publication.FIELD_KEYS) == set()
    assert not set(publication.FIELD_KEYS) & publication.INTERNAL


def test_the_public_api_returns_what_the_window_page_shows_the_clerk(center_app, visitor, monkeypatch):
    answer = visitor.get(f"/public/api/items/{SOLE_TRADER}")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    body = answer.get_json()
    shown = published(center_app, SOLE_TRADER)
    assert body == shown.record and tag_of(answer) == shown.revision == body["revision"]
    # every public field, with the code sets' Chinese names, and nothing of the center's inner workings
    for key in set(publication.FIELD_KEYS.values()) | {"implementationCode", "revision", "acceptsApplications"}:
        assert key in body, key
    assert "processKey" not in body and "writtenReviewOnly" not in body
    assert body["implementationCode"] == body["code"] == SOLE_TRADER
    assert body["caseType"] == {"code": "1", "name": "即办件"} and body["instant"] and body["acceptedOnReceipt"]
    assert body["itemType"] == {"code": "07", "name": "行政确认"}
    assert body["department"] == {"code": "market", "name": "区市场监督管理局"}
    assert (body["legalLimitDays"], body["promisedLimitDays"]) == (15, 0)
    assert body["onlineDepth"] == {"code": "4", "name": "全程网办"} and body["visits"] == 0
    assert [c["name"] for c in body["channels"]] == ["综合窗口", "一网通办", "随申办"]
    assert body["fees"] == "不收费" and body["place"] == "青浦区政务服务中心综合窗口"
    assert body["form"]["key"] == "application_individual" and body["form"]["title"]
    assert body["materials"][1] == {"code": "id-card", "name": "经营者身份证明", "copies": 1, "mandatory": True,
                                    "form": {"code": "5", "name": "电子证照"}, "shared": True}

    # the window's receive page builds what it shows from the same engine function, and lists the same materials
    calls: list[publication.Guide] = []
    original = publication.guide_of

    def watched(session, item):
        calls.append(original(session, item))
        return calls[-1]

    monkeypatch.setattr(publication, "guide_of", watched)
    clerk = center_app.test_client()
    sign_in_window(clerk)
    page = clerk.get(f"/cases/new/{SOLE_TRADER}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert [c.record for c in calls] == [body]
    assert window_materials(text) == [(m["code"], m["name"], m["mandatory"], m["shared"]) for m in body["materials"]]
    assert f"<h1>{body['name']}</h1>" in text and f"<h2>{body['form']['title']}</h2>" in text


def test_etags_revalidate_and_a_catalogue_change_gives_a_new_tag(center_app, visitor):
    url = f"/public/api/items/{FOOD_LICENCE}"
    first, again = visitor.get(url), visitor.get(url)
    tag = tag_of(first)
    assert tag_of(again) == tag and first.headers["Cache-Control"] == CACHING
    assert first.headers["ETag"] == f'"{tag}"'  # strong
    for header in (f'"{tag}"', f'"other", W/"{tag}"', f'W/"{tag}"', "*", f'"a,b", "{tag}"'):
        unchanged = visitor.get(url, headers={"If-None-Match": header})
        assert unchanged.status_code == 304, header
        assert unchanged.data == b"" and unchanged.headers["ETag"] == f'"{tag}"'
        assert unchanged.headers["Cache-Control"] == CACHING
    for header in ('"other"', "W/", "garbage", ""):
        assert visitor.get(url, headers={"If-None-Match": header}).status_code == 200, header
    # If-Match compares strongly: a weak or different tag is a precondition that fails
    assert visitor.get(url, headers={"If-Match": f'"{tag}"'}).status_code == 200
    assert visitor.get(url, headers={"If-Match": f'W/"{tag}"'}).status_code == 412
    assert visitor.get(url, headers={"If-Match": '"other"'}).status_code == 412
    listing = visitor.get("/public/api/items")
    page = visitor.get(f"/guide/{FOOD_LICENCE}")
    assert visitor.get(f"/guide/{FOOD_LICENCE}", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304

    change_item(center_app, FOOD_LICENCE, promised_limit_days=3)

    changed = visitor.get(url, headers={"If-None-Match": f'"{tag}"'})
    assert changed.status_code == 200 and tag_of(changed) != tag
    assert changed.get_json()["promisedLimitDays"] == 3 and changed.get_json()["version"] == 2
    assert tag_of(changed) == published(center_app, FOOD_LICENCE).revision
    assert visitor.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304
    assert visitor.get("/public/api/items", headers={"If-None-Match": listing.headers["ETag"]}).status_code == 200
    new_page = visitor.get(f"/guide/{FOOD_LICENCE}", headers={"If-None-Match": page.headers["ETag"]})
    assert new_page.status_code == 200 and 'data-days="3"' in new_page.get_data(as_text=True)


def codes(answer) -> list[str]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [entry["code"] for entry in answer.get_json()]


def test_the_list_filters_and_keeps_a_stable_order(center_app, visitor):
    everything = visitor.get("/public/api/items").get_json()
    assert len(everything) == 16
    assert [(e["department"]["code"], e["code"]) for e in everything] == sorted((e["department"]["code"], e["code"])
                                                                                for e in everything)
    entry = next(e for e in everything if e["code"] == FOOD_LICENCE)
    assert entry == published(center_app, FOOD_LICENCE).summary()
    assert set(entry) == set(publication.SUMMARY_KEYS)
    market = codes(visitor.get("/public/api/items?department=market"))
    assert market == ["310118-SCJ-001", "310118-SCJ-002", "310118-SCJ-003", "310118-SCJ-004", "310118-SCJ-005"]
    assert codes(visitor.get("/public/api/items?q=个体工商户")) == ["310118-SCJ-001", "310118-SCJ-005"]
    assert codes(visitor.get("/public/api/items?q=scj-001")) == ["310118-SCJ-001"]  # ignoring case
    assert codes(visitor.get("/public/api/items?q=生态环境局")) == ["310118-STHJ-001", "310118-STHJ-002"]
    assert codes(visitor.get("/public/api/items?type=YJS")) == codes(visitor.get("/public/api/items?type=一件事")) \
        == [RESTAURANT_BUNDLE]
    assert codes(visitor.get("/public/api/items?department=culture&type=行政确认")) == []
    assert codes(visitor.get("/public/api/items?department=nowhere")) == []
    bad = visitor.get("/public/api/items?type=行政处罚")
    assert bad.status_code == 400 and bad.get_json()["code"] == "item.bad-type"
    assert bad.get_json()["type"] == "InvalidRequestException" and "行政处罚" in bad.get_json()["messageZh"]
    departments = visitor.get("/public/api/departments")
    assert departments.status_code == 200 and departments.headers["Cache-Control"] == CACHING
    assert {"code": "market", "name": "区市场监督管理局", "items": 5} in departments.get_json()
    bundle = published(center_app, RESTAURANT_BUNDLE).record
    assert [m["name"] for m in bundle["bundleItems"]] == ["食品经营许可（新办）", "城镇污水排入排水管网许可证核发",
                                                          "排污许可证核发（简化管理）"]

    # a suspended item stays published with its status; a cancelled one is withdrawn everywhere
    change_item(center_app, "310118-SCJ-005", status="suspended")
    change_item(center_app, "310118-SCJ-004", status="cancelled")
    market = visitor.get("/public/api/items?department=market").get_json()
    assert [e["code"] for e in market] == ["310118-SCJ-001", "310118-SCJ-002", "310118-SCJ-003", "310118-SCJ-005"]
    assert market[-1]["status"] == {"code": "suspended", "name": "暂停"} and market[-1]["acceptsApplications"] is False
    assert visitor.get("/public/api/items/310118-SCJ-004").status_code == 404
    assert visitor.get("/guide/310118-SCJ-004").status_code == 404
    departments = visitor.get("/public/api/departments").get_json()
    assert {"code": "market", "name": "区市场监督管理局", "items": 4} in departments
    # an item past its last effective day is published but takes no applications
    change_item(center_app, "310118-SCJ-003", effective_to="2025-12-31")
    assert published(center_app, "310118-SCJ-003").record["acceptsApplications"] is False


def test_an_unknown_item_is_a_404_in_english_and_chinese(visitor):
    answer = visitor.get("/public/api/items/310118-NOPE-999")
    body = answer.get_json()
    assert answer.status_code == 404 and body["type"] == "InvalidRequestException" and body["code"] == "item.unknown"
    assert "310118-NOPE-999" in body["message"] and "310118-NOPE-999" in body["messageZh"]
    assert body["messageZh"] != body["message"]  # the catalogue's existing Chinese sentence for item.unknown
    assert visitor.get("/public/api/items/310118-NOPE-999/form").status_code == 404
    elsewhere = visitor.get("/public/api/nothing/here")
    assert elsewhere.status_code == 404 and elsewhere.get_json()["type"] == "InvalidRequestException"
    page = visitor.get("/guide/310118-NOPE-999")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_no_sign_in_is_needed_and_a_signed_in_clerk_gets_the_same_answers(center_app, visitor):
    urls = ["/public/api/items", f"/public/api/items/{SOLE_TRADER}", f"/public/api/items/{SOLE_TRADER}/form",
            "/public/api/departments", "/guide/", f"/guide/{SOLE_TRADER}"]
    answers = {url: visitor.get(url) for url in urls}
    assert {url: a.status_code for url, a in answers.items()} == {url: 200 for url in urls}
    assert all(a.headers["Cache-Control"] == CACHING for a in answers.values())
    clerk = center_app.test_client()
    sign_in_window(clerk)
    for url in urls:  # shared caches may keep these: nothing in them may depend on who asks
        mine = clerk.get(url)
        assert (mine.status_code, mine.headers["ETag"], mine.data) == (200, answers[url].headers["ETag"],
                                                                       answers[url].data), url


def test_the_guide_page_shows_the_record_in_full(center_app, visitor):
    record = published(center_app, FOOD_LICENCE).record
    answer = visitor.get(f"/guide/{FOOD_LICENCE}")
    assert answer.status_code == 200 and answer.headers["Vary"].startswith("Accept-Language")
    page = html.unescape(answer.get_data(as_text=True))
    assert f"<h1>{record['name']}</h1>" in page and f'<dd id="code">{FOOD_LICENCE}</dd>' in page
    assert f'id="legal-limit" data-days="{record["legalLimitDays"]}"' in page
    assert f'id="promised-limit" data-days="{record["promisedLimitDays"]}"' in page
    for value in (record["department"]["name"], record["caseType"]["name"], record["itemType"]["name"],
                  record["fees"], record["place"], record["legalBasis"], record["onlineDepth"]["name"],
                  record["certificateName"], record["form"]["title"], record["revision"],
                  *(c["name"] for c in record["channels"])):
        assert value in page, value
    rows = re.findall(r'<tr data-code="([^"]+)">\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>(\d+)</td>', page)
    assert rows == [(m["code"], m["name"], m["form"]["name"], str(m["copies"])) for m in record["materials"]]
    assert f'href="/public/api/items/{FOOD_LICENCE}/form"' in page
    listing = html.unescape(visitor.get("/guide/").get_data(as_text=True))
    assert all(f'id="department-{code}"' in listing for code in ("market", "planning", "housing", "ecology", "culture"))
    assert record["name"] in listing and f'href="/guide/{FOOD_LICENCE}"' in listing
    found = html.unescape(visitor.get("/guide/?q=个体工商户").get_data(as_text=True))
    assert re.findall(r'href="/guide/([^"]+)"', found) == ["310118-SCJ-001", "310118-SCJ-005"]
    assert 'id="department-market"' in found and 'id="department-culture"' not in found
    assert visitor.get("/guide").status_code == 308  # to /guide/


def test_the_form_endpoint_returns_the_schema_the_server_validates_against(center_app, visitor):
    record = published(center_app, SOLE_TRADER).record
    answer = visitor.get(f"/public/api/items/{SOLE_TRADER}/form")
    path = PROJECT_ROOT / "forms" / f"{record['form']['key']}.json"
    assert answer.status_code == 200 and answer.get_json() == json.loads(path.read_text(encoding="utf-8"))
    assert answer.get_json() == state(center_app).services.forms.get(record["form"]["key"]).schema
    assert answer.get_json()["title"] == record["form"]["title"]
    assert visitor.get(f"/public/api/items/{SOLE_TRADER}/form",
                       headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
