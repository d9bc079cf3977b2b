"""Deployment: versioning, checksums, both dialects, and hostile or broken XML."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import deploy as deploy_module
from engine import runtime
from engine.errors import DeploymentError
from engine.models import Deployment, ProcessDefinition, ProcessInstance

from .conftest import bpmn

MINIMAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="minimal" name="%s" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="u" name="Look"><bpmn:incoming>f</bpmn:incoming><bpmn:outgoing>g</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>g</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="u"/>
    <bpmn:sequenceFlow id="g" sourceRef="u" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def _deploy(sessions, *resources, **kw):
    with sessions.begin() as session:
        return deploy_module.deploy(session, list(resources), actor="test", **kw)


def _count(sessions, model) -> int:
    with sessions.begin() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_redeploy_versions_and_checksum_filtering(sessions):
    first = _deploy(sessions, ("m.bpmn", MINIMAL % b"One"))
    assert [(d.key, d.version) for d in first.new_definitions] == [("minimal", 1)]
    same = _deploy(sessions, ("m.bpmn", MINIMAL % b"One"))
    assert same.deployment is None and [d.version for d in same.unchanged_definitions] == [1]
    with sessions.begin() as session:
        old_instance = runtime.start_instance(session, "minimal").id
    changed = _deploy(sessions, ("m.bpmn", MINIMAL % b"Two"))
    assert [(d.key, d.version, d.name) for d in changed.new_definitions] == [("minimal", 2, "Two")]
    with sessions.begin() as session:
        new_instance = runtime.start_instance(session, "minimal").id
        old = session.get(ProcessInstance, old_instance)
        new = session.get(ProcessInstance, new_instance)
        assert old.definition_id == first.new_definitions[0].id
        assert new.definition_id == changed.new_definitions[0].id
    assert _count(sessions, Deployment) == 2


def test_duplicate_filtering_off_creates_a_version(sessions):
    _deploy(sessions, ("m.bpmn", MINIMAL % b"One"))
    again = _deploy(sessions, ("m.bpmn", MINIMAL % b"One"), duplicate_filtering=False)
    assert [d.version for d in again.new_definitions] == [2]


@pytest.mark.parametrize("path,dialect", [("camunda/five_step.bpmn", "camunda"), ("spiff/five_step.bpmn", "spiff")])
def test_both_dialects_deploy(sessions, path, dialect):
    result = _deploy(sessions, bpmn(path))
    assert [(d.key, d.dialect) for d in result.new_definitions] == [("five_step", dialect)]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" name="&xxe;" isExecutable="true"/></bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="p" name="&lol3;" isExecutable="true"/></bpmn:definitions>"""
NOT_XML = b"<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><unclosed>"
NOT_BPMN = b"<html><body>hello</body></html>"
XSD_INVALID = MINIMAL.replace(b'<bpmn:endEvent id="e">', b'<bpmn:endEvent id="e" bogus="1"><bpmn:nonsense/>') % b"X"
BAD_TOPIC = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:serviceTask id="java_delegate" camunda:class="org.Example"><bpmn:incoming>f</bpmn:incoming></bpmn:serviceTask>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="java_delegate"/>
  </bpmn:process></bpmn:definitions>"""
NO_EXECUTABLE = MINIMAL.replace(b'isExecutable="true"', b'isExecutable="false"') % b"X"


@pytest.mark.parametrize("payload,expected", [
    (XXE, "DOCTYPE"),
    (LAUGHS, "DOCTYPE"),
    (NOT_XML, "not well-formed"),
    (NOT_BPMN, "root element must be bpmn:definitions"),
    (XSD_INVALID, "nonsense"),
    (BAD_TOPIC, "java_delegate"),
    (NO_EXECUTABLE, "no executable process"),
])
def test_bad_documents_are_rejected_and_nothing_is_written(sessions, payload, expected):
    with pytest.raises(DeploymentError) as caught:
        _deploy(sessions, ("good.bpmn", MINIMAL % b"Fine"), ("bad.bpmn", payload))
    assert expected in str(caught.value)
    assert caught.value.problems and caught.value.problems[0]["resource"] == "bad.bpmn"
    assert _count(sessions, ProcessDefinition) == 0
    assert _count(sessions, Deployment) == 0


def test_xsd_problem_reports_line_and_element(sessions):
    with pytest.raises(DeploymentError) as caught:
        _deploy(sessions, ("bad.bpmn", XSD_INVALID))
    problem = caught.value.problems[0]
    assert problem["line"] == 6
    assert problem["elementId"] == "e"


def test_oversized_document_is_refused(sessions, services):
    limit = services.settings.max_bpmn_bytes
    with pytest.raises(DeploymentError, match="limit"):
        _deploy(sessions, ("big.bpmn", MINIMAL % (b"x" * limit)))


def test_a_timer_longer_than_the_calendar_is_refused_at_once(sessions):
    """SpiffWorkflow counts a duration month by month; P99999999999Y once kept a deployment busy for hours."""
    from .conftest import BPMN_DIR

    endless = (BPMN_DIR / "broken" / "timer_endless_duration.bpmn").read_bytes()
    with pytest.raises(DeploymentError, match="longer than the calendar") as caught:
        _deploy(sessions, ("endless.bpmn", endless))
    assert caught.value.problems[0]["elementId"] == "Timer_wait"
    assert _count(sessions, ProcessDefinition) == 0
