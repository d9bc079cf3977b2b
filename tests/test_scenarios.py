"""The scenario files beside the BPMN in processes/ pass against the real engine (one test per scenario), and
the runner reports a failing scenario at the right step, line and element — the files are tests for designers,
so what they are told when one breaks matters as much as the run itself."""
from __future__ import annotations

import json
import shutil
import time
from functools import partial
from pathlib import Path

import pytest

from api.demo import seed
from engine.scenarios import (ScenarioFileError, load_scenarios, run_directory, run_file, scenario_files,
                              scenarios_beside)
from engine.settings import PROJECT_ROOT, Settings

PROCESSES = PROJECT_ROOT / "processes"
SEED = partial(seed, password=None)


def _listed() -> list[tuple[str, str]]:
    """(file, scenario) of every scenario in processes/, read at collection; an unreadable file is one entry."""
    found = []
    for path in scenario_files(PROCESSES):
        try:
            found += [(path.name, s.name) for s in load_scenarios(path)]
        except ScenarioFileError:
            found.append((path.name, path.name))
    return found


LISTED = _listed()


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], object]:
    began = time.perf_counter()
    found = {(r.file.name, r.name): r for r in run_directory(PROCESSES, seed=SEED)}
    assert time.perf_counter() - began < 60, "the scenarios of processes/ should run well under a minute"
    return found


@pytest.mark.parametrize(("file", "name"), LISTED,  # ids: <process>-<n>, the n-th scenario of its file (from 1)
                         ids=[f"{file.split('.')[0]}-{[f for f, _ in LISTED[:i + 1]].count(file)}"
                              for i, (file, _) in enumerate(LISTED)])
def test_scenario_of_processes(results, file, name):
    result = results[(file, name)]
    assert result.passed, (f"{file} — {name}: step {result.failed_at_step} (line {result.line}), "
                           f"element {result.element_id}: {result.message}")


FLOW_NODES = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
              "task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask",
              "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def test_the_scenarios_take_every_element_of_every_process(results):
    """Every branch is somebody's scenario: each element of each process completes in at least one."""
    from lxml import etree

    visited = {pair for result in results.values() for pair in result.visited}
    missing = []
    for bpmn in sorted(PROCESSES.glob("*.bpmn")):
        for process in etree.parse(str(bpmn)).iter("{*}process"):
            missing += [f"{process.get('id')}:{e.get('id')}" for e in process.iter()
                        if isinstance(e.tag, str) and etree.QName(e).localname in FLOW_NODES
                        and (process.get("id"), e.get("id")) not in visited]
    assert not missing, f"no scenario of processes/ goes through {', '.join(missing)}"


def test_every_process_has_scenarios_for_its_branches():
    for bpmn in sorted(PROCESSES.glob("*.bpmn")):
        path = scenarios_beside(bpmn)
        assert path is not None, f"{bpmn.name} has no scenarios file beside it"
        found = load_scenarios(path)
        assert {s.process for s in found} == {bpmn.stem}
        assert len(found) >= 3 and all(s.problem is None for s in found), path.name


# --- a deliberately broken scenario, beside copies of the processes -----------------------------------

APPLICATION = {"applicantType": "enterprise", "applicantName": "上海青禾餐饮管理有限公司",
               "creditCode": "91310118MA1JL0001X", "legalRepresentative": "陆青禾", "contactName": "陆青禾",
               "phone": "13800000001", "address": "上海市青浦区盈港东路1号", "request": "变更经营项目"}
