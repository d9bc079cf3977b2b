"""`engine.validation`: the shipped models are valid, each broken file of tests/bpmn/broken says exactly
what is wrong with it, and no input — wrong types, oversized, or a few thousand random mutations of real
models — makes validation raise, give up (code ``internal``) or call a file valid that deployment refuses.

Validation is what a designer's tool, the deploy page and the web modeler call on whatever a person typed,
so "never raises, never lies about validity" matters more than any single message; the fuzz test below is
seeded, so a failure it finds is reproduced by running it again.
"""
from __future__ import annotations

import copy
import functools
import random
import signal
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from lxml import etree

from engine import deploy, lint, validation, validation_checks
from engine.errors import DeploymentError
from engine.validation import ERROR, WARNING, Finding

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"
BROKEN = Path(__file__).resolve().parent / "bpmn" / "broken"
EXPECTED_FILE = BROKEN / "expected.yaml"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
#: codes a file that cannot be read at all gets (from validate and lint alike)
UNREADABLE = frozenset({"size", "xml.not-well-formed", "xml.doctype", "bpmn.root"})


# --- shared helpers (tests/test_lint.py imports them) -------------------------------------------

@functools.lru_cache(maxsize=None)
def process_ids(directory: Path = PROCESSES) -> frozenset[str]:
    """The process ids deployable from a directory: what ``known_processes`` means for its files."""
    ids: set[str] = set()
    for path in directory.glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        ids.update(p.get("id") for p in root.iterfind(f"{{{BPMN}}}process") if p.get("id"))
    return frozenset(ids)


def process_files() -> list[Path]:
    return sorted(PROCESSES.glob("*.bpmn"))


def corpus_files() -> list[Path]:
    return sorted(BROKEN.glob("*.bpmn"))


@functools.lru_cache(maxsize=1)
def expected() -> dict[str, list[dict[str, Any]]]:
    """expected.yaml: file name -> the findings validate and lint must produce for it (read once; not to be
    modified by callers)."""
    return yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))


def lint_codes() -> frozenset[str]:
    return frozenset(r.id for r in lint.rules())


def assert_findings(findings: Any) -> None:
    """The shape every caller relies on: a list of Findings with a code, a known severity, an English
    message, an int line or None, a str element id or None, and str params (api translates them)."""
    assert isinstance(findings, list), findings
    for finding in findings:
        assert isinstance(finding, Finding), finding
        assert isinstance(finding.code, str) and finding.code, finding
        assert finding.severity in (ERROR, WARNING), finding
        assert isinstance(finding.message, str) and finding.message.strip(), finding
        assert finding.line is None or (isinstance(finding.line, int) and finding.line > 0), finding
        assert finding.element_id is None or isinstance(finding.element_id, str), finding
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in finding.params.items()), finding
        assert isinstance(finding.as_dict(), dict) and str(finding)


def compare(actual: list[Finding], wanted: list[dict[str, Any]], resource: str) -> None:
    """Exactly the wanted findings (code, severity, element, line; message contains the fragment), no other."""
    remaining = list(actual)
    missing = []
    for entry in wanted:
        match = next((f for f in remaining if f.code == entry["code"] and f.severity == entry["severity"]
                      and f.element_id == entry.get("element") and f.line == entry.get("line")
                      and entry.get("message", "") in f.message), None)
        if match is None:
            missing.append(entry)
        else:
            remaining.remove(match)
    assert not missing and not remaining, (
        f"{resource}: missing {missing}; unexpected {[str(f) for f in remaining]}")


# --- mutations ------------------------------------------------------------------------------------

#: attributes whose values the checks follow (references, switches, dialect settings)
ATTRIBUTES = ("id", "sourceRef", "targetRef", "attachedToRef", "default", "isExecutable", "calledElement",
              "messageRef", "errorRef", "signalRef", "escalationRef", "bpmnElement", "processRef", "cancelActivity",
              "triggeredByEvent", "scriptFormat", "isForCompensation", "name", f"{{{CAMUNDA}}}topic",
              f"{{{CAMUNDA}}}formKey", f"{{{CAMUNDA}}}candidateGroups", f"{{{CAMUNDA}}}dueDate",
              f"{{{CAMUNDA}}}type", f"{{{CAMUNDA}}}collection", f"{{{CAMUNDA}}}elementVariable")
