"""The catalogue as a CSV or Excel sheet: an export imported again changes nothing; an import with bad rows
saves the good ones and reports each bad row with its row, column and reason; a limit changed by an import
applies to new cases only; `onewindow catalogue export|import` with its exit codes and report."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.demo import seed
from engine import catalogue, catalogue_io, deploy
from engine.errors import InvalidInput
from engine.models import AuditEntry, CaseClock, CatalogueItem
from engine.settings import PROJECT_ROOT

from .paths import ENTERPRISE, FOOD_CHANGE, SOLE_TRADER

H = catalogue_io.HEADERS
NEW_ITEM = {H["code"]: "310118-SCJ-101", H["name"]: "食品小作坊登记", H["item_type"]: "行政许可",
            H["department"]: "区市场监督管理局", H["case_type"]: "承诺件", H["legal_limit_days"]: "20",
            H["promised_limit_days"]: "8", H["process_key"]: "window_intake", H["form_key"]: "application_enterprise",
            H["channels"]: "综合窗口；一网通办", H["online_depth"]: "全程网办",
            H["materials"]: json.dumps([{"code": "application-form", "name": "登记申请书", "form": "原件", "copies": 1,
                                         "mandatory": True, "shared": False}], ensure_ascii=False)}


@pytest.fixture
def center_db(sessions):
    """The demo center's departments, staff and catalogue, with its processes deployed."""
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
    return sessions


def write_csv(path: Path, rows: list[dict[str, str]], headers: list[str] | None = None,
              encoding: str = "utf-8-sig") -> Path:
    headers = headers or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([row.get(h, "") for h in headers])
    return path


def versions(sessions) -> dict[str, int]:
    with sessions.begin() as session:
        rows = session.execute(sa.select(CatalogueItem.code, sa.func.max(CatalogueItem.version))
                               .group_by(CatalogueItem.code))
        return {code: version for code, version in rows}


def import_file(sessions, path: Path) -> catalogue_io.ImportReport:
    with sessions.begin() as session:
        return catalogue_io.import_file(session, path, actor="clerk")


def by_row(report: catalogue_io.ImportReport) -> dict[int, catalogue_io.RowResult]:
    return {r.row: r for r in report.results if r.sheet == catalogue_io.ITEMS_SHEET}


