"""Sign-in that cannot be abused, through the doors people and machines use: HTTP Basic on /engine-rest and the
sign-in form share one throttle and one audit, floods are refused before hashing, the reverse proxy's clients
are told apart, the next page after signing in stays on this server, and the cookie and headers are what a
browser needs to keep a clerk safe."""
from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from api import create_app, state
from api.http_security import OTHER_POLICY, PAGE_POLICY
from engine import identity, password_checks
from engine.models import AuditEntry, SignInFailure, SignInSession, User
from engine.settings import Settings

from .conftest import PASSWORD
from .hashing import cheap_hashing, count_hashing

DESK = {"REMOTE_ADDR": "10.0.0.9"}


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    cheap_hashing(monkeypatch)


@pytest.fixture
def clerks(app):
    """``clerk`` and ``admin`` of the test app can sign in on the pages with PASSWORD."""
    with state(app).sessions.begin() as session:
        for name in ("clerk", "admin"):
            session.get(User, name).password_hash = identity._HASHER.hash(PASSWORD)
    return app


def _basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").get_data(as_text=True)).group(1)


def _sign_in(client, name="clerk", password=PASSWORD, url="/sign-in", **kw):
    return client.post(url, data={"username": name, "password": password, "csrf_token": _csrf(client)}, **kw)


def _fail(client, clock, times: int, **kw) -> None:
    """``times`` wrong passwords for ``clerk`` on the page, each as soon as the throttle lets it through."""
    for _ in range(times):
        while (answer := _sign_in(client, password="wrong", **kw)).status_code == 429:
            clock.advance(timedelta(seconds=int(answer.headers["Retry-After"])))
        assert answer.status_code == 401


def _rows(app, model, *where):
    with state(app).sessions.begin() as session:
        return session.scalars(sa.select(model).where(*where).order_by(model.id)).all()


# --- HTTP Basic goes through the same throttle and audit as the page ---------------------------------------

def test_wrong_basic_passwords_wait_and_are_audited_like_the_sign_in_page(app, clock, monkeypatch):
    client = app.test_client()
    hashed = count_hashing(monkeypatch)
    for _ in range(100):  # the hundred wrong passwords
        client.get("/engine-rest/process-definition", headers=_basic("designer", "wrong"), environ_base=DESK)
    assert len(hashed) == password_checks.FREE_PER_PAIR  # the other 95 were refused before hashing
    right = client.get("/engine-rest/process-definition", headers=_basic("designer", PASSWORD), environ_base=DESK)
    assert right.status_code == 429 and right.headers["Retry-After"] == "1"
    assert right.json == {"type": "AuthenticationException",
                          "message": "Too many failed sign-ins for 'designer' from this address; try again in "
                                     "1 second(s)"}
    assert [(r.username, r.remote) for r in _rows(app, SignInFailure)] == [("designer", "10.0.0.9")] * 5
    failed = _rows(app, AuditEntry, AuditEntry.action == "sign-in-failed")
    assert [(e.entity_id, e.details["channel"], e.details["remote"]) for e in failed] == \
        [("designer", "basic", "10.0.0.9")] * 5
    clock.advance(timedelta(seconds=1))
    assert client.get("/engine-rest/process-definition", headers=_basic("designer", PASSWORD),
                      environ_base=DESK).status_code == 200
    assert _rows(app, SignInFailure) == []  # the right password forgot the pair's failures


