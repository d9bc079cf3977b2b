"""Issue 15 on the clerks' pages: the same checks as the REST API, said in Chinese, nothing received."""
from __future__ import annotations

from io import BytesIO

import sqlalchemy as sa

from api import state
from engine.models import ProcessInstance

from . import files
from .paths import PERSON, SOLE_TRADER
from .test_web_pages import _csrf, center_app, sign_in  # noqa: F401 (center_app is a fixture)


def _cases(app) -> int:
    with state(app).sessions.begin() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance))


def _receive_form(client) -> dict:
    page = client.get(f"/cases/new/{SOLE_TRADER}").get_data(as_text=True)
    return {**{k: v for k, v in PERSON.items() if k != "applicantType"}, "csrf_token": _csrf(page)}


def test_a_nul_in_an_application_field_is_refused_in_chinese_and_nothing_is_received(center_app):
    client = center_app.test_client()
    sign_in(client, "window")
    data = {**_receive_form(client), "address": "青浦区\x00华新镇", "file:application-form": (BytesIO(files.pdf()), "a.pdf")}
    answer = client.post(f"/cases/new/{SOLE_TRADER}", data=data, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "字段 address 含有无法保存的字符" in answer.get_data(as_text=True)
    assert _cases(center_app) == 0


def test_a_polyglot_pdf_is_refused_at_the_window_in_chinese(center_app):
    client = center_app.test_client()
    sign_in(client, "window")
    polyglot = b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>"
    data = {**_receive_form(client), "file:application-form": (BytesIO(polyglot), "申请书.pdf")}
    answer = client.post(f"/cases/new/{SOLE_TRADER}", data=data, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "文件 申请书.pdf 看似 PDF 文件，但其内容结构并非该格式" in answer.get_data(as_text=True)
    assert _cases(center_app) == 0


def test_a_control_character_in_a_page_address_is_a_chinese_400(center_app):
    client = center_app.test_client()
    sign_in(client, "window")
    for url in ("/cases/QP%00", "/cases/new/x%01y", "/cases?key=%00"):
        answer = client.get(url)
        assert answer.status_code == 400, url
        text = answer.get_data(as_text=True)
        assert "该网址无效" in text or "含有无法保存的字符" in text, url


def test_a_json_field_nested_without_end_is_left_to_the_schema_not_recursed_into():
    from api.web.form_fields import parse

    schema = {"properties": {"changes": {"type": "object", "title": "变更内容"}}}
    deep = "[" * 100_000 + "]" * 100_000
    assert parse(schema, {"changes": deep}) == {"changes": deep}
    assert parse(schema, {"changes": '{"fees": NaN}'}) == {"changes": '{"fees": NaN}'}
    assert parse(schema, {"changes": '{"fees": "不收费"}'}) == {"changes": {"fees": "不收费"}}
