"""The lint rules of this domain (``onewindow/*``): what the Qingpu reform and the Administrative
Licensing Law ask of an approval path, read from the markers designers put on elements
(``engine.markers``: ``caseClock``, ``authorization``, ...) and the forms and workers that exist.

* ``onewindow/approval-levels`` — a deciding task is a user task whose ``authorization`` property
  names the power ``decide``; the user tasks on the longest path from a start event to it, itself
  included, are its approval levels (承办 → 审核 → 决定), at most three (青府办发〔2022〕45号).
  Loops are counted once (back edges are dropped), subprocesses are entered, call activities are
  not followed (the called process is checked on its own), and processes without a deciding task
  (receipt, survey, issue) take no internal decision, so the rule says nothing about them.
* ``onewindow/specialist-time-limit`` — a specialist procedure is an activity other than a call
  activity whose name names a survey, technical review, expert review, hearing or another art. 45
  procedure (现场踏勘、现场勘查、技术审查、专家评审、听证、检验、检测、鉴定 …), or a user task offered to
  the specialist section (role ``specialist``, or a lane named 专业科室). It carries a time limit
  when it has a due date (``camunda:dueDate`` / property ``dueDate``) or a timer boundary event.
* ``onewindow/case-clock`` — markers that start something on the clock must be ended on every
  path the case's token can take to the end of the process (non-interrupting branches aside):
  ``accept`` by ``decided`` or ``not-accepted``, ``supplement-requested`` by
  ``supplement-received`` (or a refusal or decision), ``survey-started`` by ``survey-ended`` (or a
  decision). A call activity may move the clock in the called process and ends the search there.
  A process that asks for supplements or refuses acceptance must also accept somewhere, and every
  marker value must be one the engine knows.
"""
from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Iterator

from lxml import etree

from .bpmn_graph import ACTIVITIES, BPMN_NS, FLOW_NODES, Model, local, split_list
from .forms import load_form
from .juel import is_juel
from .lint import Hit, LintContext, N_, Rule
from .validation import ERROR

MAX_LEVELS = 3
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PROCEDURE_TERMS = ("现场踏勘", "现场勘查", "现场勘验", "技术审查", "专家评审", "专家论证", "听证", "招标", "拍卖",
                   "检验", "检测", "检疫", "鉴定")
SPECIALIST_ROLE, SPECIALIST_LANE = "specialist", "专业科室"
#: activities in which people do the work (a procedure is done, not sent or computed)
PEOPLES_WORK = frozenset({"userTask", "manualTask", "task", "subProcess"})
#: marker values ``engine.markers`` acts on
CLOCK_MARKERS = frozenset({"accept", "supplement-requested", "supplement-received", "not-accepted", "survey-started",
                           "survey-ended", "decided"})
#: a marker that starts something -> the markers that end it
CLOCK_ENDS = {"accept": frozenset({"decided", "not-accepted"}),
              "supplement-requested": frozenset({"supplement-received", "not-accepted", "decided"}),
              "survey-started": frozenset({"survey-ended", "decided", "not-accepted"})}
INTAKE_MARKERS = frozenset({"supplement-requested", "supplement-received", "not-accepted"})


def _label(element: etree._Element) -> str:
    return element.get("name") or element.get("id") or local(element)


# --- approval levels --------------------------------------------------------------------------

def _decides(model: Model, task: etree._Element) -> bool:
    powers = split_list(model.properties(task).get("authorization"))
    return any(power.split("@", 1)[0].strip() == "decide" for power in powers)


def approval_levels(model: Model, context: LintContext) -> Iterator[Hit]:
    deciding = [t for t in model.of_kind("userTask") if _decides(model, t)]
    if not deciding:
        return
    chains = _user_task_chains(model)
    for task in deciding:
        chain = chains.get(task.get("id") or "")
        if chain and len(chain) > MAX_LEVELS:
            path = _path(model, chain)
            yield Hit(task, f"{len(chain)} user tasks lead to the decision {_label(task)} ({path}); internal "
                      f"approval has at most {MAX_LEVELS} levels", {"count": len(chain), "limit": MAX_LEVELS,
                                                                     "name": _label(task), "path": path})


def _path(model: Model, chain: list[str], shown: int = 8) -> str:
    """The chain as the finding names it; a long one by its first and last steps (a generated model may
    chain thousands of tasks, and every decision after the third would repeat the whole chain)."""
    if len(chain) > shown:
        chain = chain[: shown - 2] + ["…"] + chain[-2:]
    return " → ".join(i if i == "…" else _label(model.by_id[i]) for i in chain)


