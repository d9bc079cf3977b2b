"""The onewindow extensions over HTTP: case clock commands, calendar administration, timers as jobs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine import identity, scheduler


SAMPLE_2027 = Path(__file__).parent / "data" / "calendar" / "2027-sample.json"


def start_case(api, clock, **variables) -> str:
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))  # Mon 2 Mar 2026 09:00 Shanghai
    assert api.deploy("camunda/parallel.bpmn").status_code == 200
    body = {"businessKey": "QP-77", "variables": {k: {"value": v} for k, v in variables.items()}}
    response = api.post("/process-definition/key/parallel/start", body, user="clerk")
    assert response.status_code == 200, response.json
    return response.json["id"]


def a_market_case(app, api, clock, **variables) -> str:
    """The case belongs to the market bureau, whose section head is ``head`` (the window's clerk received it)."""
    from api import state
    from engine.models import ProcessInstance, User

    iid = start_case(api, clock, **variables)
    with state(app).sessions.begin() as session:
        identity.ensure_department(session, "market", "区市场监督管理局")
        identity.ensure_department(session, "planning", "区规划和自然资源局")
        session.flush()
        session.get(ProcessInstance, iid).department = "market"
        session.get(User, "head").department = "market"
        identity.create_user(session, "planning_head", None, groups=["section-head"], department="planning")
        session.flush()
        api.tokens["planning_head"] = identity.create_token(session, "planning_head", "test")
    return iid


def test_case_clock_commands_over_http(app, api, clock):
    iid = a_market_case(app, api, clock, legalLimitDays=20)
    clock_json = api.get(f"/process-instance/{iid}/case-clock").json
    assert (clock_json["acceptance"], clock_json["legalDeadline"]) == ("pending", "2026-03-30T09:00:00.000+0000")
    bad = api.post(f"/process-instance/{iid}/case-clock/supplement-request", {"missing": []}, user="clerk")
    assert bad.status_code == 400 and "every missing item" in bad.json["message"]
    accepted = api.post(f"/process-instance/{iid}/case-clock/accept", user="clerk")
    assert accepted.status_code == 200 and accepted.json["acceptance"] == "accepted"
    suspend = {"procedure": "expert-review", "legalBasis": "行政许可法第四十五条", "expectedDays": 3,
               "applicantNotice": "专家评审约3个工作日"}
    window = api.post(f"/process-instance/{iid}/case-clock/suspension", suspend, user="clerk")
    assert window.status_code == 403 and "clock-pause" in window.json["message"]  # the department pauses, not the window
    elsewhere = api.post(f"/process-instance/{iid}/case-clock/suspension", suspend, user="planning_head")
    assert elsewhere.status_code == 404  # another department's head does not see the case
    assert api.post(f"/process-instance/{iid}/case-clock/suspension", suspend, user="head").json["suspended"]
    clock.advance(timedelta(days=7))  # Mon 9 Mar: Tue-Fri and Mon = 5 working days
    resumed = api.post(f"/process-instance/{iid}/case-clock/resume", {"result": "通过"}, user="head").json
    assert (resumed["suspendedDays"], resumed["suspensions"][0]["workingDays"]) == (5, 5)
    refused = api.post(f"/process-instance/{iid}/case-clock/extension",
                       {"reason": "r", "applicantNotice": "n"}, user="clerk")
    assert refused.status_code == 403
    assert api.post(f"/process-instance/{iid}/case-clock/extension", {"reason": "r", "applicantNotice": "n"},
                    user="planning_head").status_code == 404  # art. 42 is the case's own department's to use
    extended = api.post(f"/process-instance/{iid}/case-clock/extension",
                        {"reason": "需联合会审", "applicantNotice": "延长十个工作日"}, user="head")
    assert extended.status_code == 200 and extended.json["extensionDays"] == 10
    listed = api.get("/case-clock?warningState=normal").json
    assert [c["processInstanceId"] for c in listed] == [iid]
    assert api.get("/case-clock?warningState=purple").status_code == 400
    assert api.get("/process-instance/nope/case-clock").status_code == 404


def test_yellow_notice_reaches_the_outbox_and_is_delivered_once(api, clock, app):
    from api import state

    iid = start_case(api, clock, promisedLimitDays=1, legalLimitDays=20, acceptedOnReceipt=True)
    clock.set(datetime(2026, 3, 2, 9, 1, tzinfo=timezone.utc))  # after close on Monday: less than a day left
    from engine import caseclock
    caseclock.check_due(state(app).sessions)
    [notice] = api.get("/supervision-notice", user="supervisor").json
    assert (notice["kind"], notice["businessKey"], notice["processInstanceId"]) == ("yellow", "QP-77", iid)
    assert api.post(f"/supervision-notice/{notice['id']}/delivered", user="clerk").status_code == 403
    assert api.post(f"/supervision-notice/{notice['id']}/delivered", user="worker").status_code == 204
    assert api.get("/supervision-notice", user="supervisor").json == []


def test_calendar_administration(api, clock):
    text = SAMPLE_2027.read_text(encoding="utf-8")
    import json
    arrangement = json.loads(text)
    assert api.put("/calendar/year/2027", arrangement, user="supervisor").status_code == 403
    mismatch = api.put("/calendar/year/2028", arrangement)
    assert mismatch.status_code == 400 and "must match the URL" in mismatch.json["message"]
    broken = dict(arrangement, workdays=["2027-02-15"])
    bad = api.put("/calendar/year/2027", broken)
    assert bad.status_code == 400 and "Saturday or Sunday" in bad.json["message"]
    assert api.put("/calendar/year/2027", arrangement).status_code == 200
    info = api.get("/calendar").json
    assert 2027 in info["officialYears"] and info["loadedYears"][0]["year"] == 2027
    deadline = api.get("/calendar/deadline?from=2027-02-04&days=1").json
    assert deadline == {"day": "2027-02-14", "at": "2027-02-14T09:00:00.000+0000", "estimated": False}
    assert api.put("/calendar/rule/2026-03-04", {"workday": False}).status_code == 400
    assert api.put("/calendar/rule/2026-03-04", {"workday": False, "note": "闭厅"}).status_code == 204
    assert api.get("/calendar/deadline?from=2026-03-03&days=1").json["day"] == "2026-03-05"
    assert api.delete("/calendar/rule/2026-03-04").status_code == 204
    assert api.delete("/calendar/rule/2026-03-04").status_code == 404
    assert api.get("/calendar/deadline?from=yesterday&days=1").status_code == 400


def test_failed_timer_shows_as_job_and_retries_over_http(api, clock, app, monkeypatch):
    from api import state
    from engine.errors import ProcessFailure

    assert api.deploy("camunda/timer_event_gateway.bpmn").status_code == 200
    iid = api.post("/process-definition/key/timer_event_gateway/start", {}, user="clerk").json["id"]
    [job] = api.get(f"/job?processInstanceId={iid}").json
    assert (job["activityId"], job["eventKind"], job["retries"]) == ("no_reply", "intermediate", 3)

    def broken(task, tz):
        raise ProcessFailure("mail gateway down")
    monkeypatch.setattr(scheduler, "fire", broken)
    clock.advance(timedelta(hours=2))
    assert scheduler.run_round(state(app).sessions).failed == 1
    assert api.get("/job?withException=true").json[0]["exceptionMessage"] == "mail gateway down"
    assert api.get("/job/count?noRetriesLeft=true").json == {"count": 0}
    assert api.put(f"/job/{job['id']}/retries", {"retries": -1}).status_code == 400
    assert api.put(f"/job/{job['id']}/retries", {"retries": 5}, user="clerk").status_code == 403
    assert api.put(f"/job/{job['id']}/retries", {"retries": 5}).status_code == 204
    assert api.put("/job/unknown/retries", {"retries": 1}).status_code == 404
