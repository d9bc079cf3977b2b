"""Versions of a process: each deployment of a changed file adds one, says who deployed it when, and
leaves running instances where they are; new instances start on the latest version."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import deploy as deploying
from engine import versions
from engine.errors import NotFound

from .conftest import bpmn
from .flows import complete_only, start, status, user_tasks


def deploy(sessions, path: str, actor: str, name: str) -> str:
    with sessions.begin() as session:
        return deploying.deploy(session, [bpmn(path)], actor=actor, name=name, source="test").new_definitions[0].id


def test_a_new_version_leaves_running_instances_on_theirs_and_new_ones_start_on_it(sessions):
    v1 = deploy(sessions, "versions/review_v1.bpmn", "designer", "first")
    old = start(sessions, "review_versions")
    v2 = deploy(sessions, "versions/review_v2.bpmn", "designer", "second")
    new = start(sessions, "review_versions")
    assert [(t.activity_id, t.definition_id, t.name) for t in user_tasks(sessions, old)] == [("review", v1, "Review")]
    assert [(t.activity_id, t.definition_id) for t in user_tasks(sessions, new)] == [("review", v2)]
    complete_only(sessions, old, "review")
    assert status(sessions, old) == "completed", "v1's path: no second look"
    complete_only(sessions, new, "review")
    assert [t.activity_id for t in user_tasks(sessions, new)] == ["second_look"]


def test_versions_say_who_deployed_when_and_how_many_cases_run_on_each(sessions, clock):
    t0 = clock.now()
    v1 = deploy(sessions, "versions/review_v1.bpmn", "li", "first")
    for _ in range(2):
        start(sessions, "review_versions")
    clock.advance(timedelta(days=1))
    v2 = deploy(sessions, "versions/review_v2.bpmn", "wang", "second")
    done = start(sessions, "review_versions")
    complete_only(sessions, done, "review")
    complete_only(sessions, done, "second_look")
    start(sessions, "review_versions")
    with sessions.begin() as session:
        found = versions.list_versions(session, "review_versions")
        keys = versions.list_keys(session)
        assert versions.get_version(session, "review_versions", 1).id == v1
        with pytest.raises(NotFound):
            versions.get_version(session, "review_versions", 9)
        with pytest.raises(NotFound):
            versions.list_versions(session, "nothing_like_it")
    assert [(v.version, v.definition_id, v.deployed_by, v.deployment_name, v.deployment_source, v.running, v.latest)
            for v in found] == [(2, v2, "wang", "second", "test", 1, True), (1, v1, "li", "first", "test", 2, False)]
    assert (found[0].deployed_at, found[1].deployed_at) == (t0 + timedelta(days=1), t0)
    assert found[1].resource_name == "review_v1.bpmn" and len(found[1].checksum) == 64
    [summary] = keys
    assert (summary.key, summary.name, summary.latest_version, summary.latest_id, summary.versions, summary.running,
            summary.last_deployed_by) == ("review_versions", "Review versions", 2, v2, 2, 3, "wang")


def test_a_called_process_counts_the_cases_that_run_it_inside_a_call_activity(sessions):
    with sessions.begin() as session:
        deploying.deploy(session, [bpmn("camunda/call_parent.bpmn"), bpmn("camunda/call_child.bpmn")], actor="li")
    start(sessions, "call_parent")
    start(sessions, "call_parent")
    with sessions.begin() as session:
        [child] = versions.list_versions(session, "call_child")
        [parent] = versions.list_versions(session, "call_parent")
    assert (child.running, child.running_as_called) == (0, 2)
    assert (parent.running, parent.running_as_called) == (2, 0)