def _user_task_chains(model: Model) -> dict[str, list[str]]:
    """For each reachable element, the longest run of user tasks on a path from a start event to it
    (back edges dropped, so the graph is acyclic and the longest path is found in linear time)."""
    order, back = _depth_first(model)
    best: dict[str, list[str]] = {}
    for node_id in order:
        here = best.setdefault(node_id, [node_id] if local(model.by_id[node_id]) == "userTask" else [])
        for successor in model.successors(model.by_id[node_id]):
            target = successor.get("id") or ""
            if (node_id, target) in back:
                continue
            candidate = here + ([target] if local(successor) == "userTask" else [])
            if len(candidate) > len(best.get(target, [])) or target not in best:
                best[target] = candidate
    return best


def _depth_first(model: Model) -> tuple[list[str], set[tuple[str, str]]]:
    """Elements in topological order of the graph without back edges, and the back edges (iteratively:
    models may be deep)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    post: list[str] = []
    back: set[tuple[str, str]] = set()
    for start in model.start_events():
        start_id = start.get("id") or ""
        if start_id in state:
            continue
        state[start_id] = 1
        stack = [(start_id, iter(model.successors(start)))]
        while stack:
            node_id, successors = stack[-1]
            successor = next(successors, None)
            if successor is None:
                stack.pop()
                state[node_id] = 2
                post.append(node_id)
                continue
            target = successor.get("id") or ""
            if state.get(target) == 1:
                back.add((node_id, target))
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(model.successors(successor))))
    return list(reversed(post)), back


# --- assignment, forms, workers ------------------------------------------------------------------

def user_task_assignment(model: Model, context: LintContext) -> Iterator[Hit]:
    for task in model.of_kind("userTask"):
        values = [model.user_task_value(task, n) for n in ("candidateGroups", "candidateUsers", "assignee")]
        lane = model.lane_of.get(task.get("id") or "")
        by_lane = model.dialect != "camunda" and lane is not None and model.name(lane)
        if not any(v and v.strip() for v in values) and not by_lane:
            yield Hit(task, f"the user task {_label(task)} is offered to no one: give it a candidate group "
                      "(camunda:candidateGroups; in SpiffWorkflow models a lane)", {"name": _label(task)})


def form_exists(model: Model, context: LintContext) -> Iterator[Hit]:
    checked: dict[str, str | None] = {}
    for task in model.of_kind("userTask"):
        key = (model.user_task_value(task, "formKey") or "").strip()
        if not key:
            yield Hit(task, f"the user task {_label(task)} names no form (camunda:formKey)",
                      {"case": "none", "name": _label(task)})
            continue
        yield from _form_hits(task, key, context.forms_dir, checked)
    for event in model.nodes:
        key = model.properties(event).get("form", "").strip()
        if key and local(event) not in ("userTask",):
            yield from _form_hits(event, key, context.forms_dir, checked)


def _form_hits(element: etree._Element, key: str, forms_dir: Path, checked: dict[str, str | None]) -> Iterator[Hit]:
    if is_juel(key):
        return  # chosen at run time
    if key not in checked:
        checked[key] = _form_problem(key, forms_dir)
    problem = checked[key]
    if problem == "missing":
        yield Hit(element, f"form '{key}' does not exist: there is no forms/{key}.json",
                  {"case": "missing", "form": key})
    elif problem:
        yield Hit(element, f"form '{key}' cannot be used: {problem}", {"case": "invalid", "form": key,
                                                                        "detail": problem})


def _form_problem(key: str, forms_dir: Path) -> str | None:
    if "/" in key or "\\" in key or key.startswith(".") or not (forms_dir / f"{key}.json").is_file():
        return "missing"
    try:
        load_form(forms_dir / f"{key}.json")
    except Exception as exc:  # InvalidInput: not JSON, not a JSON Schema; OSError
        return getattr(exc, "message", None) or str(exc)
    return None


def worker_registered(model: Model, context: LintContext) -> Iterator[Hit]:
    if context.topics is None:
        return
    kinds = ("serviceTask", "sendTask") if model.dialect == "camunda" else ("serviceTask",)
    for task in model.of_kind(*kinds):
        topic = model.topic(task)
        if topic and not is_juel(topic) and topic not in context.topics:
            registered = ", ".join(sorted(context.topics))
            yield Hit(task, f"no worker is registered for topic '{topic}' (registered: {registered})",
                      {"topic": topic, "registered": registered})


# --- specialist procedures ------------------------------------------------------------------------

def _is_specialist_procedure(model: Model, activity: etree._Element) -> bool:
    """People's work named as a procedure: a service or send task named 发送听证告知书 only tells of one."""
    if local(activity) in PEOPLES_WORK and any(term in model.name(activity) for term in PROCEDURE_TERMS):
        return True
    if local(activity) != "userTask":
        return False
    groups = split_list(model.user_task_value(activity, "candidateGroups"))
    lane = model.lane_of.get(activity.get("id") or "")
    return (any(g.rsplit(":", 1)[-1].strip() == SPECIALIST_ROLE for g in groups)
            or (lane is not None and SPECIALIST_LANE in model.name(lane)))


