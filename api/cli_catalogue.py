"""`onewindow catalogue export|import`: the item catalogue as a CSV or Excel sheet (engine.catalogue_io).

An import is one transaction: every good row is saved (a version only where something
changed), every bad row is rolled back to its own savepoint and listed at the end with
its row, item code, column and reason; `--report FILE` writes the same list as CSV
(UTF-8 with BOM) with the reason's code and values beside the English sentence. The
command exits 1 if any row was rejected. Its lines are said in English and in the
center's language (zh-CN) where the catalogue has them; the reasons are the engine's
English sentences (their codes and values are in the report for translation).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from engine import catalogue_io
from engine.errors import EngineError

from .bilingual import CHINESE, both, say
from .catalogue_messages import describe_problem


@click.group("catalogue", help="The item catalogue (事项清单): export and import as CSV or Excel.")
def catalogue_group() -> None:
    pass


@catalogue_group.command("export", help="Write the current catalogue (or every version) to a .csv or .xlsx file.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(catalogue_io.FORMATS), default=None,
              help="csv or xlsx; default: from the file name.")
@click.option("--all-versions", is_flag=True, help="Every version kept, not only the current ones (a history "
                                                   "record: an import takes one row per item).")
@with_appcontext
def export_command(file: Path, fmt: str | None, all_versions: bool) -> None:
    from . import state

    try:
        with state().sessions.begin() as session:
            count = catalogue_io.export_file(session, file, fmt, all_versions=all_versions)
    except EngineError as exc:
        raise click.ClickException(str(exc)) from None
    say(lambda: _("%(count)d item rows written to %(file)s", count=count, file=file))


@catalogue_group.command("import", help="Import a .csv or .xlsx catalogue sheet: good rows are saved, bad rows "
                                        "reported; exit 1 if any row was rejected.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(catalogue_io.FORMATS), default=None,
              help="csv or xlsx; default: from the file name.")
@click.option("--actor", default="cli", show_default=True, help="Who is recorded as saving the new versions.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="Also write the per-row report to this CSV file.")
@with_appcontext
def import_command(file: Path, fmt: str | None, actor: str, report_file: Path | None) -> None:
    from . import state

    report = catalogue_io.ImportReport()
    try:
        sheet = catalogue_io.read_file(file, fmt)
        with state().sessions.begin() as session:
            label = both(lambda: _("Importing %(file)s", file=file.name)).replace("\n", " · ")
            with click.progressbar(length=len(sheet.rows), label=label, show_pos=True) as bar:
                for result in catalogue_io.iter_import(session, sheet, actor, source=file.name):
                    report.results.append(result)
                    if result.sheet == catalogue_io.ITEMS_SHEET:
                        bar.update(1)
    except EngineError as exc:
        raise click.ClickException(str(exc)) from None
    for result in report.rejected:
        say(lambda r=result: _("Row %(row)d of sheet %(sheet)s (item %(item)s) rejected:", row=r.row,
                                sheet=r.sheet, item=r.code or "?"))
        for problem in result.problems:
            click.echo(f"    {problem.column}: {problem.message}")
            with force_locale(CHINESE):
                chinese = describe_problem({"code": problem.code, "params": problem.params, "message": ""})
            if chinese:
                click.echo(f"    {problem.column}：{chinese}")
    say(lambda: _("%(imported)d imported, %(unchanged)d unchanged, %(rejected)d rejected",
                   imported=report.count("imported"), unchanged=report.count("unchanged"),
                   rejected=report.count("rejected")))
    if report_file is not None:
        with force_locale(CHINESE):
            _write_report(report, report_file)
        say(lambda: _("Report written to %(file)s", file=report_file))
    if report.rejected:
        raise SystemExit(1)



def _write_report(report: catalogue_io.ImportReport, path: Path) -> None:
    headers = {"sheet": _("Sheet"), "row": _("Row"), "code": _("Item code"), "status": _("Result"),
               "version": _("Version"), "kind": _("Kind"), "column": _("Column"), "field": _("Field"),
               "reason_code": _("Reason code"), "message": _("Reason"), "params": _("Values"),
               "explanation": _("Explanation")}
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(headers))
        writer.writerow(headers)
        for row in catalogue_io.report_rows(report):
            params = json.loads(row["params"]) if row["params"] else {}
            explained = describe_problem({"code": row["reason_code"], "params": params, "message": row["message"]})
            writer.writerow({**row, "explanation": explained if row["reason_code"] else ""})
