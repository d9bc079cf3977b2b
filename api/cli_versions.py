"""`onewindow versions`, `onewindow diff` and `onewindow migrate`: the versions of each process, what
changed between two, and moving running instances to another version (a dry run first) — thin
commands over engine.versions, engine.definition_diff and engine.instance_migration, one transaction each.

Texts go through the Babel catalogue with English msgids; a command has no request to choose a language
from, so each message is printed in English and then, where the catalogue has it, in Chinese.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Callable

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from engine import instance_migration, versions
from engine.definition_diff import DefinitionDiff, diff_definitions
from engine.errors import NotFound
from engine.models import ProcessDefinition

from .bilingual import CHINESE, say


def _state():
    from . import state

    return state(current_app)


def _local(moment: datetime) -> str:
    return moment.astimezone(_state().services.tz).strftime("%Y-%m-%d %H:%M")


def _table(header: Callable[[], list[str]], rows: list[list[object]]) -> None:
    """Columns as wide as their widest cell (Chinese characters take two); the header in each language."""
    titles = {}
    for locale in ("en", CHINESE):
        with force_locale(locale):
            titles[locale] = [str(t) for t in header()]
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(_width(c) for c in column) for column in zip(titles["en"], titles[CHINESE], *cells)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths)).rstrip()

    click.echo(line(titles["en"]))
    if titles[CHINESE] != titles["en"]:
        click.echo(line(titles[CHINESE]))
    for row in cells:
        click.echo(line(row))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


@click.command("versions", help="List deployed processes, or the versions of one (who deployed each, when, and how "
                                "many cases run on it).")
@click.argument("key", required=False)
@with_appcontext
def versions_command(key: str | None) -> None:
    with _state().sessions.begin() as session:
        if key is None:
            found = versions.list_keys(session)
            if not found:
                say(lambda: _("Nothing is deployed yet."))
                return
            _table(lambda: [_("KEY"), _("NAME"), _("LATEST"), _("VERSIONS"), _("RUNNING"), _("DEPLOYED")],
                   [[k.key, k.name or "", k.latest_version, k.versions, k.running,
                     f"{_local(k.last_deployed_at)} {k.last_deployed_by or ''}".rstrip()] for k in found])
            return
        found = versions.list_versions(session, key)
    _table(lambda: [_("VERSION"), _("DEPLOYED"), _("BY"), _("DEPLOYMENT"), _("RUNNING"), _("FILE"), _("ID")],
           [[f"{v.version}{' *' if v.latest else ''}", _local(v.deployed_at), v.deployed_by or "",
             v.deployment_name or "", v.running + v.running_as_called, v.resource_name, v.definition_id]
            for v in found])
    say(lambda: _("* the latest version: new cases start on it; running cases stay on their own version"))


def _definition(session, key_or_id: str, version: str | None) -> ProcessDefinition:
    """`KEY VERSION` or a definition id."""
    if version is None:
        found = session.get(ProcessDefinition, key_or_id)
        if found is None:
            raise NotFound(f"No process definition with id '{key_or_id}' is deployed")
        return found
    if not version.isdigit():
        raise click.BadParameter(_version_hint(version))
    return versions.get_version(session, key_or_id, int(version))


def _version_hint(value: str) -> str:
    with force_locale("en"):
        return _("'%(value)s' is not a version number", value=value)


@click.command("diff", help="Show what changed between two versions: `onewindow diff KEY V1 V2`, or two definition ids.")
@click.argument("first")
@click.argument("second")
@click.argument("third", required=False)
@click.option("--layout/--no-layout", default=True, help="Also list elements only drawn elsewhere.")
@with_appcontext
def diff_command(first: str, second: str, third: str | None, layout: bool) -> None:
    with _state().sessions.begin() as session:
        if third is None:
            old, new = _definition(session, first, None), _definition(session, second, None)
        else:
            old, new = _definition(session, first, second), _definition(session, first, third)
        found = diff_definitions(old, new, layout=layout)
        title = (old.key, old.version, new.key, new.version)
    say(lambda: _("%(key)s: version %(old)d → %(new_key)s version %(new)d", key=title[0], old=title[1],
                  new_key=title[2], new=title[3]))
    _print_diff(found)


def _print_diff(found: DefinitionDiff) -> None:
    if found.unchanged and not found.moved:
        say(lambda: _("No differences."))
        return
    for label, elements, mark in ((lambda: _("Added:"), found.added, "+"), (lambda: _("Removed:"), found.removed, "-")):
        if elements:
            say(label)
            for e in elements:
                click.echo(f"  {mark} {e.kind} {e.id}" + (f" \u201c{e.name}\u201d" if e.name else ""))
    if found.changed:
        say(lambda: _("Changed:"))
        for change in found.changed:
            click.echo(f"  ~ {change.kind} {change.id}" + (f" \u201c{change.name}\u201d" if change.name else ""))
            for aspect in change.changes:
                click.echo(f"      {aspect.aspect}: {aspect.old if aspect.old is not None else '—'} → "
                           f"{aspect.new if aspect.new is not None else '—'}")
    if found.moved:
        say(lambda: _("Only drawn elsewhere: %(ids)s", ids=", ".join(found.moved)))


@click.command("migrate", help="Move running cases of a process from one version to another (see what would "
                               "happen first with --dry-run).")
@click.argument("key")
@click.option("--from", "source", required=True, type=int, help="The version the cases run on now.")
@click.option("--to", "target", type=int, default=None, help="The version to move them to (default: the latest).")
@click.option("--dry-run", is_flag=True, help="Only report which cases could move, and why not; write nothing.")
@click.option("--instance", "instance_ids", multiple=True, help="Only this instance (repeatable); all of them must "
                                                                 "be able to move, or none moves.")
@with_appcontext
def migrate_command(key: str, source: int, target: int | None, dry_run: bool, instance_ids: tuple[str, ...]) -> None:
    selected = list(instance_ids) or None
    with _state().sessions.begin() as session:
        source_id = versions.get_version(session, key, source).id
        target_id = (versions.get_version(session, key, target).id if target is not None
                     else versions.list_versions(session, key)[0].definition_id)
        if dry_run:
            plan = instance_migration.plan_migration(session, source_id, target_id, instance_ids=selected)
            result = None
        else:
            result = instance_migration.migrate_instances(session, source_id, target_id, actor="cli",
                                                          instance_ids=selected, skip_blocked=selected is None)
            plan = result.plan
    _print_plan(plan)
    if result is not None:
        say(lambda: _("Moved %(moved)d instance(s) to version %(version)d; %(stayed)d stay on version %(source)d.",
                      moved=len(result.migrated), version=plan.target_version, stayed=len(result.skipped),
                      source=plan.source_version))


def _print_plan(plan: instance_migration.MigrationPlan) -> None:
    say(lambda: _("%(key)s: version %(source)d → version %(target)d: %(instances)d instance(s), %(migratable)d can "
                  "move, %(blocked)d cannot", key=plan.key, source=plan.source_version, target=plan.target_version,
                  **plan.counts()))
    for one in plan.instances:
        verdict = "✓" if one.migratable else "✗"
        waits = ", ".join(f"{w.activity_id} ({w.kind}{'' if w.process_key == plan.key else ' in ' + w.process_key})"
                          + ("" if w.in_target else " ✗") for w in one.waiting)
        click.echo(f"  {verdict} {one.business_key or one.instance_id}  {waits}")
        for blocker in one.blockers:
            click.echo(f"      {blocker.message}")
    for note in plan.notes:
        click.echo(f"  {note}")
