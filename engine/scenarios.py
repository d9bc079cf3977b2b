"""Scenarios: what a process designer says a model does, checked against the real engine.

A scenario file sits beside the BPMN it is about — ``window_intake.bpmn`` and
``window_intake.scenarios.yaml`` (or ``.yml``, ``.json``) — and names the
process (``process:``) and a list of named scenarios. Each scenario starts one
case and takes steps in order; the file is documentation for designers as much
as a test, so the format is small and every mistake in it is reported as a
failure of that scenario with its step and line, never as a traceback.

``start``: ``{item, application, materials, channel, as}`` receives an
application at the window (``engine.cases.start_case``: the form, the window's
letter, the case number and the item snapshot, as always), or
``{process, variables, business_key}`` starts a process directly (the REST
layer refuses that for the catalogue's processes; a scenario may, to try a
called process alone). Steps, one action each:

- ``complete: <userTask>`` with ``data`` (validated against its form),
  ``as: <user>`` (default: the first user, by name, among the task's
  candidates) and ``department`` (which one, where several wait);
- ``work: <serviceTask or topic>`` with the worker's ``result`` given in the
  file (no worker runs), or ``error: {code, message}`` (a BPMN error), or
  ``failure: <message>`` (retries 0: an incident);
- ``message: <name>`` with ``data`` and ``as`` (without ``as`` the engine
  itself sends it: no sender check);
- ``wait: P3D`` / ``PT2H``, ``{workdays: N, at: "HH:MM"}`` (on the center's
  working-day calendar) or ``{until: <date-time>}``: the clock moves, then due
  timers fire and case clocks move, as the scheduler would;
- ``expect: {...}`` at any point; and a final ``expect`` per scenario. Keys:
  ``status``, ``waiting`` (user tasks, service tasks, message waits; a list,
  compared as a multiset), ``timers``, ``incidents``, ``variables`` (subset
  match, ``dotted.paths`` and list indexes), ``unset``, ``path`` (element ids
  in the order they completed: a subsequence), ``includes``, ``not_visited``,
  ``case_clock`` (``acceptance``, ``suspended``, ``closed``, ``outcome``, …).

Any of complete/work/message may say ``refused: <text>`` (or ``true``): the
engine must refuse it, with that text in its reason; nothing is written and
the scenario goes on. ``note`` is a comment JSON files can carry.

Nothing here is mocked: the directory the file lives in is deployed (a call
activity needs its callee) into a throwaway SQLite database, the center the
processes need is seeded by the caller's ``seed`` (``onewindow test`` seeds the
demo center), and every step is the engine command the API would run, under a
``FixedClock`` (default start: Monday 2026-01-05 09:00 in Shanghai; ``clock:``
sets another). The database is migrated, deployed and seeded once per
directory and copied for each scenario, so scenarios never see each other and
a whole directory runs in seconds.

Two ways to share steps: ``from: <scenario>`` runs another scenario's start and
steps first (not its final ``expect``), and a step that is a list — a YAML alias
of shared steps, ``- *accepted`` — is spliced in where it stands. Keys starting
with ``x-`` at the top are free (for anchors).

Step numbers in results: 0 is ``start``, 1… are the ``steps`` (with ``from:``,
the steps of the scenario it starts from come first), and the final ``expect``
is one past the last step.
"""
from __future__ import annotations

import difflib
import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import sqlalchemy.orm as so

from .errors import EngineError, InvalidInput
from .settings import Settings

SUFFIXES = (".scenarios.yaml", ".scenarios.yml", ".scenarios.json")
ACTIONS = ("complete", "work", "message", "wait", "expect")
#: the options each action takes besides its own key (``note`` is a comment that JSON files can carry)
OPTIONS = {
    "complete": {"as", "data", "department", "refused", "note"},
    "work": {"result", "error", "failure", "refused", "note"},
    "message": {"as", "data", "refused", "note"},
    "wait": {"note"},
    "expect": {"note"},
}
EXPECT_KEYS = {"waiting", "timers", "incidents", "status", "variables", "unset", "path", "includes", "not_visited",
               "case_clock"}
