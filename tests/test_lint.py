"""`engine.lint`: the shipped models lint clean, each lint file of tests/bpmn/broken triggers exactly its
rule, every rule is explained and exercised, and the configuration (bpmnlint-style lint.json) does what its
docstring promises — including telling the designer, with a line number, what is wrong with it.

Lint findings gate saving in the web modeler and deploying from the design pages, so a rule that fires on
the models we ship, or a config typo that silently switches nothing off, would block or mislead people.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from engine import lint
from engine.lint import LintConfig, LintContext
from engine.validation import ERROR, WARNING
from tests.test_validate import (BROKEN, PROCESSES, ROOT, UNREADABLE, assert_findings, compare, corpus_files,
                                 expected, lint_codes, mutants, process_files, process_ids, time_limit)
from workers.handlers import TOPICS

FORMS = ROOT / "forms"


def context() -> LintContext:
    """What the CLI and the design pages pass: the forms directory, the registered topics, the known processes."""
    return LintContext(forms_dir=FORMS, topics=frozenset(TOPICS), known_processes=process_ids())


def lint_file(path: Path, config: LintConfig | None = None, resource: str | None = None) -> list[lint.Finding]:
    findings = lint.lint(path.read_bytes(), resource or path.name, context(), config)
    assert_findings(findings)
    return findings


def codes(findings: list[lint.Finding]) -> list[tuple[str, str, str | None]]:
    return [(f.code, f.severity, f.element_id) for f in findings]


# --- the shipped models ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", process_files(), ids=lambda p: p.name)
def test_process_lints_clean(path: Path) -> None:
    config = lint.load_config(PROCESSES)
    assert config.problems == ()
    assert [str(f) for f in lint_file(path, config, path.name)] == []


@pytest.mark.parametrize("path", process_files(), ids=lambda p: p.name)
def test_process_checks_clean(path: Path) -> None:
    """``check`` (validate + lint, what the modeler asks on save) has nothing to say about them either."""
    findings = lint.check(path.read_bytes(), path.name, context(), lint.load_config(PROCESSES))
    assert_findings(findings)
    assert [str(f) for f in findings] == []


# --- the broken corpus ----------------------------------------------------------------------------

def readable() -> list[str]:
    return sorted(name for name, entries in expected().items() if not {e["code"] for e in entries} & UNREADABLE)


@pytest.mark.parametrize("name", readable())
def test_corpus_lint(name: str) -> None:
    """lint (default levels) gives exactly the file's lint findings; the validation files are lint-clean."""
    compare(lint_file(BROKEN / name), [e for e in expected()[name] if e["code"] in lint_codes()], name)


@pytest.mark.parametrize("name", sorted(set(expected()) - set(readable())))
def test_unreadable_corpus_lint(name: str) -> None:
    """A file lint cannot read gets the reason, as from validate, and no rule runs on it."""
    compare(lint_file(BROKEN / name), expected()[name], name)


@pytest.mark.parametrize("name", readable())
def test_corpus_check(name: str) -> None:
    """``check`` is validate and lint in one reading: every expected finding, both kinds, nothing else."""
    findings = lint.check((BROKEN / name).read_bytes(), name, context())
    assert_findings(findings)
    compare(findings, expected()[name], name)


def test_every_rule_is_exercised_by_the_corpus() -> None:
    triggered = {e["code"] for entries in expected().values() for e in entries}
    assert sorted(lint_codes() - triggered) == []


def test_corpus_lint_files_are_named_for_lint() -> None:
    """lint_*.bpmn files exist for lint rules; every other file is about validation and lint-clean."""
    for path in corpus_files():
        has_lint = any(e["code"] in lint_codes() for e in expected()[path.name])
        assert has_lint == path.name.startswith("lint_"), path.name


# --- the rules ------------------------------------------------------------------------------------

def test_rules_are_described() -> None:
    ids = [r.id for r in lint.rules()]
    assert len(ids) == len(set(ids)), ids
    for each in lint.rules():
        assert each.id and each.id == each.id.strip() and " " not in each.id, each.id
        assert each.severity in (ERROR, WARNING), each.id
        assert len(each.explanation.strip()) > 20, each.id
        assert callable(each.check), each.id
        assert lint.rule(each.id) is each
    assert lint.rule("no-such-rule") is None


