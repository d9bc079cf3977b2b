"""The BPMN files in processes/ as data a designer opens in Camunda Modeler: every element in a lane and drawn
inside it, no two shapes on top of each other. Names, forms, workers, approval levels and the case clock are
lint rules (tests/test_lint.py lints every file here)."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.settings import PROJECT_ROOT
from workers.handlers import build_handlers

PROCESSES = sorted((PROJECT_ROOT / "processes").glob("*.bpmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "camunda": "http://camunda.org/schema/1.0/bpmn"}
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "userTask", "serviceTask",
              "scriptTask", "callActivity", "exclusiveGateway", "parallelGateway", "eventBasedGateway")


def _nodes(tree) -> list:
    return [e for tag in FLOW_NODES for e in tree.iterfind(f".//bpmn:process//bpmn:{tag}", NS)]


def _bounds(tree, element_id: str) -> tuple[float, float, float, float]:
    b = tree.find(f".//bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def test_the_five_paths_are_there():
    """The five approval paths, and the catalogue's own adjustment process (rule 14)."""
    assert [p.stem for p in PROCESSES] == ["approval_decision", "bundle_case", "catalogue_adjustment",
                                           "issue_and_close", "site_survey", "window_intake"]


@pytest.mark.parametrize("path", PROCESSES, ids=lambda p: p.stem)
def test_every_element_has_a_shape_in_its_lane(path: Path):
    tree = etree.parse(str(path))
    lanes = {ref.text: lane for lane in tree.iterfind(".//bpmn:lane", NS) for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    for node in _nodes(tree):
        node_id = node.get("id")
        assert node_id in lanes, f"{node_id} is in no lane"
        x, y, w, h = _bounds(tree, node_id)
        lx, ly, lw, lh = _bounds(tree, lanes[node_id].get("id"))
        if etree.QName(node).localname != "boundaryEvent":
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, f"{node_id} lies outside its lane"
    for flow in tree.iterfind(".//bpmn:sequenceFlow", NS):
        edge = tree.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        assert edge is not None and len(edge) >= 2, f"{flow.get('id')} has no edge"


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


def test_the_topics_lint_checks_against_are_the_ones_the_workers_serve(tmp_path):
    """`onewindow lint` (onewindow/worker-registered) trusts TOPICS; the handlers are what really runs."""
    from workers.handlers import TOPICS, WorkerContext
    from workers.settings import WorkerSettings

    context = WorkerContext.create(WorkerSettings(worker_store_url=f"sqlite:///{tmp_path}/l.db"))
    assert set(build_handlers(context)) == TOPICS