TAGS = ("task", "userTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "scriptTask", "businessRuleTask",
        "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
        "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
        "inclusiveGateway", "eventBasedGateway", "complexGateway", "sequenceFlow", "process", "laneSet", "lane",
        "timerEventDefinition", "messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
        "escalationEventDefinition", "conditionalEventDefinition", "linkEventDefinition", "compensateEventDefinition",
        "terminateEventDefinition", "timeDuration", "timeDate", "timeCycle", "conditionExpression", "incoming",
        "outgoing", "extensionElements", "message", "error", "signal", "collaboration", "participant",
        "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "documentation", "script", "flowNodeRef",
        "definitions")
TIMER_TEXTS = ("", "P3X", "PT10M", "P5D", "R3/PT10M", "R-1/PT1H", "R/PT1H", "0 9 * * 1-5", "61 25 * * *", "${due",
               "${dueDate}", "2026-13-40T25:00", "2026-10-08T09:00", "P", "PT", "R0/P1D", "R99999999999/PT1S",
               "P99999999999Y", "R5/P99999999999M", "P9999Y", "\"PT1H\"", "add_working_days(x, 3)", "'", "1e309",
               "()", "[", "-P1D", "R/2026-01-01T00:00/P1D", "2026-01-01T00:00/2026-02-01T00:00", "三天", "x" * 700)
#: extreme but well-formed durations (R... for cycles): what SpiffWorkflow computes month by month or overflows on
DURATIONS = ("P99999999999Y", "P99999999999M", "PT99999999999H", "P99999999999999999999D", "P1.5Y", "P0D", "PT0S",
             "R2/P99999999999Y", "R/P99999999999M", "R3/2026-01-01T00:00/P99999999999Y")
GARBAGE = ("", " ", "x", "Flow_1", "${x}", "tns:", ":", "a:b:c", "一", "1", "true", "false", "none", "#", "..",
           "../etc/passwd", "${department}:", "a,b,,", "decide@", "Task_" * 50, "<", "&amp;", "\t", "ümlaut")
EXTENSIONS = (
    '<camunda:properties xmlns:camunda="{ns}"><camunda:property name="caseClock" value="{v}"/></camunda:properties>',
    '<camunda:properties xmlns:camunda="{ns}"><camunda:property name="caseClockOnReady" value="{v}"/>'
    '</camunda:properties>',
    '<camunda:properties xmlns:camunda="{ns}"><camunda:property name="authorization" value="{v}"/>'
    '</camunda:properties>',
    '<camunda:properties xmlns:camunda="{ns}"><camunda:property name="form" value="{v}"/></camunda:properties>',
    '<camunda:executionListener xmlns:camunda="{ns}" event="{v}" class="x"/>',
    '<camunda:in xmlns:camunda="{ns}" source="{v}" target="y"/>',
    '<camunda:formData xmlns:camunda="{ns}"><camunda:formField id="{v}"/></camunda:formData>')
MARKERS = ("accept", "decided", "supplement-requested", "survey-started", "bogus", "", "decide", "decide,seal")


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _delete(root: etree._Element, rng: random.Random) -> None:
    element = rng.choice(_elements(root)[1:])
    element.getparent().remove(element)


def _duplicate(root: etree._Element, rng: random.Random) -> None:
    element = rng.choice(_elements(root)[1:])
    element.addnext(copy.deepcopy(element))


def _attribute(root: etree._Element, rng: random.Random) -> None:
    """Blank, drop, garble an attribute, give it another element's id, or set a reference where none was."""
    elements = _elements(root)
    ids = [e.get("id") for e in elements if e.get("id")] or ["x"]
    present = [(e, name) for e in elements for name in e.attrib]
    how = rng.randrange(5)
    if how == 4 or not present:
        rng.choice(elements).set(rng.choice(ATTRIBUTES), rng.choice(ids + list(GARBAGE)))
        return
    element, name = rng.choice(present)
    if how == 0:
        element.set(name, "")
    elif how == 1:
        element.set(name, rng.choice(ids))
    elif how == 2:
        element.set(name, rng.choice(GARBAGE))
    else:
        del element.attrib[name]