def test_domain_rules_are_prefixed() -> None:
    """bpmnlint ids for structural rules, onewindow/ for this domain's, so a designer can tell them apart."""
    domain = {r.id for r in lint.rules() if r.id.startswith("onewindow/")}
    assert domain == {"onewindow/approval-levels", "onewindow/user-task-assignment", "onewindow/form-exists",
                      "onewindow/worker-registered", "onewindow/specialist-time-limit", "onewindow/case-clock",
                      "onewindow/chinese-name"}


def test_worker_rule_is_skipped_without_topics() -> None:
    """The engine does not know the workers; without topics the rule says nothing rather than everything."""
    path = BROKEN / "lint_unregistered_topic.bpmn"
    assert lint.lint(path.read_bytes(), path.name, LintContext(forms_dir=FORMS)) == []


def test_a_rule_that_raises_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(model: Any, ctx: LintContext) -> Any:
        raise ValueError("rule bug")

    patched = tuple(dataclasses.replace(r, check=boom) if r.id == "no-disconnected" else r for r in lint.rules())
    monkeypatch.setattr(lint, "rules", lambda: patched)
    findings = lint_file(BROKEN / "lint_unlabeled_task.bpmn")
    assert codes(findings) == [("internal", ERROR, None), ("label-required", ERROR, "Task_review")]
    assert "no-disconnected" in findings[0].message and "rule bug" in findings[0].message


# --- configuration --------------------------------------------------------------------------------

DISCONNECTED = BROKEN / "lint_disconnected.bpmn"
FAKE_JOIN = BROKEN / "lint_fake_join.bpmn"


def config(data: Any) -> LintConfig:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    parsed = lint.parse_config(text, "lint.json")
    return parsed


def test_rule_off_globally() -> None:
    assert lint_file(DISCONNECTED, config({"rules": {"no-disconnected": "off"}})) == []
    assert lint_file(DISCONNECTED, config({"rules": {"no-disconnected": 0}})) == []


def test_rule_off_for_one_file_by_name() -> None:
    off = config({"files": {"lint_disconnected.bpmn": {"rules": {"no-disconnected": "off"}}}})
    assert lint_file(DISCONNECTED, off) == []
    assert lint_file(DISCONNECTED, off, "models/lint_disconnected.bpmn") == []
    assert codes(lint_file(DISCONNECTED, off, "other.bpmn")) == [("no-disconnected", ERROR, "Task_note")]


@pytest.mark.parametrize("pattern", ["lint_*.bpmn", "*disconnected*", "models/*.bpmn", "*.bpmn"])
def test_rule_off_by_glob(pattern: str) -> None:
    off = config({"files": {pattern: {"rules": {"no-disconnected": "off"}}}})
    assert lint_file(DISCONNECTED, off, "models/lint_disconnected.bpmn") == []


def test_glob_that_does_not_match_leaves_the_rule_on() -> None:
    off = config({"files": {"approval_*.bpmn": {"rules": {"no-disconnected": "off"}}}})
    assert codes(lint_file(DISCONNECTED, off)) == [("no-disconnected", ERROR, "Task_note")]


def test_file_entry_overrides_global_level() -> None:
    levels = config({"rules": {"no-disconnected": "off"},
                     "files": {"lint_disconnected.bpmn": {"rules": {"no-disconnected": "warn"}}}})
    assert codes(lint_file(DISCONNECTED, levels)) == [("no-disconnected", WARNING, "Task_note")]
    assert lint_file(DISCONNECTED, levels, "else.bpmn") == []


@pytest.mark.parametrize("level, severity", [(0, None), (1, WARNING), (2, ERROR), ("off", None), ("warn", WARNING),
                                             ("warning", WARNING), ("error", ERROR)])
def test_levels(level: Any, severity: str | None) -> None:
    """eslint's numbers and bpmnlint's words; fake-join is a warning by default, so both directions show."""
    findings = lint_file(FAKE_JOIN, config({"rules": {"fake-join": level}}))
    assert codes(findings) == ([] if severity is None else [("fake-join", severity, "End_1")])


def test_bpmnlint_list_form() -> None:
    """bpmnlint writes ["warn", {options}]; the level counts, options are for rules that take them."""
    findings = lint_file(DISCONNECTED, config({"rules": {"no-disconnected": ["warn", {"ignore": []}]}}))
    assert codes(findings) == [("no-disconnected", WARNING, "Task_note")]
    assert lint_file(DISCONNECTED, config({"rules": {"no-disconnected": ["off"]}})) == []