def test_a_flood_of_random_names_is_refused_before_hashing_and_tokens_keep_working(app, api, monkeypatch):
    client = app.test_client()
    hashed = count_hashing(monkeypatch)
    answers = [client.get("/engine-rest/process-definition", headers=_basic(f"bot{n}", "x"),
                          environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code for n in range(200)]
    assert len(hashed) == password_checks.FREE_NAMES_PER_ADDRESS
    assert answers == [401] * len(hashed) + [429] * (200 - len(hashed))
    assert api.get("/process-definition", user="designer").status_code == 200  # a worker's token: not throttled
    assert client.get("/engine-rest/process-definition", headers=_basic("designer", PASSWORD),
                      environ_base=DESK).status_code == 200  # nor is anyone else's address


@pytest.mark.settings(api_basic_auth=False)
def test_basic_can_be_turned_off_leaving_tokens_only(app, api, monkeypatch):
    hashed = count_hashing(monkeypatch)
    refused = app.test_client().get("/engine-rest/process-definition", headers=_basic("designer", PASSWORD))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert "HTTP Basic is turned off" in refused.json["message"] and hashed == []
    assert api.get("/process-definition", user="designer").status_code == 200


# --- the sign-in page --------------------------------------------------------------------------------------

def test_the_page_says_in_chinese_how_long_to_wait(clerks, clock):
    client = clerks.test_client()
    for _ in range(password_checks.FREE_PER_PAIR):
        assert _sign_in(client, password="wrong", environ_base=DESK).status_code == 401
    waiting = _sign_in(client, environ_base=DESK)
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    assert "登录失败次数过多，请1 秒后再试。" in waiting.get_data(as_text=True)
    clock.advance(timedelta(seconds=1))
    assert _sign_in(client, password="wrong", environ_base=DESK).status_code == 401
    assert "请2 秒后再试" in _sign_in(client, environ_base=DESK).get_data(as_text=True)
    clock.advance(timedelta(minutes=5))
    assert _sign_in(client, environ_base=DESK).status_code == 302
    failed = _rows(clerks, AuditEntry, AuditEntry.action == "sign-in-failed")
    assert {e.details["channel"] for e in failed} == {"page"} and len(failed) == 6


# --- behind the reverse proxy ------------------------------------------------------------------------------

PROXY = {"REMOTE_ADDR": "10.0.0.1"}


@pytest.mark.settings(proxy_count=1)
def test_behind_the_proxy_a_guesser_slows_only_their_own_address(clerks):
    client = clerks.test_client()
    for n in range(password_checks.FREE_NAMES_PER_ADDRESS + 10):
        _sign_in(client, name=f"guess{n}", password="x", environ_base=PROXY,
                 headers={"X-Forwarded-For": "203.0.113.66"})
    # the guesser cannot pass for someone else by sending a forwarded address of their own: the proxy appends
    spoofed = _sign_in(client, name="guess-again", environ_base=PROXY,
                       headers={"X-Forwarded-For": "10.0.0.9, 203.0.113.66"})
    assert spoofed.status_code == 429
    assert {r.remote for r in _rows(clerks, SignInFailure)} == {"203.0.113.66"}
    signed = _sign_in(client, environ_base=PROXY, headers={"X-Forwarded-For": "203.0.113.9"})
    assert signed.status_code == 302  # the rest of the center signs in as usual
    assert [s.remote for s in _rows(clerks, SignInSession)] == ["203.0.113.9"]
    assert _rows(clerks, AuditEntry, AuditEntry.action == "sign-in")[-1].details == {"remote": "203.0.113.9"}


def test_without_a_configured_proxy_a_forwarded_address_is_not_believed(clerks):
    _sign_in(clerks.test_client(), password="wrong", environ_base=DESK, headers={"X-Forwarded-For": "192.0.2.1"})
    assert [r.remote for r in _rows(clerks, SignInFailure)] == ["10.0.0.9"]


def test_a_negative_proxy_count_is_refused_at_start_up(settings):
    with pytest.raises(ValueError, match="ONEWINDOW_PROXY_COUNT"):
        create_app(settings.with_(proxy_count=-1))


# --- an administrator's unlock -----------------------------------------------------------------------------

def test_an_administrator_unlocks_a_clerk_on_the_page_and_only_administrators_may(clerks, clock):
    guesser = clerks.test_client()
    _fail(guesser, clock, 8, environ_base=DESK)
    assert _sign_in(guesser, environ_base=DESK).status_code == 429
    admin = clerks.test_client()
    assert _sign_in(admin, "admin", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 302
    page = admin.get("/admin/sign-ins").get_data(as_text=True)
    names = page[page.index('id="throttled-names"'):page.index('id="throttled-addresses"')]
    assert "<td>clerk</td><td>8</td><td>1</td>" in names
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = admin.post("/admin/sign-ins/unlock", data={"username": "clerk", "csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "已解除 clerk 的登录限制" in done and "没有登录失败记录" in done
    assert _sign_in(guesser, environ_base=DESK).status_code == 302
    nothing = admin.post("/admin/sign-ins/unlock", data={"username": " ", "csrf_token": token}, follow_redirects=True)
    assert "请填写要解除登录限制的用户名或地址" in nothing.get_data(as_text=True)
    [unlocked] = _rows(clerks, AuditEntry, AuditEntry.action == "sign-in-unlocked")
    assert (unlocked.actor, unlocked.entity_id, unlocked.details) == ("admin", "clerk", {"kind": "name", "cleared": 8})
    other = clerks.test_client()
    _sign_in(other)
    assert other.get("/admin/sign-ins").status_code == 403
    assert other.post("/admin/sign-ins/unlock", data={"username": "clerk", "csrf_token": _csrf(other)}).status_code == 403


def _onewindow(app, *args: str):
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from api.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def test_onewindow_user_unlock_clears_a_name_from_the_command_line(clerks, clock):
    client = clerks.test_client()
    _fail(client, clock, 6, environ_base=DESK)
    assert _sign_in(client, environ_base=DESK).status_code == 429
    result = _onewindow(clerks, "user", "unlock", "clerk")
    assert result.exit_code == 0 and "unlocked clerk: 6 failed sign-in(s) cleared" in result.output
    assert _sign_in(client, environ_base=DESK).status_code == 302
    assert _onewindow(clerks, "user", "unlock").exit_code == 2  # a name or --address
    by_address = _onewindow(clerks, "user", "unlock", "--address", "10.0.0.9")
    assert by_address.exit_code == 0 and "unlocked 10.0.0.9: 0 failed sign-in(s) cleared" in by_address.output
    assert [e.actor for e in _rows(clerks, AuditEntry, AuditEntry.action == "sign-in-unlocked")] == ["cli", "cli"]


# --- the next page after signing in stays on this server ---------------------------------------------------

#: ``?next=`` as it arrives in the request line (percent-encoded the way an attacker writes the link)
ELSEWHERE = ["/%09/evil.example/", "//evil.example", "///evil.example", "/%5Cevil.example", "%5C%5Cevil.example",
             "/%5C/evil.example", "https://evil.example", "https:evil.example", "HTTPS://evil.example",
             "javascript:alert(1)", "/%2F%2Fevil.example", "/%252F%252Fevil.example", "%09//evil.example",
             "/%0A/evil.example", "/%0D%0ALocation:%20https://evil.example", "evil.example",
             "%20//evil.example", "/%2509/evil.example", "//%09evil.example"]


KEPT = ["/inbox?page=2", "/console/cases?status=running&key=QP-MARKET-20260105-0001", "/task/3f2a",
        "/guide/310118-SCJ-001", "/cases/QP-1/documents/7"]


def test_a_next_page_elsewhere_is_replaced_by_the_inbox_and_one_here_is_kept(clerks):
    """The whole table on one app (a failure lists every target that went wrong)."""
    client = clerks.test_client()

    def location(url: str, **kw) -> str:
        answer = _sign_in(client, url=url, **kw)
        assert answer.status_code == 302
        return answer.headers["Location"]

    escaped = {target: location(f"/sign-in?next={target}") for target in ELSEWHERE}
    assert {target: where for target, where in escaped.items() if where != "/inbox"} == {}
    nul = _sign_in(client, url="/sign-in?next=/%00/evil.example")  # refused before any page (api/request_input.py)
    assert nul.status_code == 400 and "Location" not in nul.headers
    kept = {target: location("/sign-in", query_string={"next": target}) for target in KEPT}
    assert {target: where for target, where in kept.items() if where != target} == {}


def test_the_page_a_signed_out_clerk_asked_for_comes_after_signing_in(clerks):
    client = clerks.test_client()
    asked = client.get("/console/cases?status=running")
    assert asked.status_code == 302
    answer = _sign_in(client, url=asked.headers["Location"])
    assert answer.headers["Location"] == "/console/cases?status=running"


# --- the session cookie ------------------------------------------------------------------------------------

def _cookie(app) -> str:
    [cookie] = [v for k, v in _sign_in(app.test_client()).headers.items() if k == "Set-Cookie"]
    return cookie


def test_the_session_cookie_is_http_only_and_same_site_lax(clerks):
    attributes = [part.strip() for part in _cookie(clerks).split(";")]
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes and "Secure" not in attributes


def test_onewindow_secure_cookies_makes_the_cookie_secure(database_url, clock, tmp_path):
    settings = Settings.from_env({"ONEWINDOW_SECURE_COOKIES": "true", "ONEWINDOW_DATABASE_URL": database_url,
                                  "ONEWINDOW_SECRET_KEY": "test-secret", "ONEWINDOW_UPLOADS_DIR": str(tmp_path)})
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        identity.create_user(session, "clerk", PASSWORD, groups=["window-clerk"])
    try:
        attributes = [part.strip() for part in _cookie(app).split(";")]
    finally:
        state(app).engine.dispose()
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(attributes)


# --- headers on every response -----------------------------------------------------------------------------

PAGES = ["/sign-in", "/guide/", "/no-such-page"]
OTHERS = ["/engine-rest/engine", "/engine-rest/process-definition", "/engine-rest/openapi.json",
          "/static/web/app.css", "/static/web/diagram.js", "/static/web/vendor/bpmn-js/bpmn-font/font/bpmn.svg"]


def test_every_response_refuses_framing_and_sniffing_and_pages_run_only_our_scripts(app):
    client = app.test_client()
    wrong = {}
    for path in PAGES + OTHERS:
        response = client.get(path)
        response.close()  # static files are streamed
        headers = {name: response.headers.get(name) for name in
                   ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")}
        expected = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                    "Content-Security-Policy": PAGE_POLICY if path in PAGES else OTHER_POLICY}
        if headers != expected or (response.mimetype == "text/html") != (path in PAGES):
            wrong[path] = (response.mimetype, headers)
    assert wrong == {}
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and "unsafe-eval" not in PAGE_POLICY
    assert OTHER_POLICY == "default-src 'none'; frame-ancestors 'none'"
