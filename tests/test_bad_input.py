"""Issue 15: bad input is a clear 4xx, at once, and loses nothing — REST bodies, parameters and paths, the
engine's own guards, numbers bounded by what they mean, strict JSON out. Each case was a 500 or a hang."""
from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from api import state
from engine import external, runtime
from engine.calendar import MAX_PERIOD_DAYS, WorkingCalendar
from engine.errors import InvalidInput
from engine.models import AuditEntry, ExternalTask, ProcessInstance, UserTask

from .test_rest_api import deploy_five, fetch, start_five

DEEP = "[" * 100_000 + "]" * 100_000


def nested(levels: int) -> list:
    value: list = ["deep"]
    for _ in range(levels - 1):
        value = [value]
    return value


def _counts(app) -> tuple[int, ...]:
    """What a refused command must not have changed."""
    with state(app).sessions.begin() as session:
        return tuple(session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (ProcessInstance, UserTask, ExternalTask, AuditEntry))


# (method, url, JSON body or raw text, status, what the message must say)
BAD = [
    ("post", "/process-definition/key/five_step/start", {"businessKey": "QP\u0000-1"}, 400,
     "'businessKey' contains a NUL character"),
    ("post", "/process-definition/key/five_step/start", {"businessKey": "Q" * 300}, 400,
     "'businessKey' is 300 characters long; at most 255"),
    ("post", "/process-definition/key/five_step/start", '{"businessKey": "\\ud800"}', 400,
     "'businessKey' contains a lone surrogate"),
    ("post", "/process-definition/key/five_step/start", '{"variables": {"x\\u0000": {"value": 1}}}', 400,
     "'variables (a key)' contains a NUL"),
    ("post", "/process-definition/key/five_step/start", DEEP, 400, "nested too deeply"),
    ("post", "/process-definition/key/five_step/start",
     {"variables": {"d": {"value": json.dumps(nested(34)),
                          "type": "Json"}}}, 400, "nested more than 32 levels"),
    ("post", "/process-definition/key/five_step/start", {"variables": {"x": {"value": "NaN", "type": "Double"}}},
     400, "only finite numbers"),
    ("post", "/process-definition/key/five_step/start", {"variables": {"x": {"value": "1e999", "type": "Double"}}},
     400, "only finite numbers"),
    ("post", "/process-definition/key/five_step/start", '{"variables": {"x": {"value": NaN}}}', 400,
     "NaN is not a JSON number"),
    ("post", "/process-definition/key/five_step/start", '{"variables": {"x": {"value": 1e400}}}', 400,
     "'variables.x.value' is a number too large"),
    ("post", "/process-definition/key/five_step/start", b'{"businessKey": "\xff"}', 400, "not UTF-8"),
    ("post", "/case", {"itemCode": "x", "application": {"applicantName": "张\u0000三"}}, 400,
     "'application.applicantName' contains a NUL"),
    ("get", "/process-instance?businessKey=QP%00", None, 400, "'businessKey' contains a NUL"),
    ("get", "/task?processInstanceBusinessKey=%00", None, 400, "'processInstanceBusinessKey' contains a NUL"),
    ("get", "/process-instance/%00", None, 400, "Path parameter 'instance_id' contains a control character"),
    ("get", "/process-instance/" + "x" * 2000, None, 400, "Path parameter 'instance_id' is 2000 characters"),
    ("get", "/process-definition/key/ab%00c/xml", None, 400, "Path parameter 'key'"),
    ("get", "/process-instance?firstResult=99999999999999999999", None, 400,
     "'firstResult' must be from 0 to 2147483647"),
    ("get", "/process-instance?firstResult=9223372036854775808", None, 400, "'firstResult' must be from 0"),
    ("get", "/task?maxResults=-1", None, 400, "'maxResults' must be from 0"),
    ("get", "/process-definition?version=99999999999999999999", None, 400, "'version' must be from 1"),
    ("get", "/process-instance?firstResult=" + "9" * 5000, None, 400, "'firstResult' must be a whole number"),
    ("post", "/external-task/fetchAndLock",
     {"workerId": "w", "topics": [{"topicName": "score", "lockDuration": 1e20}]}, 400,
     "'lockDuration' must be from 1 to 86400000"),
    ("post", "/external-task/fetchAndLock",  # 317 years
     {"workerId": "w", "topics": [{"topicName": "score", "lockDuration": 10_000_000_000_000}]}, 400,
     "must be from 1 to 86400000"),
    ("post", "/external-task/fetchAndLock",
     {"workerId": "w", "topics": [{"topicName": "score", "lockDuration": 1.5}]}, 400, "must be a whole number"),
    ("post", "/external-task/fetchAndLock",
     {"workerId": "w" * 300, "topics": [{"topicName": "score", "lockDuration": 1000}]}, 400,
     "'workerId' is 300 characters long; at most 255"),
    ("post", "/external-task/fetchAndLock",
     '{"workerId": "w", "asyncResponseTimeout": 1e400, "topics": []}', 400, "number too large"),
    ("get", "/calendar/deadline?from=2026-01-05&days=99999999999999999999", None, 400,
     f"'days' must be from 0 to {MAX_PERIOD_DAYS}"),
    ("get", f"/calendar/deadline?from=2026-01-05&days={MAX_PERIOD_DAYS + 1}", None, 400, "'days' must be from 0"),
    ("get", "/calendar/deadline?from=9998-12-01&days=3000", None, 400, "'from'"),
    ("get", "/calendar/deadline?from=0001-01-01&days=1", None, 400, "'from'"),
    ("put", "/calendar/rule/2026-10-0%00", {"workday": False, "note": "x"}, 400, "Path parameter 'day'"),
    ("post", "/message", {"messageName": "m", "businessKey": "k" * 256}, 400, "at most 255"),
]