FILE = """\
process: window_intake
x-application: &application {application}
scenarios:
  - name: reviewed and decided
    start: {{item: 310118-SCJ-003, application: *application, materials: [{{code: application-form}}]}}
    steps:
      - work: Task_shared_data
      - work: Task_materials_check
        result: {{materialsComplete: true, missingMaterials: []}}
      - complete: Task_chief_decision        # the review comes first: this fails
        as: market_chief
        data: {{decision: grant, opinion: 准予许可, sealConfirmed: true}}
  - name: path goes elsewhere
    start: {{item: 310118-SCJ-003, application: *application}}
    steps:
      - work: shared-data
      - work: Task_materials_check
        result: {{materialsComplete: false, missingMaterials: [营业执照]}}
      - complete: Task_acceptance_review
        data: {{acceptance: refuse, opinion: 不予受理, refusalReasons: 不属于本机关职权范围}}
      - work: Task_refusal_notice
    expect:
      status: completed
      variables: {{acceptance: refuse}}
      path: [Task_acceptance_review, Task_receipt]
  - name: a typo in a step
    start: {{item: 310118-SCJ-003, application: *application}}
    steps:
      - work: Task_shared_data
        reslt: {{}}
  - name: an element the model does not have
    start: {{item: 310118-SCJ-003, application: *application}}
    steps:
      - work: Task_shared_data
      - expect: {{waiting: [Task_material_check]}}
  - name: a refusal that does not come
    start: {{item: 310118-SCJ-003, application: *application}}
    steps:
      - work: Task_shared_data
        refused: true
"""


@pytest.fixture
def copied(tmp_path: Path) -> Path:
    for bpmn in PROCESSES.glob("*.bpmn"):
        shutil.copy(bpmn, tmp_path)
    (tmp_path / "window_intake.scenarios.yaml").write_text(
        FILE.format(application=json.dumps(APPLICATION, ensure_ascii=False)), encoding="utf-8")
    return tmp_path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_a_step_that_cannot_be_done_is_reported_with_its_step_line_and_element_and_what_waits(copied):
    path = copied / "window_intake.scenarios.yaml"
    found = {r.name: r for r in run_file(path, seed=SEED)}
    wrong = found["reviewed and decided"]
    assert not wrong.passed and wrong.failed_at_step == 3 and wrong.element_id == "Task_chief_decision"
    assert wrong.line == line_of(path, "- complete: Task_chief_decision")
    assert wrong.message == ("step 3 (complete): Task_chief_decision (首席事务代表决定并用印) is not waiting; "
                             "waiting: Task_acceptance_review (受理审查)")
    typo = found["a typo in a step"]
    assert (typo.failed_at_step, typo.line) == (1, line_of(path, "reslt") - 1)  # the line the step starts on
    assert "'work' takes no 'reslt' — did you mean 'result'?" in typo.message
    unknown = found["an element the model does not have"]
    assert (unknown.failed_at_step, unknown.element_id) == (2, "Task_material_check")
    assert "did you mean 'Task_materials_check'?" in unknown.message
    assert "is no element (in expect.waiting) of window_intake, approval_decision" in unknown.message
    not_refused = found["a refusal that does not come"]
    assert not_refused.failed_at_step == 1 and "expected the engine to refuse it" in not_refused.message


def test_a_final_expectation_that_does_not_hold_names_the_element_and_the_path_taken(copied):
    path = copied / "window_intake.scenarios.yaml"
    [result] = run_file(path, only="elsewhere", seed=SEED)
    assert not result.passed and result.failed_at_step == 5 and result.element_id == "Task_receipt"
    assert result.line == line_of(path, "expect:")
    assert result.message.startswith("final expect: path: Task_receipt (出具受理凭证) was never completed; "
                                     "completed in order: Start_received, Task_shared_data, Task_materials_check")
    assert "Task_refusal_notice, End_not_accepted" in result.message  # the path it did take, in order


def test_scenarios_run_alone_on_their_own_database_and_json_files_work_too(copied):
    (copied / "window_intake.scenarios.yaml").unlink()
    (copied / "site_survey.scenarios.json").write_text(json.dumps({"process": "site_survey", "scenarios": [
        {"name": f"survey {n}", "start": {"process": "site_survey", "variables": {"department": "market"}},
         "steps": [{"complete": "Task_handoff", "data": {"surveyScope": "核查经营场所", "surveyLimitDays": 2},
                    "note": "JSON has no comments; a step may carry a note"},
                   {"wait": {"workdays": 1, "at": "17:00"}},
                   {"expect": {"waiting": ["Task_site_survey", "Task_survey_warning"]}}],
         "expect": {"timers": ["Timer_survey_overdue"]}} for n in (1, 2)]}), encoding="utf-8")
    results = run_directory(copied, seed=SEED)
    assert [(r.name, r.passed) for r in results] == [("survey 1", True), ("survey 2", True)], results