def test_unknown_rule_is_reported_with_its_line() -> None:
    text = '{\n  "rules": {\n    "no-disconected": "off"\n  }\n}\n'
    parsed = lint.parse_config(text, "processes/lint.json")
    assert [(f.code, f.severity, f.line, f.resource) for f in parsed.problems] == [
        ("lint-config.unknown-rule", ERROR, 3, "processes/lint.json")]
    assert parsed.problems[0].params == {"rule": "no-disconected"}
    # the typo switches nothing off, and lint says so beside the rule's own finding
    assert sorted(codes(lint_file(DISCONNECTED, parsed))) == [("lint-config.unknown-rule", ERROR, None),
                                                              ("no-disconnected", ERROR, "Task_note")]


def test_unknown_rule_in_a_file_entry() -> None:
    text = '{\n  "files": {\n    "a.bpmn": {\n      "rules": {\n        "nope": "off"\n      }\n    }\n  }\n}\n'
    problems = lint.parse_config(text).problems
    assert [(f.code, f.line) for f in problems] == [("lint-config.unknown-rule", 5)]
    assert "files.a.bpmn.rules" in problems[0].message


@pytest.mark.parametrize("level", ["fatal", 3, -1, True, None, {"level": "warn"}, [], 1.5])
def test_bad_level_is_reported_with_its_line(level: Any) -> None:
    text = '{\n  "rules": {\n    "label-required": "warn",\n    "no-disconnected": ' + json.dumps(level) + "\n  }\n}"
    parsed = lint.parse_config(text)
    assert [(f.code, f.line, f.params.get("rule")) for f in parsed.problems] == [
        ("lint-config.bad-level", 4, "no-disconnected")]
    assert parsed.rules == {"label-required": "warn"}
    # a bad level keeps the rule's default
    assert codes(lint_file(DISCONNECTED, parsed))[-1] == ("no-disconnected", ERROR, "Task_note")


@pytest.mark.parametrize("text, line", [('{\n  "rules": {\n    "fake-join": "off",\n  }\n}', 4),
                                        ('{\n  "rules": \n', 3), ("", 1), ("{'rules': {}}", 1)])
def test_invalid_json_is_reported_with_its_line(text: str, line: int) -> None:
    parsed = lint.parse_config(text, "lint.json")
    assert [(f.code, f.severity, f.line) for f in parsed.problems] == [("lint-config.invalid", ERROR, line)]
    assert "not valid JSON" in parsed.problems[0].message
    assert codes(lint_file(DISCONNECTED, parsed)) == [("lint-config.invalid", ERROR, None),
                                                      ("no-disconnected", ERROR, "Task_note")]


@pytest.mark.parametrize("text, fragment", [
    ("[]", "must be a JSON object"),
    ('{"rule": {}}', "unknown key 'rule'"),
    ('{"rules": []}', "rules must be an object"),
    ('{"files": {"a.bpmn": "off"}}', "files.a.bpmn must be an object with rules"),
    ('{"files": {"a.bpmn": {"rules": 1}}}', "files.a.bpmn.rules must be an object"),
])
def test_malformed_config_is_reported(text: str, fragment: str) -> None:
    problems = lint.parse_config(text).problems
    assert [f.code for f in problems] == ["lint-config.invalid"]
    assert fragment in problems[0].message


def test_line_is_that_of_the_entry_not_of_the_first_mention() -> None:
    """The same rule under ``rules`` and under ``files`` (off everywhere, on for one file) is common; the
    finding points at the entry that is wrong, in either order (a text search found the first mention)."""
    text = ('{\n  "rules": {\n    "fake-join": "off"\n  },\n  "files": {\n    "a.bpmn": {"rules": {\n'
            '      "fake-join": "fatal"\n    }}\n  }\n}\n')
    assert [(f.code, f.line) for f in lint.parse_config(text).problems] == [("lint-config.bad-level", 7)]
    text = ('{\n  "files": {\n    "a.bpmn": {"rules": {"fake-join": "warn"}}\n  },\n  "rules": {\n'
            '    "fake-join": "fatal",\n    "$comment": [1, {"fake-join": 3}]\n  }\n}\n')
    assert [(f.code, f.line) for f in lint.parse_config(text).problems] == [
        ("lint-config.bad-level", 6), ("lint-config.unknown-rule", 7)]


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"rules": {"fake-join": 1' + "0" * 5000 + "}}",
                                  '{"rules": {"fake-join": NaN}}', '{"files": null}', '{"files": ["a.bpmn"]}'])
