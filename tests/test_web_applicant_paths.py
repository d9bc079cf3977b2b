"""The pages a case needs besides the inbox: the window receives a supplement (补正) the applicant
brings, and the applicant rates the service (好差评) from the link in the invitation — no account."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import identity
from engine.models import AuditEntry, User

from . import files
from .paths import ENTERPRISE, FOOD_LICENCE, delivered
from .test_web_pages import PASSWORD, _csrf, sign_in

PDF = files.pdf("supplement")


@pytest.fixture
def site(center, settings, clock, worker_settings):
    """The pages over the same database as the test center (its processes, catalogue and staff) and the
    folder its workers write documents to."""
    app = create_app(replace(settings, documents_dir=worker_settings.documents_dir), clock=clock,
                     test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        for user in ("window", "market_clerk", "culture_clerk"):
            session.get(User, user).password_hash = identity._HASHER.hash(PASSWORD)
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    state(app).engine.dispose()


def test_the_window_receives_the_supplement_and_the_case_goes_back_to_review(site, center):
    key = center.receive(FOOD_LICENCE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {
        "acceptance": "supplement", "opinion": "材料不齐", "missingItems": ["经营场所平面布局图", "食品安全管理制度文本"]})
    assert center.work() == ["notify"]
    clerk = site.test_client()
    sign_in(clerk, "market_clerk")
    assert clerk.get(f"/cases/{key}/supplement").status_code == 403  # the department does not receive
    # the clerk who asked for the supplement prints the notice, though the case has no task of theirs now
    notice = re.search(r'href="(/cases/[^"]+/documents/[^"]+)"[^>]*>补正材料告知书', clerk.get(f"/cases/{key}").get_data(as_text=True))
    with clerk.get(notice.group(1)) as printed:
        assert printed.status_code == 200 and printed.mimetype == "application/pdf" and printed.data.startswith(b"%PDF")
    other = site.test_client()
    sign_in(other, "culture_clerk")
    assert other.get(f"/cases/{key}").status_code == 404 and other.get(notice.group(1)).status_code == 404
    with center.sessions.begin() as session:  # the print and both refusals are on record
        seen = [(e.actor, e.action) for e in session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(["download-document", "access-refused"])).order_by(AuditEntry.id))]
    assert seen == [("market_clerk", "download-document"), ("culture_clerk", "access-refused"),
                    ("culture_clerk", "access-refused")]
    window = site.test_client()
    sign_in(window, "window")
    assert window.get(f"/cases?key={key}").headers["Location"].endswith(f"/cases/{key}")  # opened by its number
    assert "没有编号为 QP-NONE 的办件" in window.get("/cases?key=QP-NONE", follow_redirects=True).get_data(as_text=True)
    case_page = window.get(f"/cases/{key}").get_data(as_text=True)
    assert f"/cases/{key}/supplement" in case_page
    form = window.get(f"/cases/{key}/supplement").get_data(as_text=True)
    assert "经营场所平面布局图" in form and "食品安全管理制度文本" in form
    nothing = window.post(f"/cases/{key}/supplement", data={"csrf_token": _csrf(form)})
    assert nothing.status_code == 400 and "未上传任何文件" in nothing.get_data(as_text=True)
    wrong = window.post(f"/cases/{key}/supplement", content_type="multipart/form-data", data={
        "csrf_token": _csrf(form), "file:layout": (io.BytesIO(b"not a pdf"), "layout.txt")})
    assert wrong.status_code == 400 and "补正材料未能收件" in wrong.get_data(as_text=True)
    done = window.post(f"/cases/{key}/supplement", content_type="multipart/form-data", data={
        "csrf_token": _csrf(form), "file:layout": (io.BytesIO(PDF + b"layout"), "布局图.pdf"),
        "file:safety-rules": (io.BytesIO(PDF + b"rules"), "制度.pdf")})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{key}")
    assert center.work() == ["shared-data", "materials-check"]
    found = center.variables(key)
    assert [m["code"] for m in found["submittedMaterials"]] == ["application-form", "layout", "safety-rules"]
    assert found["materialsComplete"] is True and all(m.get("sha256") for m in found["submittedMaterials"][1:])
    assert center.waiting(key) == ["Task_acceptance_review"]
    assert window.get(f"/cases/{key}/supplement").status_code == 404  # nothing is awaited any more


def test_the_applicant_rates_once_from_the_link_in_the_invitation(site, center, smtp):
    box, _ = smtp
    key = delivered(center)
    invitation = box.to(ENTERPRISE["email"])[-1].get_content()
    link = re.search(r"http://127\.0\.0\.1:5000(/rate/\S+)", invitation).group(1)
    applicant = site.test_client()
    assert applicant.get(f"/rate/{key}?t=guessed").status_code == 403
    page = applicant.get(link).get_data(as_text=True)
    assert all(level in page for level in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"))
    missing = applicant.post(link, data={"csrf_token": _csrf(page), "ratingComment": "等候时间太长"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "「评价」为必填项" in text and "等候时间太长" in text
    rated = applicant.post(link, data={"csrf_token": _csrf(page), "rating": "不满意", "ratingComment": "等候时间太长",
                                       "realName": "true"})
    assert rated.status_code == 200 and "感谢" in rated.get_data(as_text=True)
    found = center.variables(key)
    assert found["rating"] == "不满意" and found["ratingComment"] == "等候时间太长"
    assert center.waiting(key) == ["Task_return_visit"]  # a bad rating is followed up
    again = applicant.post(link, data={"csrf_token": _csrf(page), "rating": "非常满意"})
    assert again.status_code == 409 and "已评价" in again.get_data(as_text=True)
    token = link.split("?t=", 1)[1]
    assert token not in repr(center.variables(key))  # never a process variable: no variable view can show it


def test_only_the_worker_holding_the_invitation_gets_the_rating_token_and_it_is_the_pages_key(site, center):
    """The token is made under the app's own secret key (the one signing its cookies), for the worker holding
    the task that mails the invitation, and for nobody else."""
    from engine import external, ratings

    key = delivered(center, stop_before_rating=True)
    with center.sessions.begin() as session:
        [locked] = external.fetch_and_lock(session, "w1", [external.TopicRequest("rating-request", 60_000)])
    client = site.test_client()
    with state(site).sessions.begin() as session:
        worker = identity.create_token(session, "worker", "rating test")
        clerk = identity.create_token(session, "window", "rating test")

    def ask(token: str, worker_id: str | None):
        return client.post(f"/engine-rest/external-task/{locked.row.id}/rating-link", json={"workerId": worker_id},
                           headers={"Authorization": f"Bearer {token}"})

    answer = ask(worker, "w1")
    assert answer.status_code == 200
    assert answer.json["token"] == ratings.token_for(site.config["SECRET_KEY"], key)
    assert ask(worker, "w2").status_code == 400 and "locked by worker 'w1'" in ask(worker, "w2").json["message"]
    assert ask(worker, None).status_code == 400
    assert ask(clerk, "w1").status_code == 403  # a window clerk is not a worker
    assert client.get(f"/rate/{key}?t={answer.json['token']}").status_code == 200
