"""`onewindow versions`, `diff` and `migrate` on the local database, and `onewindow deploy --url` to a real
server over its REST API (the same lines as a local deploy; the server's problems on a refusal)."""
from __future__ import annotations

import requests
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from api import state
from api.cli import main
from engine import runtime
from engine.models import ProcessInstance

from .conftest import BPMN_DIR

REVIEW_V1, REVIEW_V2, REVIEW_V3 = (str(BPMN_DIR / "versions" / f) for f in (
    "review_v1.bpmn", "review_v2.bpmn", "review_v3_removed.bpmn"))


def run(app, *args: str, **kw):
    """As `onewindow ...` runs: the real command group (engine errors become messages, exit code 1)."""
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app), **kw)


def start(app, key: str) -> str:
    with state(app).sessions.begin() as session:
        return runtime.start_instance(session, key, actor="test").id


def definitions_of(app) -> list[str]:
    with state(app).sessions.begin() as session:
        return sorted(i.definition_id.split(":")[1] for i in session.scalars(sa.select(ProcessInstance)))


def test_deploy_then_list_versions_and_compare_two(app):
    first = run(app, "deploy", REVIEW_V1, "--name", "first")
    assert first.exit_code == 0, first.output
    assert "deployed review_versions version 1 (review_v1.bpmn)" in first.output
    assert "unchanged review_versions version 1" in run(app, "deploy", REVIEW_V1).output
    start(app, "review_versions")
    assert run(app, "deploy", REVIEW_V2, "--name", "second").exit_code == 0

    listed = run(app, "versions")
    assert listed.exit_code == 0, listed.output
    header, chinese, row = listed.output.splitlines()[:3]
    assert header.split()[:5] == ["KEY", "NAME", "LATEST", "VERSIONS", "RUNNING"]
    assert chinese.split()[:5] == ["流程标识", "名称", "最新版本", "版本数", "办理中"]
    assert row.split()[:6] == ["review_versions", "Review", "versions", "2", "2", "1"]
    versions = run(app, "versions", "review_versions").output.splitlines()
    assert versions[0].split()[:3] == ["VERSION", "DEPLOYED", "BY"]
    assert versions[2].split()[:2] == ["2", "*"] and " second " in versions[2] and "review_v2.bpmn" in versions[2]
    assert versions[3].split()[0] == "1" and " first " in versions[3]
    assert "new cases start on it" in versions[-2] and "新办件按此版本启动" in versions[-1]

    diff = run(app, "diff", "review_versions", "1", "2")
    assert diff.exit_code == 0, diff.output
    assert "review_versions: version 1 → review_versions version 2" in diff.output
    assert "  + userTask second_look \u201cSecond look\u201d" in diff.output
    assert "  - sequenceFlow Flow_review_end" in diff.output
    assert "      camunda:candidateGroups: approval-clerk → approval-clerk,section-head" in diff.output
    assert "Only drawn elsewhere: Flow_start_review, start" in diff.output
    assert "Only drawn" not in run(app, "diff", "review_versions", "1", "2", "--no-layout").output
    with state(app).sessions.begin() as session:
        ids = sorted(session.scalars(sa.text("SELECT id FROM process_definition ORDER BY version")))
    assert run(app, "diff", *ids).output == diff.output
    assert run(app, "diff", "review_versions", "1", "9").exit_code == 1
    assert "not a version number" in run(app, "diff", "review_versions", "1", "two").output
    assert run(app, "versions", "nothing_like_it").exit_code == 1


def test_migrate_dry_run_then_move_what_can_move(app):
    run(app, "deploy", REVIEW_V1)
    first, second = start(app, "review_versions"), start(app, "review_versions")
    run(app, "deploy", REVIEW_V2)
    dry = run(app, "migrate", "review_versions", "--from", "1", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "review_versions: version 1 → version 2: 2 instance(s), 2 can move, 0 cannot" in dry.output
    assert f"  ✓ {first}  review (userTask)" in dry.output
    assert definitions_of(app) == ["1", "1"], "a dry run writes nothing"

    run(app, "deploy", REVIEW_V3)
    blocked = run(app, "migrate", "review_versions", "--from", "1", "--to", "3", "--dry-run")
    assert "0 can move, 2 cannot" in blocked.output and "review (userTask) ✗" in blocked.output
    assert "which the target version does not have" in blocked.output
    refused = run(app, "migrate", "review_versions", "--from", "1", "--to", "3", "--instance", first)
    assert refused.exit_code == 1 and "nothing was written" in refused.output
    assert definitions_of(app) == ["1", "1"]

    moved = run(app, "migrate", "review_versions", "--from", "1", "--to", "2", "--instance", second)
    assert moved.exit_code == 0, moved.output
    assert "Moved 1 instance(s) to version 2; 0 stay on version 1." in moved.output
    assert definitions_of(app) == ["1", "2"]
    rest = run(app, "migrate", "review_versions", "--from", "1", "--to", "3")
    assert rest.exit_code == 0 and "Moved 0 instance(s) to version 3; 1 stay on version 1." in rest.output


def test_deploy_to_a_remote_server_prints_what_a_local_deploy_prints(app, server, tmp_path):
    base, token = server
    first = run(app, "deploy", REVIEW_V1, "--url", base.removesuffix("/engine-rest"), "--token", token)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == ["deployed review_versions version 1 (review_v1.bpmn)",
                                         "已部署 review_versions 第 1 版（review_v1.bpmn）"]
    again = run(app, "deploy", REVIEW_V1, REVIEW_V2, env={"ONEWINDOW_URL": base, "ONEWINDOW_TOKEN": token})
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == ["deployed review_versions version 2 (review_v2.bpmn)",
                                         "已部署 review_versions 第 2 版（review_v2.bpmn）"]
    same = run(app, "deploy", REVIEW_V2, env={"ONEWINDOW_URL": base, "ONEWINDOW_TOKEN": token})
    assert same.output.splitlines() == ["unchanged review_versions version 2", "review_versions 无变化，仍为第 2 版"]
    found = requests.get(f"{base}/process-definition/key/review_versions",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert (found["version"], found["deployedBy"]) == (2, "robot")

    broken = tmp_path / "broken.bpmn"
    broken.write_text((BPMN_DIR / "versions" / "review_v1.bpmn").read_text().replace("</bpmn:userTask>", "", 1))
    refused = run(app, "deploy", str(broken), "--url", base, "--token", token)
    assert refused.exit_code == 1, refused.output
    assert refused.output.splitlines()[:2] == ["The server refused the deployment (HTTP 400):", "服务器拒绝了部署（HTTP 400）："]
    assert refused.output.splitlines()[2].startswith("  broken.bpmn:16: not well-formed XML: ")
    wrong = run(app, "deploy", REVIEW_V1, "--url", base, "--token", "not-a-token")
    assert wrong.exit_code == 1 and "401" in wrong.output, wrong.output
    assert run(app, "deploy", REVIEW_V1, "--url", base).exit_code == 2, "--url needs a token"
