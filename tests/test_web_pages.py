"""The clerk pages over the Flask test client: sign-in, inbox, task forms, CSRF, visibility."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from api import state
from engine import external, identity

from . import files
from .paths import ENTERPRISE, FOOD_CHANGE, PERSON, SOLE_TRADER, seeded_app

PASSWORD = "clerk-pass-1"


@pytest.fixture
def center_app(app):
    return seeded_app(app, PASSWORD, "market_clerk", "culture_clerk", "window", "market_chief")
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, user: str):
    token = _csrf(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"username": user, "password": PASSWORD, "csrf_token": token})


def receive(app, item=FOOD_CHANGE, application=ENTERPRISE, materials=({"code": "application-form"},)) -> str:
    from engine import cases

    with state(app).sessions.begin() as session:
        key = cases.start_case(session, item, application, channel="window", actor="window",
                               actor_groups=["window-clerk", "center:window-clerk"],
                               materials=list(materials)).business_key
    with state(app).sessions.begin() as session:
        for topic in ("shared-data", "materials-check"):
            for locked in external.fetch_and_lock(session, "w", [external.TopicRequest(topic, 1000)]):
                external.complete(session, locked.row.id, "w", {"materialsComplete": False} if topic == "materials-check" else {})
    return key


def test_sign_in_shows_the_inbox_in_chinese_and_wrong_passwords_are_refused(center_app):
    client = center_app.test_client()
    assert client.get("/inbox").status_code == 302
    wrong = client.post("/sign-in", data={"username": "market_clerk", "password": "nope",
                                          "csrf_token": _csrf(client.get("/sign-in").get_data(as_text=True))})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)
    assert client.post("/sign-in", data={"username": "market_clerk", "password": PASSWORD}).status_code == 400  # no CSRF
    assert sign_in(client, "market_clerk").status_code == 302
    page = client.get("/inbox").get_data(as_text=True)
    assert "待办事项" in page and "暂无待办事项" in page


def test_inbox_lists_the_departments_tasks_and_the_task_form_validates_in_chinese_keeping_input(center_app):
    key = receive(center_app)
    client = center_app.test_client()
    sign_in(client, "market_clerk")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert key in inbox and "食品经营许可（变更许可事项）" in inbox and ENTERPRISE["applicantName"] in inbox
    task_url = re.search(r'href="(/task/[^"]+)">' + re.escape(key), inbox).group(1)
    page = client.get(task_url).get_data(as_text=True)
    assert "受理审查" in page and "统一社会信用代码" in page and "91310118MA1JL0001X" in page
    answer = client.post(task_url, data={"acceptance": "refuse", "opinion": "不符合受理条件的说明",
                                         "csrf_token": _csrf(page)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "「不予受理理由」为必填项" in text and "不符合受理条件的说明" in text
    assert "办理过程" in page and "收件" in page  # the case's history so far
    done = client.post(task_url, data={"acceptance": "accept", "opinion": "材料齐全，予以受理", "csrf_token": _csrf(page)})
    assert done.status_code == 302
    assert "已办理：受理审查" in client.get("/inbox").get_data(as_text=True)
    gone = client.get(task_url, follow_redirects=True).get_data(as_text=True)
    assert "此任务已不在待办" in gone


def test_another_departments_clerk_cannot_open_the_case(center_app):
    key = receive(center_app)
    client = center_app.test_client()
    sign_in(client, "market_clerk")
    task_url = re.search(r'href="(/task/[^"]+)">' + re.escape(key), client.get("/inbox").get_data(as_text=True)).group(1)
    other = center_app.test_client()
    sign_in(other, "culture_clerk")
    assert key not in other.get("/inbox").get_data(as_text=True)
    hidden = other.get(task_url)  # another department's task is one that does not exist for this clerk
    assert hidden.status_code == 404 and "此任务已不在待办" in hidden.get_data(as_text=True)


def test_claim_and_unclaim_from_the_inbox(center_app):
    receive(center_app)
    client = center_app.test_client()
    sign_in(client, "market_clerk")
    inbox = client.get("/inbox").get_data(as_text=True)
    claim_url = re.search(r'action="(/task/[^"]+/claim)"', inbox).group(1)
    client.post(claim_url, data={"csrf_token": _csrf(inbox)})
    mine = client.get("/inbox?mine=1").get_data(as_text=True)
    assert "任务已由您签收" in mine and "退回" in mine


PDF = files.pdf("a tiny test file")


@pytest.mark.settings(max_upload_bytes=100 * 1024)  # small: the test client spools bodies over 500 KB to files
def test_the_window_receives_a_case_with_files_and_sees_its_number(center_app):
    client = center_app.test_client()
    with state(center_app).sessions.begin() as session:
        session.get(identity.User, "window").password_hash = identity._HASHER.hash(PASSWORD)
    sign_in(client, "window")
    listing = client.get("/cases/new?q=个体工商户").get_data(as_text=True)
    assert "个体工商户设立登记" in listing and "个体工商户注销登记" in listing
    form_page = client.get(f"/cases/new/{SOLE_TRADER}").get_data(as_text=True)
    assert "经营者身份证明" in form_page and "可共享获取，无需提交" in form_page  # 两个免于提交
    broken = {k: v for k, v in PERSON.items() if k not in ("applicantType", "idNumber")}
    answer = client.post(f"/cases/new/{SOLE_TRADER}", data={**broken, "csrf_token": _csrf(form_page)},
                         content_type="multipart/form-data")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "「公民身份号码」为必填项" in text and PERSON["address"] in text
    from io import BytesIO
    data = {**{k: v for k, v in PERSON.items() if k != "applicantType"}, "csrf_token": _csrf(form_page),
            "file:application-form": (BytesIO(PDF), "申请书.pdf"), "file:premises": (BytesIO(b"not a pdf"), "x.pdf")}
    refused = client.post(f"/cases/new/{SOLE_TRADER}", data=data, content_type="multipart/form-data")
    assert refused.status_code == 400 and "文件 x.pdf 不是 PDF、JPEG、PNG 或 OFD 格式" in refused.get_data(as_text=True)
    data = {**{k: v for k, v in PERSON.items() if k != "applicantType"}, "csrf_token": _csrf(form_page),
            "file:application-form": (BytesIO(PDF + b"0" * 200 * 1024), "申请书.pdf")}
    with client.post(f"/cases/new/{SOLE_TRADER}", data=data, content_type="multipart/form-data") as too_big:
        text = too_big.get_data(as_text=True)
        assert too_big.status_code == 400 and "单个文件不得超过 0.1 MB" in text and PERSON["address"] in text
    data = {**{k: v for k, v in PERSON.items() if k != "applicantType"}, "csrf_token": _csrf(form_page),
            "file:application-form": (BytesIO(PDF), "申请书.pdf"), "file:premises": (BytesIO(PDF), "场所证明.pdf")}
    done = client.post(f"/cases/new/{SOLE_TRADER}", data=data, content_type="multipart/form-data")
    assert done.status_code == 302 and "/cases/QP-MARKET-" in done.headers["Location"]
    case_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "办件 QP-MARKET-" in case_page and "个体工商户登记（备案）申请书" in case_page
    download = re.search(r'href="(/cases/[^"]+/materials/[0-9a-f]{64})"', case_page).group(1)
    with client.get(download) as response:
        assert response.data == PDF and response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment;")
    outsider = center_app.test_client()
    sign_in(outsider, "culture_clerk")
    with outsider.get(download) as response:
        assert response.status_code == 404  # not the culture bureau's case: as if it did not exist
    clerk = center_app.test_client()
    sign_in(clerk, "market_clerk")
    assert clerk.get("/cases/new").status_code == 403  # departments never receive directly (rule 1)


def test_a_draft_keeps_what_was_typed_without_validating_until_completion(center_app):
    key = receive(center_app)
    client = center_app.test_client()
    sign_in(client, "market_clerk")
    task_url = re.search(r'href="(/task/[^"]+)">' + re.escape(key), client.get("/inbox").get_data(as_text=True)).group(1)
    page = client.get(task_url).get_data(as_text=True)
    saved = client.post(task_url, data={"action": "draft", "acceptance": "supplement", "opinion": "待核对",
                                        "csrf_token": _csrf(page)})
    assert saved.status_code == 200 and "草稿已保存" in saved.get_data(as_text=True)
    again = client.get(task_url).get_data(as_text=True)
    assert 'value="supplement" selected' in again and "待核对" in again
    with state(center_app).sessions.begin() as session:
        from engine.models import AuditEntry
        assert session.scalar(sa.select(AuditEntry.actor).where(AuditEntry.action == "save-draft")) == "market_clerk"
    other = center_app.test_client()
    sign_in(other, "culture_clerk")
    token = _csrf(other.get("/inbox").get_data(as_text=True))
    assert other.post(task_url, data={"action": "draft", "opinion": "x", "csrf_token": token}).status_code == 404


def test_pages_answer_errors_with_chinese_pages_and_markers_follow_working_days(center_app):
    key = receive(center_app)
    client = center_app.test_client()
    sign_in(client, "culture_clerk")
    forbidden = client.get("/cases/new")
    assert forbidden.status_code == 403 and "您无权打开此页面" in forbidden.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    clerk = center_app.test_client()
    sign_in(clerk, "market_clerk")
    # the review is due at 17:00 on Monday 12 January (5 working days); on Friday the 9th less than one is left
    clock = state(center_app).services.clock
    assert 'class="marker "' in clerk.get("/inbox").get_data(as_text=True)
    from datetime import datetime, timezone
    clock.set(datetime(2026, 1, 9, 10, 0, tzinfo=timezone.utc))
    sign_in(clerk, "market_clerk")  # days later: the clerk signs in again
    assert 'class="marker yellow"' in clerk.get("/inbox").get_data(as_text=True)
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=timezone.utc))
    sign_in(clerk, "market_clerk")
    assert 'class="marker red"' in clerk.get("/inbox").get_data(as_text=True)
    assert key


def test_a_refusal_by_the_engine_reads_in_chinese(center_app):
    key = receive(center_app)
    with state(center_app).sessions.begin() as session:
        from engine import tasks as engine_tasks
        from engine.models import UserTask
        review = session.scalars(sa.select(UserTask).where(UserTask.business_key == key)).one()
        engine_tasks.complete(session, review.id, {"acceptance": "accept", "opinion": "受理"}, user="market_clerk",
                              groups=["market:approval-clerk"])
        for locked in external.fetch_and_lock(session, "w", [external.TopicRequest("acceptance-receipt", 1000)]):
            external.complete(session, locked.row.id, "w", {})
        identity.create_user(session, "market_chief2", PASSWORD, groups=["chief-representative"], department="market")
    client = center_app.test_client()
    sign_in(client, "market_chief2")
    inbox = client.get("/inbox").get_data(as_text=True)
    task_url = re.search(r'href="(/task/[^"]+)">' + re.escape(key), inbox).group(1)
    page = client.get(task_url).get_data(as_text=True)
    answer = client.post(task_url, data={"decision": "grant", "opinion": "准予许可的意见", "sealConfirmed": "true",
                                         "csrf_token": _csrf(page)})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "任务未能办结：您没有有效的授权书" in text and "审批决定" in text


def test_the_supervisors_console_lists_filters_and_exports_cases(center_app):
    market = receive(center_app)
    culture = receive(center_app, item="310118-WHLY-002", materials=({"code": "application-form"}, {"code": "programme"}))
    with state(center_app).sessions.begin() as session:
        session.get(identity.User, "supervisor").password_hash = identity._HASHER.hash(PASSWORD)
        identity.create_user(session, "market_boss", PASSWORD, groups=["supervisor"], department="market")
    client = center_app.test_client()
    sign_in(client, "supervisor")
    page = client.get("/console/cases").get_data(as_text=True)
    assert "办件监督" in page and market in page and culture in page and "营业性演出审批" in page
    only = client.get("/console/cases?department=culture&status=running").get_data(as_text=True)
    assert culture in only and market not in only
    with client.get("/console/cases.csv?department=market") as exported:
        text = exported.get_data(as_text=True)
    assert exported.mimetype == "text/csv" and market in text and culture not in text
    assert client.get("/console/cases?from=yesterday").status_code == 400
    boss = center_app.test_client()
    sign_in(boss, "market_boss")
    scoped = boss.get("/console/cases").get_data(as_text=True)
    assert market in scoped and culture not in scoped  # a department's supervisor sees the department
    clerk = center_app.test_client()
    sign_in(clerk, "market_clerk")
    assert clerk.get("/console/cases").status_code == 403


def test_a_departments_supervisor_cannot_open_another_departments_case_and_forms_expire_politely(center_app):
    culture = receive(center_app, item="310118-WHLY-002", materials=({"code": "application-form"}, {"code": "programme"}))
    with state(center_app).sessions.begin() as session:
        identity.create_user(session, "market_boss", PASSWORD, groups=["supervisor"], department="market")
        identity.create_user(session, "center_boss", PASSWORD, groups=["supervisor"], department="center")
    boss = center_app.test_client()
    sign_in(boss, "market_boss")
    assert boss.get(f"/cases/{culture}").status_code == 404  # another department's case does not exist for them
    center_boss = center_app.test_client()
    sign_in(center_boss, "center_boss")
    assert center_boss.get(f"/cases/{culture}").status_code == 200
    stale = center_app.test_client()
    sign_in(stale, "market_clerk")
    expired = stale.post("/sign-out", data={"csrf_token": "not-a-token"})
    assert expired.status_code == 400 and "表单已失效" in expired.get_data(as_text=True)


def test_signing_out_ends_the_sign_in_even_for_a_copied_cookie_and_is_audited(center_app):
    from engine.models import AuditEntry

    client = center_app.test_client()
    sign_in(client, "market_clerk")
    page = client.get("/inbox").get_data(as_text=True)
    cookie = client.get_cookie("session").value
    copy = center_app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/inbox").status_code == 200
    done = client.post("/sign-out", data={"csrf_token": _csrf(page)}, follow_redirects=True)
    assert "您已退出登录" in done.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302
    copy.set_cookie("session", cookie)  # the cookie as it was before signing out
    assert copy.get("/inbox").status_code == 302
    with state(center_app).sessions.begin() as session:
        actions = session.scalars(sa.select(AuditEntry.action).where(AuditEntry.actor == "market_clerk")
                                  .order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["sign-in", "sign-out"]


def test_pages_stay_shut_without_a_secret_key_and_say_so_in_the_log(settings, clock, caplog):
    from api import create_app

    app = create_app(settings.with_(secret_key=None), clock=clock)
    response = app.test_client().get("/sign-in")
    assert response.status_code == 503 and "服务器出错了" in response.get_data(as_text=True)
    assert [r for r in caplog.records if r.levelname == "ERROR" and "GET /sign-in" in r.getMessage()
            and "ONEWINDOW_SECRET_KEY is not set" in r.getMessage()]
    assert app.test_client().get("/engine-rest/engine").status_code == 200  # the API authenticates each call
    assert app.test_client().get("/public/api/departments").status_code == 200  # the public guides need no cookie
    state(app).engine.dispose()


def test_a_kept_secret_is_random_private_and_the_same_on_the_next_start(tmp_path):
    from engine.settings import Settings

    settings = Settings.from_env({}, uploads_dir=tmp_path / "data" / "uploads")
    first = settings.with_kept_secret()
    assert first.secret_key and len(first.secret_key) >= 40 and first.secret_key_file.stat().st_mode & 0o077 == 0
    assert Settings.from_env({}, uploads_dir=tmp_path / "data" / "uploads").with_kept_secret().secret_key == \
        first.secret_key
    assert Settings.from_env({}, uploads_dir=tmp_path / "other" / "uploads").with_kept_secret().secret_key != first.secret_key
    configured = Settings.from_env({"ONEWINDOW_SECRET_KEY": "set-by-the-operator"}, uploads_dir=tmp_path / "x")
    assert configured.with_kept_secret().secret_key == "set-by-the-operator" and not (tmp_path / "secret_key").exists()