def _timer(root: etree._Element, rng: random.Random) -> None:
    """Another timer text; where there is no timer expression, one is added to some event definition."""
    elements = _elements(root)
    texts = [e for e in elements if etree.QName(e).localname in ("timeDuration", "timeDate", "timeCycle")]
    if texts:
        rng.choice(texts).text = rng.choice(DURATIONS if rng.random() < 0.4 else TIMER_TEXTS)
        return
    definitions = [e for e in elements if etree.QName(e).localname.endswith("EventDefinition")]
    if definitions:
        kind = rng.choice(("timeDuration", "timeDate", "timeCycle"))
        etree.SubElement(rng.choice(definitions), f"{{{BPMN}}}{kind}").text = rng.choice(TIMER_TEXTS)


def _move(root: etree._Element, rng: random.Random) -> None:
    element = rng.choice(_elements(root)[1:])
    parent = rng.choice(_elements(root))
    if parent is element or element in parent.iterancestors():
        return
    element.getparent().remove(element)
    parent.insert(rng.randrange(len(parent) + 1), element)


def _rename(root: etree._Element, rng: random.Random) -> None:
    rng.choice(_elements(root)[1:]).tag = f"{{{BPMN}}}{rng.choice(TAGS)}"


def _foreign(root: etree._Element, rng: random.Random) -> None:
    element = rng.choice(_elements(root))
    if rng.random() < 0.5:
        etree.SubElement(element, "{urn:example:foreign}thing", id=rng.choice(GARBAGE + ("Foreign_1",))).text = "外来"
    else:
        element.set("{urn:example:foreign}attr", rng.choice(GARBAGE))


def _extension(root: etree._Element, rng: random.Random) -> None:
    """Camunda extensions the checks read or refuse: markers, listeners, mappings, generated forms."""
    element = rng.choice(_elements(root))
    holder = element.find(f"{{{BPMN}}}extensionElements")
    if holder is None:
        holder = etree.Element(f"{{{BPMN}}}extensionElements")
        element.insert(0, holder)
    holder.append(etree.fromstring(rng.choice(EXTENSIONS).format(ns=CAMUNDA, v=rng.choice(MARKERS))))


def _text(root: etree._Element, rng: random.Random) -> None:
    rng.choice(_elements(root)).text = rng.choice(GARBAGE + TIMER_TEXTS)


TREE_MUTATIONS: tuple[Callable[[etree._Element, random.Random], None], ...] = (
    _delete, _duplicate, _attribute, _attribute, _attribute, _timer, _timer, _move, _rename, _foreign, _extension,
    _text)


def _bytes_mutation(data: bytes, rng: random.Random) -> bytes:
    """Truncated or with bytes inserted (random ones, or markup fragments that break the document)."""
    if rng.random() < 0.4:
        return data[:rng.randrange(len(data) + 1)]
    position = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    else:
        junk = rng.choice((b"<", b"&", b"]]>", b"<!DOCTYPE x>", b"\xff\xfe", b"<?xml?>", b"\x00", b"<a>",
                           b"</bpmn:process>", "名".encode("gbk")))
    return data[:position] + junk + data[position:]


def mutant(data: bytes, rng: random.Random) -> bytes:
    """One random variant of a readable BPMN document: a few tree mutations, or a byte-level one."""
    if rng.random() < 0.15:
        return _bytes_mutation(data, rng)
    root = etree.fromstring(data)
    for _ in range(rng.randint(1, 3)):
        if len(_elements(root)) > 1:
            rng.choice(TREE_MUTATIONS)(root, rng)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fuzz_sources() -> list[Path]:
    """Every shipped model and a few corpus files with constructs the models lack (compensation, links,
    timers, subprocesses, missing references)."""
    picks = ("compensation", "link_event", "boundary_attached_missing", "timer_bad_duration", "lint_approval_levels",
             "lint_subprocess_timer_start", "lint_event_subprocess_blank_start", "lint_clock_not_stopped")
    return process_files() + [BROKEN / f"{name}.bpmn" for name in picks]