STATUSES = {"running", "completed", "cancelled", "suspended"}
START_KEYS = {"item", "application", "materials", "channel", "as", "process", "variables", "business_key"}
SCENARIO_KEYS = {"name", "description", "from", "clock", "start", "steps", "expect"}
FILE_KEYS = {"process", "clock", "description", "scenarios"}
WAIT_KEYS = {"workdays", "at", "until"}
#: what a scenario's world holds besides the processes: departments, staff, letters, the catalogue
Seed = Callable[[so.Session], Any]


class ScenarioFileError(InvalidInput):
    """A scenario file that cannot be read at all (syntax, or not the expected shape)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Step:
    action: str
    #: the element id, topic, message name, clock move or expectations the action names
    target: Any
    options: Mapping[str, Any]
    number: int
    line: int | None
    #: the scenario that wrote the step (another one's under ``from:``)
    written_in: str


@dataclass(frozen=True)
class Problem:
    """Why a scenario cannot run, found while reading it."""

    message: str
    step: int | None = None
    line: int | None = None


@dataclass(frozen=True)
class Scenario:
    file: Path
    name: str
    process: str
    start: Mapping[str, Any]
    steps: tuple[Step, ...]
    expect: Mapping[str, Any]
    #: when the case starts (ISO 8601); None: the FixedClock's Monday 2026-01-05 09:00 in Shanghai
    clock: str | None = None
    line: int | None = None
    problem: Problem | None = None
    #: the line of the final ``expect``
    expect_line: int | None = None


@dataclass(frozen=True)
class ScenarioResult:
    file: Path
    name: str
    passed: bool
    failed_at_step: int | None = None
    element_id: str | None = None
    message: str = ""
    line: int | None = None
    seconds: float = 0.0
    #: what a passing scenario's case completed, in order: (process key, element id)
    visited: tuple[tuple[str, str], ...] = ()


# --- reading -------------------------------------------------------------------------------

def scenario_files(directory: Path) -> list[Path]:
    """Every scenario file under ``directory``, in name order."""
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))


def scenarios_beside(bpmn: Path) -> Path | None:
    """The scenario file of a BPMN file (same name, one of the scenario suffixes), if there is one."""
    stem = bpmn.name.removesuffix(".bpmn")
    return next((bpmn.with_name(stem + s) for s in SUFFIXES if bpmn.with_name(stem + s).is_file()), None)


def load_scenarios(path: Path) -> list[Scenario]:
    """Read a scenario file. A file that is not readable raises ``ScenarioFileError``; a scenario that is
    malformed comes back with its ``problem`` set, so the others of the file still run."""
    data, lines = _parse(path, _read_text(path))
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{path.name}: expected a mapping with 'process' and 'scenarios' at the top", 1)
    unknown = [k for k in data if k not in FILE_KEYS and not k.startswith("x-")]
    if unknown:
        raise ScenarioFileError(f"{path.name}: unknown top-level key '{unknown[0]}'"
                                f"{_did_you_mean(unknown[0], FILE_KEYS)} (keys starting with x- are free, "
                                "e.g. for YAML anchors)", lines(unknown[0]))
    process = data.get("process")
    if not isinstance(process, str) or not process:
        raise ScenarioFileError(f"{path.name}: 'process' must name the BPMN process id the scenarios are about",
                                lines("process") or 1)
    listed = data.get("scenarios")
    if not isinstance(listed, list) or not listed:
        raise ScenarioFileError(f"{path.name}: 'scenarios' must be a list of named scenarios", lines("scenarios"))
    raw = [(_name_of(item, index), item) for index, item in enumerate(listed)]
    names = [name for name, _ in raw]
    by_name = {name: index for index, name in reversed(list(enumerate(names)))}
    found = []
    for index, (name, item) in enumerate(raw):
        line = lines("scenarios", index)
        try:
            if names.count(name) > 1:
                raise _Invalid(f"two scenarios are named '{name}'; names must differ", line=line)
            start, steps, expect, clock = _scenario(item, index, raw, by_name, lines, [])
            clock = clock if clock is not None else data.get("clock")
            _check_clock(clock, line)
            clock = None if clock is None else str(clock)
            found.append(Scenario(path, name, process, start, tuple(steps), expect, clock, line,
                                  expect_line=lines("scenarios", index, "expect")))
        except _Invalid as exc:
            found.append(Scenario(path, name, process, {}, (), {}, None, line,
                                  Problem(exc.message, exc.step, exc.line or line)))
    return found


def _name_of(item: Any, index: int) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return str(name) if isinstance(name, (str, int)) and str(name) else f"scenario {index + 1}"


class _Invalid(Exception):
    def __init__(self, message: str, step: int | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.step, self.line = message, step, line


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"{path.name} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ScenarioFileError(f"{path.name} cannot be read: {exc.strerror}") from None


def _parse(path: Path, text: str) -> tuple[Any, Callable[..., int | None]]:
    """The file's data (dates as ISO text, the way forms and variables hold them) and a line finder."""
    if path.name.endswith(".json"):
        try:
            return _plain(json.loads(text)), lambda *_: None
        except json.JSONDecodeError as exc:
            raise ScenarioFileError(f"{path.name} is not valid JSON: {exc.msg}", exc.lineno) from None
    import yaml

    try:
        data, root = yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioFileError(f"{path.name} is not valid YAML: {problem}",
                                mark.line + 1 if mark is not None else None) from None
    return _plain(data), lambda *parts: _yaml_line(root, parts)