@pytest.mark.parametrize("fmt", catalogue_io.FORMATS)
def test_an_export_imported_again_changes_nothing(center_db, tmp_path, fmt):
    path = tmp_path / f"catalogue.{fmt}"
    with center_db.begin() as session:
        assert catalogue_io.export_file(session, path) == 16
    before = versions(center_db)
    report = import_file(center_db, path)
    assert [r.status for r in report.results] == ["unchanged"] * 16
    assert all(not r.problems and not r.warnings for r in report.results)
    assert versions(center_db) == before == {code: 1 for code in before}
    with center_db.begin() as session:  # the import said so in the audit log, and saved no item
        actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)).all()
        assert actions == ["catalogue-imported"]
        again = tmp_path / f"again.{fmt}"
        catalogue_io.export_file(session, again)
    if fmt == "csv":
        assert again.read_bytes() == path.read_bytes() and path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_csv_with_bad_rows_imports_the_good_ones_and_reports_each_bad_row_with_its_reason(center_db, tmp_path):
    with center_db.begin() as session:
        food = catalogue.record(catalogue.current_version(session, FOOD_CHANGE))
    changed = {**NEW_ITEM, H["code"]: FOOD_CHANGE, H["name"]: food["name"], H["promised_limit_days"]: "3",
               H["channels"]: "综合窗口；一网通办；随申办", H["materials"]: json.dumps(food["details"]["materials"])}
    rows = [
        NEW_ITEM,                                                                   # row 2: a new item
        changed,                                                                    # row 3: a change
        {**NEW_ITEM, H["code"]: "BAD-1", H["promised_limit_days"]: "25"},           # row 4
        {**NEW_ITEM, H["code"]: "BAD-2", H["department"]: "区气象局"},               # row 5
        {**NEW_ITEM, H["code"]: "BAD-3", H["case_type"]: "即办件"},                  # row 6: instant, promises 8
        {**NEW_ITEM, H["code"]: "BAD-4", H["materials"]: "[{code: 1}]"},            # row 7
        {**NEW_ITEM, H["name"]: "重复的一行"},                                        # row 8: row 2's code again
        {},                                                                         # row 9: blank, not a row
        {**NEW_ITEM, H["code"]: ""},                                                # row 10
        {**NEW_ITEM, H["code"]: "BAD-5", H["channels"]: "综合窗口；微信", H["legal_limit_days"]: "二十"},  # row 11
    ]
    report = import_file(center_db, write_csv(tmp_path / "sheet.csv", rows, headers=list(NEW_ITEM)))
    results = by_row(report)
    assert {n: (r.code, r.status) for n, r in results.items()} == {
        2: ("310118-SCJ-101", "imported"), 3: (FOOD_CHANGE, "imported"), 4: ("BAD-1", "rejected"),
        5: ("BAD-2", "rejected"), 6: ("BAD-3", "rejected"), 7: ("BAD-4", "rejected"),
        8: ("310118-SCJ-101", "rejected"), 10: (None, "rejected"), 11: ("BAD-5", "rejected")}
    reasons = {n: [(p.column, p.code) for p in r.problems] for n, r in results.items() if r.problems}
    assert reasons == {
        4: [(H["promised_limit_days"], "item.promised-over-legal")],
        5: [(H["department"], "item.unknown-department")],
        6: [(H["promised_limit_days"], "item.instant-not-zero")],
        7: [(H["materials"], "catalogue.unreadable-cell")],
        8: [(H["code"], "catalogue.repeated-item")],
        10: [(H["code"], "item.required")],
        11: [(H["legal_limit_days"], "item.bad-number"), (H["channels"], "item.not-in-code-set")]}
    assert results[4].problems[0].message == "the promised limit (25) may not exceed the legal limit (20)"
    assert dict(results[4].problems[0].params) == {"promised": 25, "legal": 20}
    assert results[8].problems[0].params["row"] == 2 and "got '微信'" in results[11].problems[1].message
    assert (results[2].version, results[3].version) == (1, 2)
    saved = versions(center_db)  # committed: the good rows, and nothing of the bad ones
    assert (saved["310118-SCJ-101"], saved[FOOD_CHANGE]) == (1, 2) and not {k for k in saved if k.startswith("BAD")}
    with center_db.begin() as session:
        new = catalogue.current_version(session, "310118-SCJ-101")
        assert (new.department, new.case_type, new.details["channels"], new.details["online_depth"]) == (
            "market", "2", ["1", "2"], "4")
        assert new.details["materials"][0]["form"] == "1"
        food_now = catalogue.record(catalogue.current_version(session, FOOD_CHANGE))
    assert {k for k in food if food[k] != food_now[k]} == {"promised_limit_days"}
    rows_out = list(catalogue_io.report_rows(report))
    assert [r["row"] for r in rows_out if r["status"] == "rejected"] == [4, 5, 6, 7, 8, 10, 11, 11]


def test_a_sheet_changes_only_the_columns_it_has_and_once(center_db, tmp_path):
    path = write_csv(tmp_path / "limits.csv", [{H["code"]: SOLE_TRADER, H["legal_limit_days"]: "10"},
                                               {H["code"]: FOOD_CHANGE, H["legal_limit_days"]: "20",
                                                "承诺办结时限(工作日)": "4"}],
                     headers=[H["code"], H["legal_limit_days"], "承诺办结时限(工作日)"])  # half-width brackets
    with center_db.begin() as session:
        before = catalogue.record(catalogue.current_version(session, FOOD_CHANGE))
    report = import_file(center_db, path)
    assert [(r.code, r.status, r.version) for r in report.results] == [(SOLE_TRADER, "rejected", None),
                                                                      (FOOD_CHANGE, "imported", 2)]
    assert [(p.field, p.code) for p in report.results[0].problems] == [  # an empty cell clears the field
        ("promised_limit_days", "item.required")]
    with center_db.begin() as session:
        after = catalogue.record(catalogue.current_version(session, FOOD_CHANGE))
    assert {k for k in after if after[k] != before[k]} == {"promised_limit_days"} and after["promised_limit_days"] == 4
    assert [r.status for r in import_file(center_db, path).results] == ["rejected", "unchanged"]