def mutants(seed: int, per_source: int) -> Iterator[tuple[str, bytes]]:
    """(label, data) for ``per_source`` mutants of each fuzz source, reproducible from the seed."""
    for source in fuzz_sources():
        rng = random.Random(f"{seed}:{source.name}")
        original = source.read_bytes()
        for index in range(per_source):
            yield f"{source.name}#{seed}:{index}", mutant(original, rng)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: a validation that never returns is a bug the fuzz test must report. The alarm
    repeats every second, because the code under test turns exceptions into findings and may swallow one."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the shipped models ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", process_files(), ids=lambda p: p.name)
def test_process_validates(path: Path) -> None:
    findings = validation.validate(path.read_bytes(), path.name, known_processes=process_ids())
    assert_findings(findings)
    assert [str(f) for f in findings if f.severity == ERROR] == []


def test_processes_call_only_known_processes() -> None:
    """With known_processes, a call to a process outside processes/ would be a warning; there is none."""
    for path in process_files():
        findings = validation.validate(path.read_bytes(), path.name, known_processes=process_ids())
        assert [str(f) for f in findings if f.code == "reference.call"] == []


# --- the broken corpus ----------------------------------------------------------------------------

def test_corpus_and_expectations_match() -> None:
    """Every corpus file has expectations and every expectation a file (a renamed file is not silently skipped)."""
    assert sorted(expected()) == [p.name for p in corpus_files()]
    for name, entries in expected().items():
        assert isinstance(entries, list) and entries, name
        for entry in entries:
            assert {"code", "severity", "element", "line", "message"} <= set(entry), (name, entry)


@pytest.mark.parametrize("name", sorted(expected()))
def test_corpus_validate(name: str) -> None:
    """validate gives exactly the file's non-lint findings: the intended one(s), nothing else."""
    findings = validation.validate((BROKEN / name).read_bytes(), name, known_processes=process_ids())
    assert_findings(findings)
    compare(findings, [e for e in expected()[name] if e["code"] not in lint_codes()], name)


def test_corpus_call_warning_needs_known_processes() -> None:
    """Without known_processes nobody knows which processes exist, so a call is not reported."""
    data = (BROKEN / "call_unknown_process.bpmn").read_bytes()
    assert validation.validate(data, "call_unknown_process.bpmn") == []
    found = validation.validate(data, "call_unknown_process.bpmn", known_processes={"expert_review"})
    assert found == []


def test_endless_duration_does_not_stall() -> None:
    """P99999999999Y made SpiffWorkflow count 1.2 trillion months, in the timer check and again in the
    Camunda parser; validation now says why it is wrong and keeps such a file from the parser."""
    data = (BROKEN / "timer_endless_duration.bpmn").read_bytes()
    for text in ("P99999999999Y", "P99999999999M", "P10000Y"):
        started = time.monotonic()
        with time_limit(10):
            findings = validation.validate(data.replace(b"P99999999999Y", text.encode()), "endless.bpmn")
        assert time.monotonic() - started < 5
        assert [(f.code, f.element_id) for f in findings] == [("timer", "Timer_wait")], findings
        assert "longer than the calendar" in findings[0].message
    cycle = data.replace(b"bpmn:timeDuration", b"bpmn:timeCycle")
    with time_limit(10):
        findings = validation.validate(cycle.replace(b"P99999999999Y", b"R3/P99999999999Y"), "cycle.bpmn")
    assert [(f.code, f.element_id) for f in findings] == [("timer", "Timer_wait")], findings
    with time_limit(10):
        assert validation.validate(data.replace(b"P99999999999Y", b"P9000Y"), "long.bpmn")  # overflows, reported


# --- inputs that are not BPMN documents --------------------------------------------------------------

@pytest.mark.parametrize("data", ["<bpmn:definitions/>", None, 42, [b"<x/>"], memoryview(b"<x/>"), 3.5],
                         ids=["str", "None", "int", "list", "memoryview", "float"])
