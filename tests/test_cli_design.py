"""`onewindow validate` and `onewindow lint` as a designer runs them: where each problem is (file, line, element),
what it is in English and in Chinese, exit codes a CI job can rely on, JSON for tools, the rules' list and
explanations, and lint.json levels. No database is touched, so these run on SQLite only."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from api.cli import main
from engine import lint

from .conftest import BPMN_DIR

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PROCESSES = Path(__file__).resolve().parent.parent / "processes"
CONSULTATION = (BPMN_DIR / "design" / "consultation.bpmn").read_text(encoding="utf-8")


def run(app, *args: str):
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def model(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_model_in_processes_validates_and_lints_clean(app):
    for command in ("validate", "lint"):
        result = run(app, command, str(PROCESSES))
        assert result.exit_code == 0, result.output
        assert "6 files: 0 errors, 0 warnings" in result.output  # the five paths and the catalogue adjustment
        assert "6 个文件：错误 0 条，警告 0 条" in result.output


def test_validate_names_file_line_and_element_in_both_languages(app, tmp_path):
    broken = model(tmp_path, "broken.bpmn", CONSULTATION.replace('targetRef="End_answered"', 'targetRef="End_nowhere"'))
    result = run(app, "validate", str(broken))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith("error reference"))
    assert lines[at].startswith(f"{broken}:22 [Flow_to_end]")
    assert "targetRef 'End_nowhere' names no flow node in this file" in lines[at + 1]
    assert lines[at + 2].strip() == "targetRef 引用的“End_nowhere”没有对应的流程节点。"
    assert "1 个文件：错误 1 条，警告 0 条" in result.output


def test_a_file_that_is_not_xml_is_an_error_not_a_crash(app, tmp_path):
    junk = model(tmp_path, "junk.bpmn", "<bpmn:definitions><oops></bpmn:definitions>")
    result = run(app, "validate", str(junk))
    assert result.exit_code == 1
    assert "error xml.not-well-formed" in result.output
    assert "文件不是格式正确的 XML：" in result.output.splitlines()[2]


def test_validate_json_for_tools(app, tmp_path):
    broken = model(tmp_path, "broken.bpmn", CONSULTATION.replace("<bpmn:userTask", "<bpmn:complexGateway id=\"G\" />"
                                                                 "<bpmn:userTask", 1))
    result = run(app, "validate", "--format", "json", str(broken))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["files"] == [str(broken)]
    unsupported = [f for f in report["findings"] if f["code"] == "unsupported"]
    assert [(f["elementId"], f["severity"], f["params"]["construct"]) for f in unsupported] == [
        ("G", "error", "bpmn:complexGateway")]
    assert unsupported[0]["messageZh"] == "引擎不支持 bpmn:complexGateway。"
    assert report["errors"] >= 1


def test_a_call_to_a_model_beside_the_file_is_known_and_an_unknown_one_is_a_warning(app, tmp_path):
    calling = CONSULTATION.replace('<bpmn:userTask id="Task_review" name="承办审查" camunda:formKey="handling_review"\n'
                                   '                   camunda:candidateGroups="center:window-clerk">',
                                   '<bpmn:callActivity id="Task_review" name="调用子流程" calledElement="CALLED">')
    calling = calling.replace("</bpmn:userTask>", "</bpmn:callActivity>")
    calling = calling.replace('id="consultation"', 'id="caller"')
    model(tmp_path, "consultation.bpmn", CONSULTATION)
    known = model(tmp_path, "caller.bpmn", calling.replace("CALLED", "consultation"))
    assert run(app, "validate", str(known)).exit_code == 0
    unknown = model(tmp_path, "caller.bpmn", calling.replace("CALLED", "nobody_has_this"))
    result = run(app, "validate", str(unknown))
    assert result.exit_code == 0, "an unknown called process is a warning: it may be deployed separately"
    assert "warning reference.call" in result.output


def test_lint_reports_in_both_languages_and_exits_1_on_errors(app, tmp_path):
    unnamed = model(tmp_path, "unnamed.bpmn", CONSULTATION.replace(' name="承办审查"', ""))
    result = run(app, "lint", str(unnamed))
    assert result.exit_code == 1
    # libxml2 gives an element the line its start tag ends on: this one spans lines 13 and 14
    assert f"{unnamed}:14 [Task_review] error label-required" in result.output
    assert "userTask Task_review has no label (name)" in result.output
    assert "此用户任务没有名称。" in result.output


def test_lint_config_beside_the_file_or_given_sets_levels(app, tmp_path):
    unnamed = model(tmp_path, "unnamed.bpmn", CONSULTATION.replace(' name="承办审查"', ""))
    (tmp_path / "lint.json").write_text(json.dumps({"rules": {"label-required": "warn"},
                                                    "files": {"unn*.bpmn": {"rules": {"onewindow/chinese-name": 0}}}}))
    result = run(app, "lint", str(unnamed))
    assert result.exit_code == 0, result.output
    assert "warning label-required" in result.output
    assert "onewindow/chinese-name" not in result.output
    assert run(app, "lint", "--max-warnings", "0", str(unnamed)).exit_code == 1

    other = tmp_path / "other.json"
    other.write_text(json.dumps({"rules": {"label-required": "off", "no-such-rule": "warn"}}))
    result = run(app, "lint", "--config", str(other), str(unnamed))
    assert "label-required" not in result.output
    assert f"{other}:1 error lint-config.unknown-rule" in result.output
    assert result.exit_code == 1


def test_rules_are_listed_and_explained(app):
    listed = run(app, "lint", "--list-rules")
    assert listed.exit_code == 0
    for each in lint.rules():
        assert each.id in listed.output
    explained = run(app, "lint", "--explain", "onewindow/approval-levels")
    assert explained.exit_code == 0
    assert "onewindow/approval-levels (error)" in explained.output
    assert "at most three user tasks" in explained.output
    assert "青浦区通知（青府办发〔2022〕45号）将内部审批限定为三级" in explained.output
    unknown = run(app, "lint", "--explain", "no-such-rule")
    assert unknown.exit_code == 2
    assert "There is no rule 'no-such-rule'" in unknown.output and "没有规则“no-such-rule”" in unknown.output


def test_usage_mistakes_exit_2(app, tmp_path):
    assert run(app, "lint").exit_code == 2
    assert run(app, "validate", str(tmp_path)).exit_code == 2
    assert run(app, "validate", str(tmp_path / "missing.bpmn")).exit_code == 2