def test_config_never_raises(text: str) -> None:
    """JSON that json.loads refuses with RecursionError or ValueError instead of JSONDecodeError, and values
    of the wrong type, are findings like any other mistake (parse_config promises never to raise)."""
    problems = lint.parse_config(text).problems
    assert len(problems) == 1 and problems[0].code in ("lint-config.invalid", "lint-config.bad-level"), problems


def test_comment_keys_are_allowed() -> None:
    """bpmnlint configs carry "$schema"/"$comment" keys (processes/lint.json does)."""
    assert lint.parse_config('{"$comment": "why", "rules": {}}').problems == ()


def test_load_config(tmp_path: Path) -> None:
    assert lint.load_config(None) == LintConfig()
    assert lint.load_config(tmp_path) == LintConfig()  # a directory without lint.json: the defaults
    assert lint.load_config(tmp_path / "missing.json") == LintConfig()
    (tmp_path / "lint.json").write_text('{"rules": {"no-disconnected": "off"}}', encoding="utf-8")
    from_dir = lint.load_config(tmp_path)
    assert from_dir.rules == {"no-disconnected": "off"} and from_dir.source == str(tmp_path / "lint.json")
    assert lint.load_config(tmp_path / "lint.json") == from_dir
    assert lint_file(DISCONNECTED, from_dir) == []


def test_load_config_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "lint.json").write_bytes(b'{"rules": {"\xff": "off"}}')
    loaded = lint.load_config(tmp_path)
    assert [(f.code, f.resource) for f in loaded.problems] == [("lint-config.invalid", str(tmp_path / "lint.json"))]


# --- fuzz -----------------------------------------------------------------------------------------

def test_fuzz_lint_never_fails() -> None:
    """The rules walk graphs (longest approval chains, clock paths, subprocess borders); on mutated models
    with dangling references, cycles and misplaced elements they must answer, never raise."""
    ctx = context()
    problems: list[str] = []
    for label, data in mutants(20240928, 25):
        try:
            with time_limit(10):
                for findings in (lint.lint(data, "mutant.bpmn", ctx), lint.check(data, "mutant.bpmn", ctx)):
                    assert_findings(findings)
                    problems.extend(f"{label}: {f}" for f in findings if f.code == "internal")
        except (AssertionError, Exception) as exc:
            problems.append(f"{label}: {exc!r}")
    assert problems == []


PARALLEL_WITH_NOTICE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://onewindow.example/bpmn">
  <bpmn:process id="notice_and_review" name="告知并审查" isExecutable="true">
    <bpmn:startEvent id="Start" name="收到申请" />
    <bpmn:parallelGateway id="Fork" name="同时办理" />
    <bpmn:serviceTask id="Notice" name="发送听证告知书" camunda:type="external" camunda:topic="notify" />
    <bpmn:userTask id="Review" name="审查" camunda:formKey="handling_review"
                   camunda:candidateGroups="${department}:approval-clerk" />
    <bpmn:parallelGateway id="Join" name="汇合" />
    <bpmn:endEvent id="End" name="办结" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Fork" />
    <bpmn:sequenceFlow id="F2" sourceRef="Fork" targetRef="Notice" />
    <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Review" />
    <bpmn:sequenceFlow id="F4" sourceRef="Notice" targetRef="Join" />
    <bpmn:sequenceFlow id="F5" sourceRef="Review" targetRef="Join" />
    <bpmn:sequenceFlow id="F6" sourceRef="Join" targetRef="End" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="notice_and_review">%s</bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_a_notice_of_a_hearing_is_not_a_hearing_and_parallel_branches_need_no_names() -> None:
    """A service task that sends a hearing notice does no procedure, and every branch of a parallel fork is
    taken, so neither needs what onewindow/specialist-time-limit and onewindow/chinese-name ask of decisions."""
    shapes = "".join(f'<bpmndi:BPMNShape id="{e}_di" bpmnElement="{e}"><dc:Bounds x="{i * 120}" y="0" width="100" '
                     'height="80" /></bpmndi:BPMNShape>' for i, e in enumerate(("Start", "Fork", "Notice", "Review",
                                                                                 "Join", "End")))
    edges = "".join(f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}"><di:waypoint x="0" y="0" />'
                    '<di:waypoint x="10" y="0" /></bpmndi:BPMNEdge>' for f in ("F1", "F2", "F3", "F4", "F5", "F6"))
    data = (PARALLEL_WITH_NOTICE % (shapes + edges)).encode("utf-8")
    assert lint.lint(data, "notice.bpmn", LintContext(forms_dir=FORMS, topics=TOPICS)) == []