@pytest.mark.parametrize(("text", "message", "line"), [
    ("process: window_intake\nscenarios:\n  - name: a\n    start: {item: x\n", "is not valid YAML", 5),
    ("- just a list\n", "expected a mapping with 'process' and 'scenarios'", 1),
    ("process: window_intake\nscenario: []\n", "unknown top-level key 'scenario' — did you mean 'scenarios'?", 2),
    ("process: window_intake\nscenarios: []\n", "'scenarios' must be a list of named scenarios", 2),
], ids=["syntax", "not-a-mapping", "unknown-key", "no-scenarios"])
def test_a_malformed_file_is_one_failure_with_its_line_never_a_traceback(tmp_path, text, message, line):
    path = tmp_path / "window_intake.scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    [result] = run_file(path, seed=SEED)
    assert not result.passed and result.name == path.name and message in result.message and result.line == line


def test_a_malformed_scenario_fails_alone_and_the_others_of_its_file_still_run(copied):
    path = copied / "window_intake.scenarios.yaml"
    path.write_text(path.read_text(encoding="utf-8") + """\
  - name: two actions in one step
    from: a typo in a step
  - name: reviewed and decided
    start: {item: 310118-SCJ-003}
""", encoding="utf-8")
    found = [(r.name, r.passed, r.message) for r in run_file(path, seed=SEED)]
    assert ("two actions in one step", False, "step 1: 'work' takes no 'reslt' — did you mean 'result'? "
            "(it takes error, failure, note, refused, result)") in found
    assert sum("two scenarios are named 'reviewed and decided'" in m for _, _, m in found) == 2
    assert ("path goes elsewhere", False) in [f[:2] for f in found]  # it ran (and failed for its own reason)


# --- the command ---------------------------------------------------------------------------------------

@pytest.fixture
def runner(tmp_path):
    """The app configured with a database nobody can reach: `onewindow test` makes its own."""
    from api import create_app

    settings = Settings.from_env({}, database_url="postgresql+psycopg://nobody@127.0.0.1:1/unreachable",
                                 secret_key="test-secret", uploads_dir=tmp_path / "uploads")
    return create_app(settings, test_config={"TESTING": True}).test_cli_runner()


def test_the_command_passes_a_good_file_and_selects_with_k(runner):
    done = runner.invoke(args=["test", str(PROCESSES / "site_survey.bpmn"), "-k", "单独启动"])
    assert done.exit_code == 0, done.output
    assert "ok      " in done.output and "site_survey.scenarios.yaml: 单独启动踏勘子流程" in done.output
    assert "1 passed, 0 failed" in done.output


def test_the_command_exits_1_and_says_which_scenario_failed_where(runner, copied):
    done = runner.invoke(args=["test", str(copied), "-k", "decided"])
    assert done.exit_code == 1
    line = line_of(copied / "window_intake.scenarios.yaml", "- complete: Task_chief_decision")
    assert f"FAILED  {copied / 'window_intake.scenarios.yaml'}: reviewed and decided — step 3, line {line}, " \
           "element Task_chief_decision" in done.output
    assert "is not waiting; waiting: Task_acceptance_review (受理审查)" in done.output
    assert "0 passed, 1 failed" in done.output


def test_the_command_refuses_a_bpmn_without_scenarios_and_a_name_that_matches_nothing(runner, tmp_path, copied):
    lonely = tmp_path / "elsewhere" / "lonely.bpmn"
    lonely.parent.mkdir()
    lonely.write_bytes((PROCESSES / "site_survey.bpmn").read_bytes())
    done = runner.invoke(args=["test", str(lonely)])
    assert done.exit_code == 1 and "expected lonely.scenarios.yaml" in done.output
    done = runner.invoke(args=["test", str(copied), "-k", "no such scenario"])
    assert done.exit_code == 1 and "No scenario is named like 'no such scenario'" in done.output
