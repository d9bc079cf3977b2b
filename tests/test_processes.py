"""The BPMN files in processes/ as data a designer opens in Camunda Modeler: complete diagrams, Chinese
names, forms and workers that exist, and the Qingpu notice's three-level limit on internal approval."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from engine.settings import PROJECT_ROOT
from workers.handlers import build_handlers

PROCESSES = sorted((PROJECT_ROOT / "processes").glob("*.bpmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "camunda": "http://camunda.org/schema/1.0/bpmn"}
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "userTask", "serviceTask",
              "scriptTask", "callActivity", "exclusiveGateway", "parallelGateway", "eventBasedGateway")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _nodes(tree) -> list:
    return [e for tag in FLOW_NODES for e in tree.iterfind(f".//bpmn:process//bpmn:{tag}", NS)]


def _bounds(tree, element_id: str) -> tuple[float, float, float, float]:
    b = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def test_the_five_paths_are_there():
    assert [p.stem for p in PROCESSES] == ["approval_decision", "bundle_case", "issue_and_close", "site_survey",
                                           "window_intake"]


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_every_element_has_a_chinese_name_a_shape_and_a_lane(path: Path):
    tree = etree.parse(str(path))
    lanes = {ref.text: lane for lane in tree.iterfind(".//bpmn:lane", NS) for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    for node in _nodes(tree):
        node_id = node.get("id")
        assert CHINESE.search(node.get("name") or ""), f"{node_id} has no Chinese name"
        assert node_id in lanes, f"{node_id} is in no lane"
        x, y, w, h = _bounds(tree, node_id)
        lx, ly, lw, lh = _bounds(tree, lanes[node_id].get("id"))
        if etree.QName(node).localname != "boundaryEvent":
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{node_id} lies outside its lane"
    outgoing: dict[str, int] = {}
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        outgoing[flow.get("sourceRef")] = outgoing.get(flow.get("sourceRef"), 0) + 1
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        edge = tree.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        assert edge is not None and len(edge) >= 2, f"{flow.get('id')} has no edge"
        if outgoing[flow.get("sourceRef")] > 1:  # a branch says in Chinese when it is taken
            assert CHINESE.search(flow.get("name") or ""), f"{flow.get('id')} leaves a fork without a Chinese name"
    assert CHINESE.search(tree.find(".//bpmn:participant", NS).get("name"))


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_no_two_shapes_overlap(path: Path):
    tree = etree.parse(str(path))
    boxes = {node.get("id"): _bounds(tree, node.get("id")) for node in _nodes(tree)
             if etree.QName(node).localname != "boundaryEvent"}  # boundary events sit on their host's border
    ids = sorted(boxes)
    for i, a in enumerate(ids):
        ax, ay, aw, ah = boxes[a]
        for b in ids[i + 1:]:
            bx, by, bw, bh = boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_user_tasks_have_groups_and_existing_forms_and_topics_have_workers(path: Path, tmp_path):
    from workers.handlers import WorkerContext
    from workers.settings import WorkerSettings

    topics = set(build_handlers(WorkerContext.create(WorkerSettings(worker_store_url=f"sqlite:///{tmp_path}/l.db"))))
    tree = etree.parse(str(path))
    for task in tree.iterfind(".//bpmn:userTask", NS):
        form = PROJECT_ROOT / "forms" / f"{task.get(CAMUNDA + 'formKey')}.json"
        assert form.is_file(), f"{task.get('id')}: no form {form.name}"
        json.loads(form.read_text(encoding="utf-8"))
        assert task.get(CAMUNDA + "candidateGroups"), f"{task.get('id')} has no candidate group"
    for task in tree.iterfind(".//bpmn:serviceTask", NS):
        assert task.get(CAMUNDA + "topic") in topics, f"{task.get('id')}: no worker for {task.get(CAMUNDA + 'topic')}"


def test_internal_approval_has_at_most_three_levels():
    """Every path from start to end of the decision process passes at most three user tasks (Qingpu notice)."""
    tree = etree.parse(str(PROJECT_ROOT / "processes" / "approval_decision.bpmn"))
    targets: dict[str, list[str]] = {}
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    users = {t.get("id") for t in tree.iterfind(".//bpmn:userTask", NS)}

    def deepest(node: str, seen: frozenset) -> int:
        here = int(node in users)
        nexts = [n for n in targets.get(node, []) if n not in seen]
        return here + max((deepest(n, seen | {n}) for n in nexts), default=0)

    start = tree.find(".//bpmn:startEvent", NS).get("id")
    assert deepest(start, frozenset({start})) == 3
