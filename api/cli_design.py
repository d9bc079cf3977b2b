"""`onewindow validate` and `onewindow lint`: a designer's feedback on BPMN files before they are deployed.

Both take files and directories (every ``*.bpmn`` under a directory) and need no database. Each finding
is printed as ``file:line [element] severity code``, then the engine's English sentence and the same in
Chinese; ``--format json`` gives the findings to other tools (editors, CI annotations). Exit status: 0 when
nothing is wrong, 1 when there are errors (or, for lint, more warnings than ``--max-warnings``), 2 for
usage mistakes (click's own).

Called processes are looked for among the files given and the models beside them, so a call activity to a
sibling file is not reported as unknown. Lint reads ``lint.json`` from each file's directory unless
``--config`` names one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from engine import lint, validation
from engine.validation import Finding

from .bilingual import CHINESE, both, say, shown
from .design_checks import lint_context, process_ids_of
from .design_messages import describe, explanation

FORMATS = ("text", "json")


@click.command("validate", help="Check BPMN files (or directories of them) against the BPMN 2.0 schema and what "
                                "the engine can run; exit 1 on any error.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@with_appcontext
def validate_command(paths: tuple[Path, ...], fmt: str) -> None:
    files = bpmn_files(paths)
    known = process_ids_of(files)
    results = {file: validation.validate(file.read_bytes(), shown(file), known_processes=known) for file in files}
    _report(results, fmt)
    raise SystemExit(1 if _count(results, "error") else 0)


@click.command("lint", help="Check BPMN files (or directories of them) against the modelling rules and the rules "
                            "of this center; exit 1 on any error.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A lint.json to use instead of the one beside each file.")
@click.option("--max-warnings", type=click.IntRange(min=0), default=None,
              help="Exit 1 when there are more warnings than this.")
@click.option("--list-rules", is_flag=True, help="List the rules with their default levels and stop.")
@click.option("--explain", "explain_rule", metavar="RULE", default=None, help="Explain one rule and stop.")
@with_appcontext
def lint_command(paths: tuple[Path, ...], fmt: str, config_path: Path | None, max_warnings: int | None,
                 list_rules: bool, explain_rule: str | None) -> None:
    if list_rules:
        _list_rules()
        return
    if explain_rule:
        _explain(explain_rule)
        return
    if not paths:
        raise click.UsageError(both(lambda: _("Give the BPMN files or directories to lint.")))
    files = bpmn_files(paths)
    context = lint_context(process_ids_of(files))
    fixed = lint.load_config(config_path) if config_path else None
    results = {file: lint.lint(file.read_bytes(), shown(file), context, fixed or lint.load_config(file.parent))
               for file in files}
    _report(results, fmt)
    errors, warnings = _count(results, "error"), _count(results, "warning")
    too_many = max_warnings is not None and warnings > max_warnings
    if too_many and fmt == "text":
        say(lambda: _("%(count)d warnings, more than the %(limit)d allowed (--max-warnings)", count=warnings,
                      limit=max_warnings), err=True)
    raise SystemExit(1 if errors or too_many else 0)


def bpmn_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and every BPMN file under the directories named, each once, in order."""
    found: list[Path] = []
    for path in paths:
        candidates = sorted(path.rglob("*.bpmn")) if path.is_dir() else [path]
        found.extend(c for c in candidates if c not in found)
    if not found:
        raise click.UsageError(both(lambda: _("No BPMN files in %(paths)s", paths=", ".join(str(p) for p in paths))))
    return found


# --- output -----------------------------------------------------------------------------------

def _report(results: dict[Path, list[Finding]], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(_as_json(results), ensure_ascii=False, indent=2))
        return
    for findings in results.values():
        for finding in findings:
            _print_finding(finding)
    errors, warnings = _count(results, "error"), _count(results, "warning")
    say(lambda: _("%(files)d files: %(errors)d errors, %(warnings)d warnings", files=len(results), errors=errors,
                  warnings=warnings))


def _print_finding(finding: Finding) -> None:
    where = finding.resource + (f":{finding.line}" if finding.line else "")
    element = f" [{finding.element_id}]" if finding.element_id else ""
    click.echo(f"{where}{element} {finding.severity} {finding.code}")
    click.echo(f"    {finding.message}")
    with force_locale(CHINESE):
        chinese = describe(finding)
    if chinese != finding.message:
        click.echo(f"    {chinese}")


def _as_json(results: dict[Path, list[Finding]]) -> dict[str, object]:
    with force_locale(CHINESE):
        findings = [{**f.as_dict(), "messageZh": describe(f)} for found in results.values() for f in found]
    return {"files": [shown(file) for file in results], "errors": _count(results, "error"),
            "warnings": _count(results, "warning"), "findings": findings}


def _count(results: dict[Path, list[Finding]], severity: str) -> int:
    return sum(f.severity == severity for found in results.values() for f in found)


def _list_rules() -> None:
    for each in lint.rules():
        click.echo(f"{each.id:40} {each.severity}")
    say(lambda: _("%(count)d rules; onewindow lint --explain RULE says why one exists, lint.json sets its level",
                  count=len(lint.rules())))


def _explain(rule_id: str) -> None:
    found = lint.rule(rule_id)
    if found is None:
        _fail(lambda: _("There is no rule '%(rule)s' (onewindow lint --list-rules lists them)", rule=rule_id))
    assert found is not None
    click.echo(f"{found.id} ({found.severity})")
    say(lambda: explanation(found))


def _fail(render: Callable[[], str]) -> None:
    say(render, err=True)
    raise SystemExit(2)