def _has_time_limit(model: Model, activity: etree._Element) -> bool:
    if local(activity) == "userTask" and (model.user_task_value(activity, "dueDate") or "").strip():
        return True
    return any("timerEventDefinition" in model.event_definitions(b)
               for b in model.boundaries.get(activity.get("id") or "", []))


def specialist_time_limit(model: Model, context: LintContext) -> Iterator[Hit]:
    for activity in model.nodes:
        if local(activity) not in ACTIVITIES or local(activity) == "callActivity":
            continue
        if _is_specialist_procedure(model, activity) and not _has_time_limit(model, activity):
            yield Hit(activity, f"the specialist procedure {_label(activity)} has no time limit: give it a due "
                      "date or a timer boundary event", {"name": _label(activity)})


# --- the case clock -------------------------------------------------------------------------------

def _markers(model: Model, element: etree._Element) -> dict[str, str]:
    """marker value -> 'ready' or 'completed' (when it acts)."""
    props = model.properties(element)
    found = {}
    if props.get("caseClock"):
        found[props["caseClock"].strip()] = "completed"
    if props.get("caseClockOnReady"):
        found[props["caseClockOnReady"].strip()] = "ready"
    return found


def case_clock(model: Model, context: LintContext) -> Iterator[Hit]:
    markers_of = {node.get("id") or "": _markers(model, node) for node in model.nodes}
    marked = [(node, markers_of[node.get("id") or ""]) for node in model.nodes]
    marked = [(node, markers) for node, markers in marked if markers]
    by_process: dict[int, list[tuple[etree._Element, dict[str, str]]]] = {}
    for node, markers in marked:  # once per node: a model may hold thousands of processes
        by_process.setdefault(id(model.process_of(node)), []).append((node, markers))
    reachable: dict[frozenset[str], dict[str, etree._Element]] = {}
    for node, markers in marked:
        for value in markers:
            if value not in CLOCK_MARKERS:
                yield Hit(node, f"caseClock marker '{value}' on {_label(node)} is not one the engine knows "
                          f"({', '.join(sorted(CLOCK_MARKERS))})", {"case": "unknown", "marker": value,
                                                                    "name": _label(node)})
    for process in model.root.iter(f"{{{BPMN_NS}}}process"):
        inside = by_process.get(id(process), [])
        values = {v for _, m in inside for v in m}
        if values & INTAKE_MARKERS and "accept" not in values:
            yield Hit(process, f"{_label(process)} asks for supplements or refuses acceptance but never accepts: "
                      "mark the acceptance (caseClockOnReady accept)", {"case": "no-accept", "name": _label(process)})
        for node, markers in inside:
            for value, when in markers.items():
                if value in CLOCK_ENDS:
                    closers = CLOCK_ENDS[value]
                    if closers not in reachable:
                        reachable[closers] = _unclosed_ends(model, closers, markers_of)
                    end = _unended_path(model, node, when, reachable[closers])
                    if end is not None:
                        closers = ", ".join(sorted(CLOCK_ENDS[value]))
                        yield Hit(node, f"{_label(node)} marks {value}, but the case can reach {_label(end)} "
                                  f"without {closers}", {"case": "open", "marker": value, "name": _label(node),
                                                         "end": _label(end), "closers": closers})


def _unended_path(model: Model, opener: etree._Element, when: str,
                  unclosed: dict[str, etree._Element]) -> etree._Element | None:
    """An end the case's token can reach from the opener without passing a closer, or None."""
    for node in reversed(_leaving(model, opener, when)):
        end = unclosed.get(node.get("id") or "")
        if end is not None:
            return end
    return None


def _unclosed_ends(model: Model, closers: frozenset[str], markers_of: dict[str, dict[str, str]]
                   ) -> dict[str, etree._Element]:
    """For every element from which a token can reach an end of the case without passing one of
    ``closers``, the nearest such end — computed once per set of closers, backwards from the ends, so
    a model with thousands of markers costs what one with a single marker does."""
    backwards: dict[str, list[str]] = {}
    found: dict[str, etree._Element] = {}
    for node in model.nodes:
        node_id = node.get("id") or ""
        following, is_end = _step(model, node, closers, markers_of.get(node_id, {}))
        if is_end:
            found[node_id] = node
        for target in following:
            backwards.setdefault(target.get("id") or "", []).append(node_id)
    queue = deque(found)
    while queue:
        current = queue.popleft()
        for before in backwards.get(current, ()):
            if before not in found:
                found[before] = found[current]
                queue.append(before)
    return found