def test_an_xlsx_keeps_materials_on_their_own_sheet_and_reports_a_bad_material_by_its_row(center_db, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "catalogue.xlsx"
    with center_db.begin() as session:
        catalogue_io.export_file(session, path)
    book = load_workbook(path)
    items, materials = book[catalogue_io.ITEMS_SHEET], book[catalogue_io.MATERIALS_SHEET]
    headers = [c.value for c in items[1]]
    rows = {r[0].value: r for r in items.iter_rows(min_row=2)}
    rows[FOOD_CHANGE][headers.index(H["promised_limit_days"])].value = 4  # a number cell
    bad_row = next(r for r in materials.iter_rows(min_row=2) if r[0].value == SOLE_TRADER)
    bad_row[4].value = 0  # 份数
    materials.append(["NOWHERE-1", "x", "某材料", "原件", 1, "是", "否"])
    book.save(path)
    report = import_file(center_db, path)
    changed = {(r.sheet, r.code): r for r in report.results if r.status != "unchanged"}
    assert set(changed) == {("事项", FOOD_CHANGE), ("事项", SOLE_TRADER), ("申请材料", "NOWHERE-1")}
    assert changed[("事项", FOOD_CHANGE)].status == "imported"
    problem = changed[("事项", SOLE_TRADER)].problems[0]
    assert (problem.column, problem.field, problem.code) == (f"申请材料!{bad_row[0].row} 份数",
                                                             "details.materials[1].copies", "item.bad-number")
    orphan = changed[("申请材料", "NOWHERE-1")]
    assert (orphan.status, orphan.row, orphan.problems[0].code) == ("rejected", materials.max_row,
                                                                    "catalogue.material-without-item")
    assert versions(center_db)[SOLE_TRADER] == 1


def test_every_version_exports_for_the_record_but_imports_one_row_per_item(center_db, tmp_path):
    with center_db.begin() as session:
        data = catalogue.record(catalogue.current_version(session, FOOD_CHANGE))
        catalogue.put_item(session, {**data, "promised_limit_days": 3}, actor="admin")
        assert catalogue_io.export_file(session, tmp_path / "all.csv", all_versions=True) == 17
    with (tmp_path / "all.csv").open(encoding="utf-8-sig") as stream:
        lines = [r for r in csv.DictReader(stream) if r[H["code"]] == FOOD_CHANGE]
    assert [(r["版本"], r["当前版本"], r[H["promised_limit_days"]]) for r in lines] == [("1", "否", "5"),
                                                                                     ("2", "是", "3")]
    report = import_file(center_db, tmp_path / "all.csv")
    assert [r.problems[0].code for r in report.rejected] == ["catalogue.repeated-item"]
    assert versions(center_db)[FOOD_CHANGE] == 3  # its first row is saved as version 3 (= version 1)


@pytest.mark.parametrize("headers, expected", [
    ([H["code"], "承诺时限"], "unknown column '承诺时限' (column 2); did you mean '承诺办结时限（工作日）'?"),
    ([H["name"], H["case_type"]], "no column 实施编码"),
    ([H["code"], H["name"], "事项名称 "], "the column '事项名称' appears twice"),
])
def test_a_file_with_unknown_or_missing_headers_is_refused_before_any_row(center_db, tmp_path, headers, expected):
    path = write_csv(tmp_path / "x.csv", [{h: "1" for h in headers}], headers=headers)
    with pytest.raises(InvalidInput) as refused, center_db.begin() as session:
        catalogue_io.import_file(session, path, actor="clerk")
    assert refused.value.code == "catalogue.bad-file" and expected in str(refused.value)


def test_a_csv_saved_back_from_excel_in_gb18030_is_read(center_db, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [{H["code"]: FOOD_CHANGE, H["promised_limit_days"]: "4"}],
                     encoding="gb18030")
    assert [(r.status, r.version) for r in import_file(center_db, path).results] == [("imported", 2)]
    with pytest.raises(InvalidInput, match="say which format"), center_db.begin() as session:
        catalogue_io.import_file(session, tmp_path / "gbk.txt", actor="clerk")


def test_a_limit_changed_by_an_import_applies_to_new_cases_only(center, tmp_path):
    before = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    sheet = write_csv(tmp_path / "limit.csv", [{H["code"]: FOOD_CHANGE, H["promised_limit_days"]: "3"}])
    assert [r.status for r in import_file(center.sessions, sheet).results] == ["imported"]
    after = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert [(center.variables(k)["itemVersion"], center.variables(k)["promisedLimitDays"])
            for k in (before, after)] == [(1, 5), (2, 3)]
    ids = [center.instance_id(k) for k in (before, after)]
    with center.sessions.begin() as session:
        clocks = [session.get(CaseClock, i).promised_limit_days for i in ids]
    assert clocks == [5, 3]


# --- the command ---------------------------------------------------------------------------------------

@pytest.fixture
def runner(app):
    from api import state

    with state(app).sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
    with app.app_context():  # as `onewindow` runs its commands
        yield app.test_cli_runner()


def test_the_commands_export_and_import_again_with_nothing_to_do(runner, tmp_path):
    exported = runner.invoke(args=["catalogue", "export", str(tmp_path / "c.xlsx")])
    assert exported.exit_code == 0, exported.output
    assert f"16 item rows written to {tmp_path / 'c.xlsx'}" in exported.output
    done = runner.invoke(args=["catalogue", "import", str(tmp_path / "c.xlsx"), "--actor", "zhang"])
    assert done.exit_code == 0, done.output
    assert "0 imported, 16 unchanged, 0 rejected" in done.output and "Importing c.xlsx" in done.output


def test_the_import_command_reports_rejected_rows_and_exits_1(runner, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [NEW_ITEM, {**NEW_ITEM, H["code"]: "BAD-1", H["promised_limit_days"]: "30"}])
    done = runner.invoke(args=["catalogue", "import", str(path), "--report", str(tmp_path / "report.csv")])
    assert done.exit_code == 1, done.output
    assert "Row 3 of sheet 事项 (item BAD-1) rejected:" in done.output
    assert "    承诺办结时限（工作日）: the promised limit (30) may not exceed the legal limit (20)" in done.output
    assert "    承诺办结时限（工作日）：承诺办结时限（30 个工作日）不能超过法定办结时限（20 个工作日）。" in done.output
    assert "1 imported, 0 unchanged, 1 rejected" in done.output
    with (tmp_path / "report.csv").open(encoding="utf-8-sig") as stream:
        lines = list(csv.reader(stream))[1:]
    assert [(line[1], line[2], line[3], line[8]) for line in lines] == [
        ("2", "310118-SCJ-101", "imported", ""), ("3", "BAD-1", "rejected", "item.promised-over-legal")]
    assert json.loads(lines[1][10]) == {"promised": 30, "legal": 20}
    assert lines[1][11] == "承诺办结时限（30 个工作日）不能超过法定办结时限（20 个工作日）。"
    again = runner.invoke(args=["catalogue", "import", str(path)])
    assert again.exit_code == 1 and "0 imported, 1 unchanged, 1 rejected" in again.output


def test_the_import_command_refuses_a_file_with_an_unknown_column(runner, tmp_path):
    path = write_csv(tmp_path / "odd.csv", [{H["code"]: FOOD_CHANGE, "备注": "x"}])
    done = runner.invoke(args=["catalogue", "import", str(path)])
    assert done.exit_code == 1 and "unknown column '备注' (column 2)" in done.output
