"""Versions, diffs and instance migration over /engine-rest: Camunda's /migration/generate, /validate and
/execute, the dry-run report and the version list (extensions), and who may call them."""
from __future__ import annotations

import pytest


def deploy(api, path: str, name: str) -> str:
    response = api.deploy(path, user="designer", name=name)
    assert response.status_code == 200, response.json
    [definition_id] = response.json["deployedProcessDefinitions"]
    return definition_id


def start(api, key: str) -> str:
    response = api.post(f"/process-definition/key/{key}/start", {}, user="clerk")
    assert response.status_code == 200, response.json
    return response.json["id"]


@pytest.fixture
def two_versions(api):
    v1 = deploy(api, "versions/review_v1.bpmn", "first")
    instances = [start(api, "review_versions"), start(api, "review_versions")]
    v2 = deploy(api, "versions/review_v2.bpmn", "second")
    return v1, v2, instances


def test_versions_newest_first_with_who_deployed_them_and_the_diff_between_two(api, two_versions):
    v1, v2, _ = two_versions
    found = api.get("/process-definition/key/review_versions/versions", user="supervisor").json
    assert [(v["version"], v["id"], v["deployedBy"], v["deploymentName"], v["runningInstances"], v["latest"])
            for v in found] == [(2, v2, "designer", "second", 0, True), (1, v1, "designer", "first", 2, False)]
    listed = api.get("/process-definition?key=review_versions&sortBy=version&sortOrder=desc").json
    assert [d["version"] for d in listed] == [2, 1] and listed[0]["deployedBy"] == "designer"
    assert listed[0]["deployedAt"].startswith("20")
    assert api.get("/process-definition?sortBy=colour").status_code == 400
    assert len(api.get("/process-definition?key=review_versions&latestVersion=false").json) == 2
    assert [d["id"] for d in api.get("/process-definition?key=review_versions&latestVersion=true").json] == [v2]
    assert api.get("/process-definition/key/nothing/versions").status_code == 404

    diff = api.get(f"/process-definition/{v1}/diff/{v2}").json
    assert [e["id"] for e in diff["added"]] == ["Flow_review_second_look", "Flow_second_look_end", "second_look"]
    review = next(c for c in diff["changed"] if c["id"] == "review")
    assert {"aspect": "camunda:candidateGroups", "old": "approval-clerk",
            "new": "approval-clerk,section-head"} in review["changes"]
    assert diff["moved"] == ["Flow_start_review", "start"]
    assert api.get(f"/process-definition/{v1}/diff/{v2}?layout=false").json["moved"] == []
    assert api.get(f"/process-definition/{v1}/diff/nope").status_code == 404


def test_generate_validate_dry_run_and_execute(api, two_versions):
    v1, v2, instances = two_versions
    plan = api.post("/migration/generate", {"sourceProcessDefinitionId": v1, "targetProcessDefinitionId": v2},
                    user="designer").json
    assert plan["sourceProcessDefinitionId"] == v1 and plan["targetProcessDefinitionId"] == v2
    assert [i["sourceActivityIds"] for i in plan["instructions"]] == [["end"], ["review"], ["start"]]
    assert api.post("/migration/validate", plan, user="designer").json == {"instructionReports": [],
                                                                         "variableReports": {}}
    crossed = {**plan, "instructions": [{"sourceActivityIds": ["review"], "targetActivityIds": ["second_look"]}]}
    [report] = api.post("/migration/validate", crossed, user="designer").json["instructionReports"]
    assert "same id" in report["failures"][0]

    dry = api.post("/migration/dry-run", {"migrationPlan": plan}, user="designer").json
    assert dry["counts"] == {"instances": 2, "migratable": 2, "blocked": 0}
    assert dry["instances"][0]["waiting"][0]["activityId"] == "review"
    executed = api.post("/migration/execute", {"migrationPlan": plan, "processInstanceIds": instances[:1],
                                               "skipCustomListeners": True}, user="designer")
    assert executed.status_code == 204, executed.json
    assert api.get(f"/process-instance/{instances[0]}").json["definitionId"] == v2
    assert api.get(f"/process-instance/{instances[1]}").json["definitionId"] == v1
    query = api.post("/migration/execute", {"migrationPlan": plan, "processInstanceQuery": {}}, user="designer")
    assert query.status_code == 204
    assert api.get(f"/process-instance/{instances[1]}").json["definitionId"] == v2
    [task] = api.get(f"/task?processInstanceId={instances[1]}").json
    assert (task["name"], task["processDefinitionId"]) == ("Review the application", v2)


def test_a_blocked_instance_refuses_the_execution_with_the_reasons(api):
    v1 = deploy(api, "versions/review_v1.bpmn", "first")
    iid = start(api, "review_versions")
    v3 = deploy(api, "versions/review_v3_removed.bpmn", "third")
    plan = {"sourceProcessDefinitionId": v1, "targetProcessDefinitionId": v3, "instructions": None}
    refused = api.post("/migration/execute", {"migrationPlan": plan, "processInstanceIds": [iid]}, user="designer")
    assert refused.status_code == 400
    assert refused.json["type"] == "MigratingProcessInstanceValidationException"
    [blocked] = refused.json["instances"]
    assert (blocked["processInstanceId"], blocked["blockers"][0]["code"], blocked["blockers"][0]["elementId"]) == (
        iid, "element-removed", "review")
    assert api.get(f"/process-instance/{iid}").json["definitionId"] == v1
    missing = api.post("/migration/execute", {"migrationPlan": plan}, user="designer")
    assert missing.status_code == 400 and "processInstanceIds" in missing.json["message"]
    assert api.post("/migration/generate", {"sourceProcessDefinitionId": v1}, user="designer").status_code == 400


@pytest.mark.parametrize("user,status", [("designer", 200), ("admin", 200), ("supervisor", 403), ("clerk", 403)])
def test_only_designers_and_admins_migrate(api, two_versions, user, status):
    v1, v2, _ = two_versions
    body = {"sourceProcessDefinitionId": v1, "targetProcessDefinitionId": v2}
    assert api.post("/migration/generate", body, user=user).status_code == status
    assert api.post("/migration/dry-run", {"migrationPlan": body}, user=user).status_code == status