def test_bad_input_types(data: Any) -> None:
    findings = validation.validate(data, "wrong.bpmn")
    assert_findings(findings)
    assert [(f.code, f.severity) for f in findings] == [("xml.not-well-formed", ERROR)]
    assert type(data).__name__ in findings[0].message


def test_bytearray_is_bytes() -> None:
    path = process_files()[0]
    assert validation.validate(bytearray(path.read_bytes()), path.name, known_processes=process_ids()) == []


@pytest.mark.parametrize("data", [b"", b"   ", b"\x00\x01", "名称".encode("gbk"), b"<?xml version='1.0'?>"],
                         ids=["empty", "blank", "binary", "gbk", "declaration-only"])
def test_not_xml(data: bytes) -> None:
    findings = validation.validate(data, "junk.bpmn")
    assert_findings(findings)
    assert [f.code for f in findings] == ["xml.not-well-formed"]


def test_size_limit() -> None:
    path = process_files()[0]
    data = path.read_bytes()
    findings = validation.validate(data, path.name, max_bytes=len(data) - 1)
    assert_findings(findings)
    assert [(f.code, f.severity) for f in findings] == [("size", ERROR)]
    assert findings[0].params == {"size": str(len(data)), "limit": str(len(data) - 1)}
    at_limit = validation.validate(data, path.name, max_bytes=len(data), known_processes=process_ids())
    assert [f for f in at_limit if f.code == "size"] == []


def test_size_limit_is_checked_before_parsing() -> None:
    """An oversized document is refused without being parsed (so a huge one costs nothing)."""
    data = b"<" * 2_000_001
    started = time.monotonic()
    assert [f.code for f in validation.validate(data, "big.bpmn", max_bytes=2_000_000)] == ["size"]
    assert time.monotonic() - started < 1


def test_a_failing_check_does_not_hide_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """One family of checks breaking on a strange document is reported as internal, the rest still run."""
    def broken(*args: Any) -> Iterator[Finding]:
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setattr(validation_checks, "unsupported", broken)
    findings = validation.validate((BROKEN / "flow_target_missing.bpmn").read_bytes(), "flow_target_missing.bpmn")
    assert_findings(findings)
    assert sorted(f.code for f in findings) == ["internal", "reference", "reference"]
    assert "boom" in next(f for f in findings if f.code == "internal").message


# --- fuzz ---------------------------------------------------------------------------------------------

FUZZ_SEED = 20240927
FUZZ_PER_SOURCE = 60


def test_fuzz_validate_never_fails_and_never_calls_a_broken_file_valid() -> None:
    """A few hundred seeded mutations of real models: validate always answers with findings (never raises,
    never 'internal', never hangs), and whatever it calls valid really deploys: read, XSD and SpiffWorkflow's
    parser through ``engine.deploy`` accept it."""
    known = process_ids()
    problems: list[str] = []
    counts = {"valid": 0, "invalid": 0}
    started = time.monotonic()
    for label, data in mutants(FUZZ_SEED, FUZZ_PER_SOURCE):
        began = time.monotonic()
        try:
            with time_limit(10):
                findings = validation.validate(data, "mutant.bpmn", known_processes=known)
            assert_findings(findings)
        except (AssertionError, Exception) as exc:
            problems.append(f"{label}: {exc!r}")
            continue
        if time.monotonic() - began > 5:
            problems.append(f"{label}: validate took {time.monotonic() - began:.0f} s")
        problems.extend(f"{label}: {f}" for f in findings if f.code == "internal")
        if any(f.severity == ERROR for f in findings):
            counts["invalid"] += 1
            continue
        counts["valid"] += 1
        try:
            tree = deploy.read_bpmn(data, "mutant.bpmn", 5_000_000)
            assert deploy.xsd_problems(tree, "mutant.bpmn") == []
            deploy.parse_processes(tree, "mutant.bpmn")
        except (AssertionError, DeploymentError) as exc:
            problems.append(f"{label}: validate found no error, deployment refuses it: {exc}")
    assert problems == []
    # the mutations must reach past the XSD sometimes, or the cross-check proves nothing
    assert counts["valid"] >= 20, counts
    assert time.monotonic() - started < 60
