"""How long a designer waits for `onewindow validate` and `onewindow lint` (and the web modeler for both on save).

Times validation (hardened read, XSD, the engine's checks, SpiffWorkflow's parser) and lint (all rules) for each
model in processes/, and for generated chains of N user tasks with their diagram (the size of model a save in
the modeler checks). Prints milliseconds per file (median of the runs). Not a test: nothing here asserts a speed.

Usage: python bench/design_checks.py [--runs N] [--sizes 50,200,400]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import lint, validation  # noqa: E402
from workers.handlers import TOPICS  # noqa: E402

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
        ' id="Defs" targetNamespace="http://onewindow.example/bpmn">\n')


def chain(size: int) -> bytes:
    """A process of ``size`` user tasks in a row, each with a form and a group, drawn in a grid."""
    nodes = ['<bpmn:startEvent id="S" name="开始" />']
    shapes = ['<bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="0" y="0" width="36" height="36" />'
              '</bpmndi:BPMNShape>']
    previous = "S"
    for n in range(size):
        nodes.append(f'<bpmn:userTask id="T{n}" name="审核{n}" camunda:formKey="handling_review" '
                     'camunda:candidateGroups="center:window-clerk" />')
        nodes.append(f'<bpmn:sequenceFlow id="F{n}" sourceRef="{previous}" targetRef="T{n}" />')
        x, y = 100 + (n % 20) * 150, (n // 20) * 120
        shapes.append(f'<bpmndi:BPMNShape id="T{n}_di" bpmnElement="T{n}"><dc:Bounds x="{x}" y="{y}" width="100" '
                      'height="80" /></bpmndi:BPMNShape>')
        shapes.append(f'<bpmndi:BPMNEdge id="F{n}_di" bpmnElement="F{n}"><di:waypoint x="{x - 50}" y="{y + 40}" />'
                      f'<di:waypoint x="{x}" y="{y + 40}" /></bpmndi:BPMNEdge>')
        previous = f"T{n}"
    nodes.append('<bpmn:endEvent id="E" name="结束" />')
    nodes.append(f'<bpmn:sequenceFlow id="F_end" sourceRef="{previous}" targetRef="E" />')
    shapes.append('<bpmndi:BPMNShape id="E_di" bpmnElement="E"><dc:Bounds x="0" y="-100" width="36" height="36" />'
                  '</bpmndi:BPMNShape><bpmndi:BPMNEdge id="F_end_di" bpmnElement="F_end"><di:waypoint x="0" y="0" />'
                  '<di:waypoint x="0" y="-64" /></bpmndi:BPMNEdge>')
    return (HEAD + '<bpmn:process id="chain" name="链" isExecutable="true">' + "".join(nodes) + "</bpmn:process>"
            '<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="chain">' + "".join(shapes)
            + "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>").encode("utf-8")


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sizes", default="50,200,400")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    context = lint.LintContext(forms_dir=ROOT / "forms", topics=TOPICS)
    config = lint.load_config(ROOT / "processes")
    models = [(p.name, p.read_bytes()) for p in sorted((ROOT / "processes").glob("*.bpmn"))]
    models += [(f"chain of {n} user tasks", chain(int(n))) for n in args.sizes.split(",")]
    print(f"{'model':32} {'KB':>6} {'validate ms':>12} {'lint ms':>9} {'both (save) ms':>15}")
    for name, data in models:
        checked = validation.validate(data, name)
        assert not [f for f in checked if f.severity == "error"], checked[:3]
        v = median_ms(lambda: validation.validate(data, name), args.runs)
        v_lint = median_ms(lambda: lint.lint(data, name, context, config), args.runs)
        both = median_ms(lambda: lint.check(data, name, context, config), args.runs)
        print(f"{name:32} {len(data) / 1024:6.0f} {v:12.1f} {v_lint:9.1f} {both:15.1f}")


if __name__ == "__main__":
    main()