def _yaml_line(node: Any, parts: tuple[Any, ...]) -> int | None:
    """The line of the node at ``parts`` (mapping keys and list indexes; '' stands for the root): a list
    item's first line, or the line of the key that names a value."""
    import yaml

    shown = node
    for part in (p for p in parts if p != ""):
        if isinstance(node, yaml.MappingNode):
            shown, node = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)),
                               (None, None))
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            shown = node = node.value[part]
        else:
            shown = node = None
    return shown.start_mark.line + 1 if shown is not None else None


def _plain(value: Any) -> Any:
    """YAML reads 2026-01-08 as a date; scenarios mean the text a form or a variable carries."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _check_clock(clock: Any, line: int | None) -> None:
    if clock is None:
        return
    try:
        datetime.fromisoformat(str(clock))
    except ValueError:
        raise _Invalid(f"clock must be a date-time like 2026-01-05T09:00:00+08:00, got '{clock}'", 0, line) from None


def _scenario(item: Any, index: int, raw: list, by_name: dict, lines: Callable, seen: list[int]
              ) -> tuple[dict, list[Step], dict, str | None]:
    """Start, steps (those of ``from:`` first), final expectations and clock of one scenario."""
    if not isinstance(item, dict):
        raise _Invalid("a scenario must be a mapping with name, start, steps and expect")
    unknown = [k for k in item if k not in SCENARIO_KEYS]
    if unknown:
        raise _Invalid(f"unknown key '{unknown[0]}' in the scenario{_did_you_mean(unknown[0], SCENARIO_KEYS)}",
                       line=lines("scenarios", index, unknown[0]))
    name = raw[index][0]
    steps: list[Step] = []
    base = item.get("from")
    if base is not None:
        here = lines("scenarios", index, "from")
        if base not in by_name or by_name[base] == index:
            raise _Invalid(f"'from: {base}' names no other scenario of this file", line=here)
        if by_name[base] in seen:
            raise _Invalid(f"'from:' goes round in a circle through '{base}'", line=here)
        if "start" in item:
            raise _Invalid(f"a scenario with 'from: {base}' takes that scenario's start; remove 'start'",
                           line=lines("scenarios", index, "start"))
        start, steps, _expect, clock = _scenario(raw[by_name[base]][1], by_name[base], raw, by_name, lines,
                                                 [*seen, index])
    else:
        start, clock = _start(item.get("start"), lines("scenarios", index, "start")), None
    if item.get("clock") is not None:
        clock = str(item["clock"])
    own = item.get("steps", [])
    if not isinstance(own, list):
        raise _Invalid("'steps' must be a list", line=lines("scenarios", index, "steps"))
    for raw_step, where in _spliced(own, ("scenarios", index, "steps")):
        steps.append(_step(raw_step, len(steps) + 1, lines(*where), name))
    expect = item.get("expect", {})
    if not isinstance(expect, dict):
        raise _Invalid("'expect' must be a mapping", len(steps) + 1, lines("scenarios", index, "expect"))
    _check_expect(expect, len(steps) + 1, lines("scenarios", index, "expect"))
    return start, steps, expect, clock


def _spliced(steps: list, where: tuple) -> Iterator[tuple[Any, tuple]]:
    """Steps with their place in the file; a step that is itself a list (a YAML alias of shared steps,
    ``- *accepted``) is spliced in where it stands."""
    for position, step in enumerate(steps):
        if isinstance(step, list):
            yield from _spliced(step, (*where, position))
        else:
            yield step, (*where, position)


def _start(start: Any, line: int | None) -> dict:
    if not isinstance(start, dict):
        raise _Invalid("'start' must say how the case starts: {item, application, materials} or {process, variables}",
                       0, line)
    unknown = [k for k in start if k not in START_KEYS]
    if unknown:
        raise _Invalid(f"unknown key '{unknown[0]}' in start{_did_you_mean(unknown[0], START_KEYS)}", 0, line)
    if "item" in start and ("process" in start or "variables" in start):
        raise _Invalid("start either receives an application for a catalogue item (item, application, materials) "
                       "or starts a process with variables (process, variables), not both", 0, line)
    if "item" not in start and ({"application", "materials", "channel"} & set(start)):
        raise _Invalid("application, materials and channel go with 'item' (a case received at the window)", 0, line)
    for key, kind in (("application", dict), ("variables", dict), ("materials", list)):
        if key in start and not isinstance(start[key], kind):
            raise _Invalid(f"start.{key} must be a {'mapping' if kind is dict else 'list'}", 0, line)
    return start


def _step(raw: Any, number: int, line: int | None, written_in: str) -> Step:
    if not isinstance(raw, dict):
        raise _Invalid(f"step {number} must be a mapping like '- complete: Task_x'", number, line)
    actions = [k for k in raw if k in ACTIONS]
    if len(actions) != 1:
        keys = ", ".join(raw) or "nothing"
        raise _Invalid(f"step {number} must do exactly one of {', '.join(ACTIONS)}; it has {keys}"
                       + (_did_you_mean(next(iter(raw)), ACTIONS) if raw and not actions else ""), number, line)
    action = actions[0]
    options = {k: v for k, v in raw.items() if k != action}
    unknown = [k for k in options if k not in OPTIONS[action]]
    if unknown:
        raise _Invalid(f"step {number}: '{action}' takes no '{unknown[0]}'{_did_you_mean(unknown[0], OPTIONS[action])}"
                       f" (it takes {', '.join(sorted(OPTIONS[action]))})", number, line)
    target = raw[action]
    _check_step(action, target, options, number, line)
    return Step(action, target, options, number, line, written_in)


def _check_step(action: str, target: Any, options: dict, number: int, line: int | None) -> None:
    def invalid(message: str) -> _Invalid:
        return _Invalid(f"step {number} ({action}): {message}", number, line)

    if action in ("complete", "work", "message") and (not isinstance(target, str) or not target):
        raise invalid(f"name the {'message' if action == 'message' else 'element'} to {action}")
    for key in ("data", "result"):
        if key in options and not isinstance(options[key], dict):
            raise invalid(f"'{key}' must be a mapping of variables")
    if "as" in options and not isinstance(options["as"], str):
        raise invalid("'as' names the user who acts")
    if action == "work":
        outcomes = [k for k in ("result", "error", "failure") if k in options]
        if len(outcomes) > 1:
            raise invalid(f"a worker answers once: {' or '.join(outcomes)}, not both")
        error = options.get("error")
        if error is not None and not (isinstance(error, dict) and error.get("code")):
            raise invalid("'error' must be {code: ..., message: ...} (a BPMN error)")
    if action == "wait":
        _check_wait(target, invalid)
    if action == "expect":
        if not isinstance(target, dict):
            raise invalid("expect takes a mapping (waiting, status, variables, path, ...)")
        _check_expect(target, number, line)


def _check_wait(target: Any, invalid: Callable[[str], _Invalid]) -> None:
    from .tasks import parse_duration

    if isinstance(target, str):
        try:
            parse_duration(target)
        except EngineError as exc:
            raise invalid(str(exc)) from None
        return
    if not isinstance(target, dict) or set(target) - WAIT_KEYS or not ({"workdays", "until"} & set(target)):
        raise invalid("wait takes an ISO 8601 duration (P3D, PT2H), {workdays: N, at: 'HH:MM'} or {until: date-time}")
    if "workdays" in target:
        days = target["workdays"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise invalid(f"workdays must be a whole number of working days, got {days!r}")
    if "until" in target and len(target) > 1:
        raise invalid("wait takes either {until: date-time} or {workdays: N, at: 'HH:MM'}")
    try:
        if "until" in target:
            datetime.fromisoformat(str(target["until"]))
        if "at" in target:
            datetime.strptime(str(target["at"]), "%H:%M")
    except ValueError:
        raise invalid("until must be a date-time (2026-01-19T17:00:00+08:00) and at a time of day (HH:MM), "
                      f"got {target!r}") from None


def _check_expect(expect: dict, number: int, line: int | None) -> None:
    unknown = [k for k in expect if k not in EXPECT_KEYS]
    if unknown:
        raise _Invalid(f"unknown expectation '{unknown[0]}'{_did_you_mean(unknown[0], EXPECT_KEYS)}"
                       f" (known: {', '.join(sorted(EXPECT_KEYS))})", number, line)
    for key in ("waiting", "timers", "incidents", "path", "includes", "not_visited", "unset"):
        if key in expect and not (isinstance(expect[key], list) and all(isinstance(v, str) for v in expect[key])):
            raise _Invalid(f"expect.{key} must be a list of element ids", number, line)
    for key, what in (("variables", "variable (or dotted.path)"), ("case_clock", "case clock field")):
        if key in expect and not isinstance(expect[key], dict):
            raise _Invalid(f"expect.{key} must be a mapping of {what} to value", number, line)
    if "status" in expect and expect["status"] not in STATUSES:
        raise _Invalid(f"expect.status must be one of {', '.join(sorted(STATUSES))}", number, line)


def _did_you_mean(word: Any, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" — did you mean '{close[0]}'?" if close else ""


# --- running --------------------------------------------------------------------------------

def run_directory(directory: Path, *, only: str | None = None, settings: Settings | None = None,
                  seed: Seed | None = None) -> list[ScenarioResult]:
    """Run every scenario file under ``directory`` (``only``: scenarios whose name contains it)."""
    return _run(directory, scenario_files(directory), only, settings, seed)


def run_file(path: Path, *, only: str | None = None, settings: Settings | None = None,
             seed: Seed | None = None) -> list[ScenarioResult]:
    """Run one scenario file, with the directory it lives in deployed."""
    return _run(path.parent, [path], only, settings, seed)


def _run(directory: Path, files: list[Path], only: str | None, settings: Settings | None,
         seed: Seed | None) -> list[ScenarioResult]:
    """Results in file order; the world is made (deployed, seeded) only if some scenario is to run."""
    from .scenario_run import World, run_scenario

    settings = settings or Settings.from_env({})
    results: list[ScenarioResult] = []
    with tempfile.TemporaryDirectory(prefix="onewindow-scenarios-") as workdir:
        world: World | None = None
        broken: str | None = None
        for path in files:
            try:
                found = [s for s in load_scenarios(path) if _selected(s, only)]
            except ScenarioFileError as exc:
                results.append(ScenarioResult(path, path.name, False, None, None, exc.message, exc.line))
                continue
            for scenario in found:
                if world is None and broken is None:
                    try:
                        world = World(directory, settings, seed, Path(workdir))
                    except Exception as exc:  # a model that does not deploy, a seed that fails: all scenarios fail
                        broken = f"{directory} could not be deployed and seeded: {exc}"
                if world is None:
                    results.append(ScenarioResult(path, scenario.name, False, None, None, str(broken)))
                else:
                    results.append(run_scenario(world, scenario))
    return results


def _selected(scenario: Scenario, only: str | None) -> bool:
    return not only or only.casefold() in scenario.name.casefold()