def _step(model: Model, node: etree._Element, closers: frozenset[str], markers: dict[str, str]
          ) -> tuple[list[etree._Element], bool]:
    """Where the token can go from ``node`` while the clock stays open, and whether ``node`` ends the case."""
    if local(node) == "callActivity":
        return [], False  # the called process may move the clock; it is linted on its own
    closing = {v: w for v, w in markers.items() if v in closers}
    if closing:
        return (_interrupting(model, node) if "ready" not in closing.values() else []), False
    following = model.successors(node, side_branches=False)
    return following, not following and local(node) in FLOW_NODES and _ends_case(node)


def _leaving(model: Model, node: etree._Element, when: str) -> list[etree._Element]:
    """Where the token goes once the marker has acted: after completion along the outgoing flows; after
    'ready' also out through the interrupting boundary events."""
    following = [n for n in model.successors(node, side_branches=False) if local(n) != "boundaryEvent"]
    return following + (_interrupting(model, node) if when == "ready" else [])


def _interrupting(model: Model, node: etree._Element) -> list[etree._Element]:
    return [b for b in model.boundaries.get(node.get("id") or "", []) if b.get("cancelActivity", "true") != "false"]


def _ends_case(node: etree._Element) -> bool:
    """A dead end of the process itself (an end event inside a subprocess continues after it)."""
    return local(node.getparent()) == "process" or local(node) != "endEvent"


# --- Chinese names ------------------------------------------------------------------------------------

def chinese_name(model: Model, context: LintContext) -> Iterator[Hit]:
    """Names written in another language; an element without any name is ``label-required``'s to report, and
    of the flows only those that leave a decision (an exclusive or inclusive gateway, or with a condition) say
    when they are taken: every branch of a parallel fork is."""
    for node in model.nodes:
        if model.name(node) and not CHINESE.search(model.name(node)):
            yield Hit(node, f"{local(node)} {node.get('id')} has no Chinese name", {"kind": local(node)})
    for participant in model.root.iter(f"{{{BPMN_NS}}}participant"):
        if model.name(participant) and not CHINESE.search(model.name(participant)):
            yield Hit(participant, f"participant {participant.get('id')} has no Chinese name",
                      {"kind": "participant"})
    for flow in model.flows:
        if _decides_when(model, flow) and not CHINESE.search(model.name(flow)):
            yield Hit(flow, f"sequence flow {flow.get('id')} leaves a fork without a Chinese name saying when it "
                      "is taken", {"kind": "sequenceFlow"})


def _decides_when(model: Model, flow: etree._Element) -> bool:
    source = model.by_id.get(flow.get("sourceRef") or "")
    forks = len(model.outgoing.get(flow.get("sourceRef") or "", [])) > 1
    conditional = any(local(c) == "conditionExpression" for c in flow)
    return conditional or (forks and source is not None and local(source) in ("exclusiveGateway", "inclusiveGateway"))


RULES = (
    Rule("onewindow/approval-levels", ERROR, N_("The Qingpu notice (青府办发〔2022〕45号) limits internal approval to "
         "three levels (承办、审核、决定): at most three user tasks on any path to a task holding the power to "
         "decide."), approval_levels),
    Rule("onewindow/user-task-assignment", ERROR, N_("A user task offered to no group appears in nobody's inbox "
         "and the case stops there; give it a department-scoped candidate group (or a lane)."), user_task_assignment),
    Rule("onewindow/form-exists", ERROR, N_("The engine validates what a clerk submits against the task's form "
         "(forms/<key>.json); a missing or broken form makes the task impossible to complete."), form_exists),
    Rule("onewindow/worker-registered", ERROR, N_("A service task waits until a worker fetches its topic; a topic "
         "no worker registers leaves the case waiting forever."), worker_registered),
    Rule("onewindow/specialist-time-limit", ERROR, N_("Surveys, technical and expert reviews and hearings need a "
         "time limit: the applicant is told the time needed in writing (Administrative Licensing Law art. 45) "
         "and the specialist section is reminded before it runs out."), specialist_time_limit),
    Rule("onewindow/case-clock", ERROR, N_("The legal time limit counts from acceptance to the decision and "
         "pauses only while a procedure runs; what starts on the case clock must end on every path, or the "
         "case turns red while nobody can act on it."), case_clock),
    Rule("onewindow/chinese-name", ERROR, N_("Clerks, applicants' notices and supervisors read element names in "
         "Chinese; every element, the participant and every branch of a fork needs a Chinese name."), chinese_name),
)