@pytest.mark.parametrize("method,url,body,status,message", BAD, ids=[f"{m} {u[:50]}" for m, u, *_ in BAD])
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api, app, method, url, body, status, message):
    deploy_five(api)
    before = _counts(app)
    kwargs: dict = {}
    if isinstance(body, dict):
        kwargs["json"] = body
    elif body is not None:
        kwargs["data"] = body
        kwargs["content_type"] = "application/json"
    response = getattr(api, method)(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert set(response.json) >= {"type", "message"} and message in response.json["message"], response.json
    assert _counts(app) == before


def test_a_deadline_of_the_longest_period_is_counted_at_once(api):
    """The bound is what the calendar counts honestly, not a refusal of what clerks need."""
    response = api.get(f"/calendar/deadline?from=2026-01-05&days={MAX_PERIOD_DAYS}")
    assert response.status_code == 200 and response.json["estimated"] is True
    assert response.json["day"] > "2039-01-01"


@pytest.mark.parametrize("days", [MAX_PERIOD_DAYS + 1, 10**20])
def test_the_calendar_itself_refuses_a_period_it_cannot_honestly_count(days):
    with pytest.raises(ValueError, match="longer than"):
        WorkingCalendar().add_working_days(date(2026, 1, 5), days)
    with pytest.raises(ValueError, match="longer than"):
        WorkingCalendar().add_calendar_days(date(2026, 1, 5), days)


def test_the_calendar_counts_no_span_longer_than_a_century():
    with pytest.raises(ValueError, match="up to a century"):
        WorkingCalendar().working_days_between(date(1900, 1, 1), date(9000, 1, 1))
    assert WorkingCalendar().working_days_between(date(2026, 1, 5), date(2026, 1, 9)) == 4


def test_extend_lock_is_bounded_over_rest_and_in_the_engine(api, app, clock):
    deploy_five(api)
    start_five(api)
    [locked] = fetch(api)
    for duration in (1e20, 10_000_000_000_000, 0):
        refused = api.post(f"/external-task/{locked['id']}/extendLock", user="worker",
                           json={"workerId": "w1", "newDuration": duration})
        assert refused.status_code == 400 and "'newDuration' must be" in refused.json["message"], refused.json
    with state(app).sessions.begin() as session:
        with pytest.raises(InvalidInput, match="'newDuration' must be from 1 to 86400000"):
            external.extend_lock(session, locked["id"], "w1", 10**20)
        row = session.get(ExternalTask, locked["id"])
        assert row.lock_expires_at - clock.now() <= timedelta(seconds=10)
    ok = api.post(f"/external-task/{locked['id']}/extendLock", user="worker",
                  json={"workerId": "w1", "newDuration": 86_400_000})
    assert ok.status_code == 204


def test_retry_timeout_and_retries_are_bounded(api):
    deploy_five(api)
    start_five(api)
    [locked] = fetch(api)
    for body, field in (({"retries": 1, "retryTimeout": 10**15}, "'retryTimeout'"),
                        ({"retries": 2**40, "retryTimeout": 0}, "'retries'")):
        refused = api.post(f"/external-task/{locked['id']}/failure", user="worker", json={"workerId": "w1", **body})
        assert refused.status_code == 400 and field in refused.json["message"], refused.json
    assert api.put(f"/external-task/{locked['id']}/retries", json={"retries": 2**40}).status_code == 400


def test_the_engine_refuses_what_no_caller_may_store(sessions, deploy):
    """Callers that are not the REST API (workers in-process, the CLI, scenarios) meet the same rules."""
    deploy("camunda/five_step.bpmn")
    cases = [({"business_key": "K" * 256}, "at most 255"), ({"business_key": "a\x00b"}, "NUL"),
             ({"variables": {"x": math.nan}}, "finite"), ({"variables": {"x": "\ud800"}}, "lone surrogate"),
             ({"variables": {"x": nested(34)}},
              "nested more than")]
    for kwargs, message in cases:
        with sessions.begin() as session:
            with pytest.raises(InvalidInput, match=message):
                runtime.start_instance(session, "five_step", actor="test", **kwargs)
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_no_string_reaches_a_column_it_does_not_fit(sessions, deploy):
    """The flush guard: the same refusal on SQLite (which would store it) and PostgreSQL (which would fail)."""
    deploy("camunda/five_step.bpmn")
    with sessions.begin() as session:
        instance = runtime.start_instance(session, "five_step", business_key="K-1", actor="test")
        instance_id = instance.id
    with pytest.raises(InvalidInput, match="process_instance.started_by' is 101 characters long"):
        with sessions.begin() as session:
            session.get(ProcessInstance, instance_id).started_by = "u" * 101
    with pytest.raises(InvalidInput, match="'process_instance.end_reason' contains a NUL"):
        with sessions.begin() as session:
            session.get(ProcessInstance, instance_id).end_reason = "a\x00"
    with sessions.begin() as session:
        kept = session.get(ProcessInstance, instance_id)
        assert kept.started_by == "test" and kept.end_reason is None


def test_a_non_finite_number_already_stored_is_served_as_strict_json(api, app):
    """Data kept before these checks (or made by a script) never turns an answer into invalid JSON."""
    deploy_five(api)
    instance = start_five(api)
    with state(app).sessions.begin() as session:
        loaded = runtime.load(session, instance["id"])
        for task in loaded.workflow.get_tasks():
            task.data["ratio"] = math.nan
        runtime.save(session, loaded, "test", "test-nan")
    response = api.get(f"/process-instance/{instance['id']}/variables")
    assert response.status_code == 200
    body = json.loads(response.get_data(as_text=True), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert body["ratio"]["value"] is None and body["ratio"]["type"] == "Double"


def test_nothing_a_client_sends_is_echoed_as_invalid_json(api):
    response = api.post("/process-definition/key/nope/start", json={"businessKey": "ok"})
    assert response.status_code == 404
    json.loads(response.get_data(as_text=True), parse_constant=lambda c: pytest.fail(c))
