"""`onewindow test [PATH]`: run the scenario files beside the BPMN models and say which failed, at which
step and element (engine.scenarios). The runner makes its own throwaway database, so the command never
touches the one the app is configured with; it seeds the demo center (api.demo) the scenarios are written for,
and takes the rest of the app's settings (forms, time zone, rating period) as the center would run them.
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from engine import scenarios

from .bilingual import say, shown



@click.command("test", help="Run the scenario files beside the BPMN models (default: the processes directory); "
                            "exit 1 if any scenario fails.")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("-k", "only", default=None, metavar="NAME", help="Only scenarios whose name contains NAME.")
@with_appcontext
def test_command(path: Path | None, only: str | None) -> None:
    from . import state
    from .demo import seed

    settings = state().services.settings
    target = path or settings.processes_dir
    began = time.perf_counter()
    options = {"only": only, "settings": settings, "seed": partial(seed, password=None)}
    if target.is_dir():
        if not scenarios.scenario_files(target):
            _fail(lambda: _("No scenario files in %(path)s (expected <process>.scenarios.yaml beside the BPMN)",
                            path=target))
        results = scenarios.run_directory(target, **options)
    else:
        results = scenarios.run_file(_scenario_file(target), **options)
    if not results:
        _fail(lambda: _("No scenario is named like '%(only)s'", only=only))
    for result in results:
        say(lambda r=result: _line(r))
        if not result.passed:
            click.echo(f"        {result.message}")
    failed = sum(not r.passed for r in results)
    seconds = time.perf_counter() - began
    say(lambda: _("%(passed)d passed, %(failed)d failed in %(seconds).1f s", passed=len(results) - failed,
                    failed=failed, seconds=seconds))
    if failed:
        raise SystemExit(1)


def _scenario_file(path: Path) -> Path:
    """A scenario file as given, or the one beside a BPMN file."""
    if path.name.endswith(scenarios.SUFFIXES):
        return path
    if path.name.endswith(".bpmn"):
        found = scenarios.scenarios_beside(path)
        if found is None:
            _fail(lambda: _("No scenarios file beside %(path)s: expected %(expected)s", path=path,
                            expected=path.name.removesuffix(".bpmn") + scenarios.SUFFIXES[0]))
        return found
    _fail(lambda: _("%(path)s is neither a directory, a scenarios file nor a BPMN file", path=path))
    raise AssertionError("unreachable")


def _line(result: scenarios.ScenarioResult) -> str:
    where = {"file": shown(result.file), "name": result.name}
    if result.passed:
        return _("ok      %(file)s: %(name)s", **where)
    parts = []
    if result.failed_at_step is not None:
        parts.append(_("step %(number)d", number=result.failed_at_step))
    if result.line is not None:
        parts.append(_("line %(number)d", number=result.line))
    if result.element_id:
        parts.append(_("element %(id)s", id=result.element_id))
    return _("FAILED  %(file)s: %(name)s", **where) + (" — " + ", ".join(parts) if parts else "")


def _fail(render) -> None:
    say(render)
    raise SystemExit(1)
