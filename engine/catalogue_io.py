"""The item catalogue as a sheet: export to and import from CSV and Excel (.xlsx).

The people who fill the sheet are clerks, so the headers are Chinese (``HEADERS``: a
stable mapping to the item's fields; an import also takes the English field names) and
coded values are written as their names (即办件, 全程网办; an import takes the name or the
code, ``engine.codesets``). Departments are written by name and read by name or code;
yes/no as 是/否; lists joined with "；"; dates as 2026-01-01; limits in working days.

One row per item. Its materials: in .xlsx a second sheet 申请材料 (one row per material,
keyed by 实施编码); in CSV a JSON cell 申请材料 (a list of {code, name, form, copies,
mandatory, shared}). A CSV is written UTF-8 with a BOM so Excel opens the Chinese right;
one saved back from Excel in GB18030 is read too.

Import semantics (``iter_import``):
- a row changes only the fields whose columns the file has: a missing column keeps the
  item's current value (a sheet of 实施编码 and 承诺办结时限 changes limits only), an empty
  cell in a present column clears the field; a workbook with a 申请材料 sheet sets the
  materials of every item on its first sheet (none listed: none);
- each row is checked and saved like ``catalogue.put_item`` — a version only when something
  changed, so importing the same file again writes nothing;
- each row is saved in its own savepoint: a bad row is reported (row, item code, field and
  column, reason with code and values) and rolled back, the good rows are kept. The whole
  file is one transaction, the caller's: good rows commit together at its end, and an
  interrupted import leaves the catalogue as it was;
- problems with the file itself (unreadable, unknown or repeated headers, no 实施编码
  column) refuse it before any row: ``InvalidInput`` with code ``catalogue.bad-file``;
- informational columns of an export (版本, 当前版本, 保存时间, 保存人) are ignored, and a file
  lists each item once (an export of every version is a history record, not an import).
"""
from __future__ import annotations

import csv
import difflib
import io
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, catalogue
from .catalogue_fields import BY_NAME, MATERIAL_KEYS, Problem, is_empty
from .codesets import MATERIAL_FORMS
from .errors import EngineError, InvalidInput
from .models import CatalogueItem, Department

FORMATS = ("csv", "xlsx")
ITEMS_SHEET, MATERIALS_SHEET = "事项", "申请材料"
LIST_SEPARATOR = "；"
YES, NO = "是", "否"

#: field → the sheet's header, in the sheet's column order (stable: files in the wild carry them)
HEADERS: Mapping[str, str] = {
    "code": "实施编码", "basic_code": "基本编码", "name": "事项名称", "item_type": "事项类型",
    "department": "实施部门", "case_type": "办件类型",
    "legal_limit_days": "法定办结时限（工作日）", "promised_limit_days": "承诺办结时限（工作日）",
    "accepted_on_receipt": "是否收件即受理", "written_review_only": "是否仅书面审查",
    "site_survey": "是否可能现场踏勘", "site_survey_suspends_clock": "现场踏勘是否暂停计时",
    "site_survey_basis": "现场踏勘暂停计时依据", "site_survey_limit_days": "现场踏勘时限（工作日）",
    "expert_review": "是否专家评审", "handling": "办件方式", "joint_departments": "联办机构",
    "bundle_items": "一件事包含事项", "process_key": "办理流程", "form_key": "申请表单", "status": "事项状态",
    "effective_from": "生效日期", "effective_to": "失效日期", "legal_basis": "设定依据",
    "acceptance_conditions": "受理条件", "implementing_body_credit_code": "实施主体统一社会信用代码",
    "fees": "收费情况", "handling_forms": "办理形式", "place": "办理地点", "hours": "办理时间",
    "online_depth": "网上办理深度", "visits": "到办事现场次数", "channels": "办理渠道",
    "certificate_name": "办理结果名称", "materials": "申请材料",
}
MATERIAL_HEADERS: Mapping[str, str] = {
    "item": "实施编码", "code": "材料编码", "name": "材料名称", "form": "材料形式", "copies": "份数",
    "mandatory": "是否必要", "shared": "是否可共享获取",
}
#: written by an export, ignored by an import
INFORMATIONAL: Mapping[str, str] = {"version": "版本", "current": "当前版本", "created_at": "保存时间",
                                    "created_by": "保存人"}
assert set(HEADERS) == set(BY_NAME), "every field of an item has a column"


@dataclass(frozen=True)
class RowProblem:
    """One reason a row was refused (or a warning): where in the sheet, which field, and why."""

    column: str
    field: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowResult:
    """What became of one row: ``imported`` (a new version), ``unchanged`` or ``rejected``."""

    sheet: str
    row: int
    code: str | None
    status: str
    version: int | None = None
    problems: tuple[RowProblem, ...] = ()
    warnings: tuple[RowProblem, ...] = ()


@dataclass
class Sheet:
    """A file read into rows of raw cells by field; nothing checked yet but the headers."""

    fields: list[str]
    #: (row number as the spreadsheet shows it, {field: cell})
    rows: list[tuple[int, dict[str, Any]]]
    #: item code → [(row number, {material key: cell})] when the file carries a 申请材料 sheet
    materials: dict[str, list[tuple[int, dict[str, Any]]]] | None = None


@dataclass
class ImportReport:
    results: list[RowResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def rejected(self) -> list[RowResult]:
        return [r for r in self.results if r.status == "rejected"]


# --- export ------------------------------------------------------------------------------------------

def export_file(session: so.Session, path: Path, fmt: str | None = None, *, all_versions: bool = False) -> int:
    """Write the current catalogue (or every version kept) to a CSV or .xlsx file; the number of rows."""
    fmt = file_format(path, fmt)
    rows = catalogue.versions(session) if all_versions else catalogue.items(session)
    departments = {code: name for code, name in session.execute(sa.select(Department.code, Department.name))}
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            write_csv(rows, stream, departments, all_versions=all_versions)
    else:
        write_xlsx(rows, path, departments, all_versions=all_versions)
    return len(rows)


def file_format(path: Path, fmt: str | None = None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise InvalidInput(f"{path.name}: say which format, csv or xlsx (the name ends in neither)",
                           code="catalogue.unknown-format", file=path.name)
    return chosen


def _export_fields(csv_cells: bool) -> list[str]:
    return [name for name in HEADERS if csv_cells or name != "materials"]


def _info(item: CatalogueItem, all_versions: bool) -> list[Any]:
    cells: list[Any] = [item.version]
    if all_versions:
        cells.append(YES if item.current else NO)
    return cells + [item.created_at.isoformat(timespec="seconds"), item.created_by or ""]


def _info_headers(all_versions: bool) -> list[str]:
    return [INFORMATIONAL[k] for k in INFORMATIONAL if all_versions or k != "current"]


def write_csv(items: Iterable[CatalogueItem], stream: io.TextIOBase, departments: Mapping[str, str], *,
              all_versions: bool = False) -> None:
    names = _export_fields(csv_cells=True)
    writer = csv.writer(stream)
    writer.writerow([HEADERS[n] for n in names] + _info_headers(all_versions))
    for item in items:
        data = catalogue.record(item)
        writer.writerow([_shown(n, _value(data, n), departments, text=True) for n in names]
                        + _info(item, all_versions))


def write_xlsx(items: Iterable[CatalogueItem], path: Path, departments: Mapping[str, str], *,
               all_versions: bool = False) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = ITEMS_SHEET
    names = _export_fields(csv_cells=False)
    sheet.append([HEADERS[n] for n in names] + _info_headers(all_versions))
    material_sheet = book.create_sheet(MATERIALS_SHEET)
    material_sheet.append(list(MATERIAL_HEADERS.values()) + ([INFORMATIONAL["version"]] if all_versions else []))
    for item in items:
        data = catalogue.record(item)
        sheet.append([_shown(n, _value(data, n), departments, text=False) for n in names]
                     + _info(item, all_versions))
        for material in data["details"].get("materials", []):
            material_sheet.append([item.code] + [_material_cell(k, material.get(k)) for k in MATERIAL_KEYS]
                                  + ([item.version] if all_versions else []))
    for ws, count in ((sheet, len(names)), (material_sheet, len(MATERIAL_HEADERS))):
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for column in range(1, count + 1):
            ws.column_dimensions[ws.cell(1, column).column_letter].width = 18
    _choices(sheet, names)
    book.save(path)


def _choices(sheet: Any, names: list[str]) -> None:
    """Drop-down lists of the code sets' names (a warning, not a refusal, for anything else: codes are fine)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    for index, name in enumerate(names, start=1):
        spec = BY_NAME[name]
        options = spec.codeset.names() if spec.kind == "code" and spec.codeset else (
            [YES, NO] if spec.kind == "bool" else None)
        if not options:
            continue
        letter = sheet.cell(1, index).column_letter
        rule = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True,
                              showErrorMessage=True, errorStyle="warning")
        rule.add(f"{letter}2:{letter}1048576")
        sheet.add_data_validation(rule)


def _value(data: dict[str, Any], name: str) -> Any:
    return data[name] if BY_NAME[name].column else data["details"].get(name)


def _shown(name: str, value: Any, departments: Mapping[str, str], *, text: bool) -> Any:
    """A stored value as the sheet shows it."""
    spec = BY_NAME[name]
    if value is None:
        return ""
    if name == "department":
        return departments.get(value, value)
    if spec.kind == "code":
        return spec.codeset.name(spec.codeset.code_of(value) or value)
    if spec.kind == "codes":
        return LIST_SEPARATOR.join(spec.codeset.name(c) for c in value)
    if spec.kind == "texts":
        return LIST_SEPARATOR.join(value)
    if spec.kind == "bool":
        return YES if value else NO
    if spec.kind == "materials":
        shown = [{**m, **({"form": MATERIAL_FORMS.name(m["form"])} if "form" in m else {})} for m in value]
        return json.dumps(shown, ensure_ascii=False)
    if spec.kind == "date":
        return value.isoformat() if text else value
    return str(value) if text else value


def _material_cell(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key == "form":
        return MATERIAL_FORMS.name(value)
    if isinstance(value, bool):
        return YES if value else NO
    return value


# --- reading a file ----------------------------------------------------------------------------------

def read_file(path: Path, fmt: str | None = None) -> Sheet:
    """The file's rows by field; a file that cannot be read as a catalogue sheet is refused as a whole."""
    fmt = file_format(path, fmt)
    try:
        tables = _read_csv(path) if fmt == "csv" else _read_xlsx(path)
    except (OSError, ValueError, KeyError) as exc:  # openpyxl raises these for a file that is not a workbook
        raise InvalidInput(f"{path.name}: cannot read the file as {fmt}: {exc}", code="catalogue.unreadable",
                           file=path.name) from None
    items, materials = tables
    problems: list[str] = []
    fields = _map_headers(items[0] if items else [], HEADERS, ITEMS_SHEET, problems)
    if "code" not in fields:
        problems.append(f"sheet {ITEMS_SHEET}: no column {HEADERS['code']} (the implementation code of each item)")
    if "materials" in fields and materials is not None:
        problems.append(f"the materials are both in the column {HEADERS['materials']} and in the sheet "
                        f"{MATERIALS_SHEET}: keep one")
    material_fields = _map_headers(materials[0], MATERIAL_HEADERS, MATERIALS_SHEET, problems) if materials else None
    if material_fields is not None and "item" not in material_fields:
        problems.append(f"sheet {MATERIALS_SHEET}: no column {MATERIAL_HEADERS['item']}")
    if problems:
        raise InvalidInput(f"{path.name} is not a catalogue sheet: " + "; ".join(problems),
                           code="catalogue.bad-file", file=path.name, problems=problems)
    sheet = Sheet([f for f in fields if f], _rows(items, fields))
    if material_fields is not None:
        sheet.materials = {}
        for number, cells in _rows(materials, material_fields):
            sheet.materials.setdefault(_text(cells.get("item")), []).append((number, cells))
    return sheet


def _read_csv(path: Path) -> tuple[list[list[Any]], None]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # saved back from Excel on a Chinese Windows
        text = raw.decode("gb18030")
    return list(csv.reader(io.StringIO(text, newline=""))), None


def _read_xlsx(path: Path) -> tuple[list[list[Any]], list[list[Any]] | None]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        first = book[ITEMS_SHEET] if ITEMS_SHEET in book.sheetnames else book.worksheets[0]
        items = [list(r) for r in first.iter_rows(values_only=True)]
        materials = None
        if MATERIALS_SHEET in book.sheetnames:
            materials = [list(r) for r in book[MATERIALS_SHEET].iter_rows(values_only=True)]
        return items, materials
    finally:
        book.close()


def _key(header: Any) -> str:
    """Headers compare without spaces and full-width forms: （工作日） and (工作日) are one header."""
    return "".join(unicodedata.normalize("NFKC", str(header or "")).split()).lower()


def _map_headers(headers: list[Any], known: Mapping[str, str], sheet: str, problems: list[str]) -> list[str | None]:
    lookup = {_key(h): f for f, h in known.items()} | {_key(f): f for f in known}
    ignored = {_key(h) for h in INFORMATIONAL.values()}
    fields: list[str | None] = []
    for index, header in enumerate(headers, start=1):
        key = _key(header)
        name = lookup.get(key)
        if not key or key in ignored:
            fields.append(None)
            continue
        if name is None:
            close = difflib.get_close_matches(str(header).strip(), list(known.values()), n=1, cutoff=0.5)
            problems.append(f"sheet {sheet}: unknown column {str(header).strip()!r} (column {index})"
                            + (f"; did you mean {close[0]!r}?" if close else ""))
        elif name in fields:
            problems.append(f"sheet {sheet}: the column {known[name]!r} appears twice")
        fields.append(name)
    return fields


def _rows(table: list[list[Any]], fields: list[str | None]) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        values = {f: _cell(v) for f, v in zip(fields, cells) if f}
        if any(not is_empty(v) for v in values.values()):  # blank rows (Excel keeps some) are not rows
            rows.append((number, values))
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Excel keeps every number as a float
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# --- import ------------------------------------------------------------------------------------------

def import_file(session: so.Session, path: Path, actor: str | None, fmt: str | None = None) -> ImportReport:
    """Read and import a whole file (``iter_import`` for a progress bar)."""
    report = ImportReport()
    report.results.extend(iter_import(session, read_file(path, fmt), actor, source=path.name))
    return report


def iter_import(session: so.Session, sheet: Sheet, actor: str | None, source: str = "") -> Iterator[RowResult]:
    """Import the rows one by one, yielding each row's result as it is done (see the module's notes)."""
    context = catalogue.check_context(session)
    departments = {name: code for code, name in session.execute(sa.select(Department.code, Department.name))}
    seen: dict[str, int] = {}
    counts = {"imported": 0, "unchanged": 0, "rejected": 0}
    current = catalogue.current_versions(session, sorted({_text(c.get("code")) for _, c in sheet.rows} - {""}))
    for number, cells in sheet.rows:
        result = _import_row(session, sheet, number, cells, seen, current, departments, context, actor)
        counts[result.status] += 1
        yield result
    for code, rows in (sheet.materials or {}).items():
        if code not in seen:
            for number, _cells in rows:
                counts["rejected"] += 1
                yield RowResult(MATERIALS_SHEET, number, code or None, "rejected", problems=(RowProblem(
                    f"{MATERIALS_SHEET}!{MATERIAL_HEADERS['item']}", "materials", "catalogue.material-without-item",
                    f"no row of the sheet {ITEMS_SHEET} has the item code {code!r}", {"item": code}),))
    audit.record(session, "catalogue-imported", actor=actor, entity_id=source or None, details=counts)


def _import_row(session: so.Session, sheet: Sheet, number: int, cells: dict[str, Any], seen: dict[str, int],
                versions: dict[str, CatalogueItem], departments: dict[str, str], context: Any,
                actor: str | None) -> RowResult:
    code = _text(cells.get("code"))
    if not code:
        return _rejected(number, None, [Problem("code", "item.required", "'code' is required", {"field": "code"})])
    if code in seen:
        return _rejected(number, code, [Problem("code", "catalogue.repeated-item",
                                                f"the item {code} is already on row {seen[code]}",
                                                {"item": code, "row": seen[code]})])
    seen[code] = number
    current = versions.get(code)
    data = catalogue.record(current) if current is not None else {"code": code, "details": {}}
    material_rows, unreadable = None, []
    for name, value in cells.items():
        value = _from_cell(name, value, departments)
        if isinstance(value, _Unreadable):
            unreadable.append(Problem(name, "catalogue.unreadable-cell", f"'{name}' cannot be read: {value}",
                                      {"field": name, "reason": str(value)}))
            continue
        _put(data, name, value)
    if sheet.materials is not None:
        material_rows = [n for n, _ in sheet.materials.get(code, [])]
        _put(data, "materials", [_material_from_cells(c) for _, c in sheet.materials.get(code, [])])
    checked = catalogue.check_item(session, data, context)
    if checked.problems or unreadable:
        return _rejected(number, code, unreadable + checked.problems, checked.warnings, material_rows)
    warnings = tuple(_located(p, material_rows) for p in checked.warnings)
    if current is not None and not catalogue.differences(current, checked):  # no savepoint for nothing to do
        return RowResult(ITEMS_SHEET, number, code, "unchanged", current.version, warnings=warnings)
    try:
        with session.begin_nested():
            saved = catalogue.put_checked(session, checked, actor, previous=current)
    except (EngineError, sa.exc.SQLAlchemyError) as exc:
        return _rejected(number, code, [Problem("code", getattr(exc, "code", None) or "catalogue.not-saved",
                                                f"the row could not be saved: {exc}")])
    return RowResult(ITEMS_SHEET, number, code, "imported" if saved.written else "unchanged", saved.item.version,
                     warnings=warnings)


def _put(data: dict[str, Any], name: str, value: Any) -> None:
    if BY_NAME[name].column:
        data[name] = value
    elif is_empty(value):
        data["details"].pop(name, None)
    else:
        data["details"][name] = value


def _from_cell(name: str, value: Any, departments: Mapping[str, str]) -> Any:
    """A cell as the item definition's value (the checks read codes, names, 是/否 and numbers as text)."""
    spec = BY_NAME[name]
    if is_empty(value):
        return None
    if name == "department":
        text = _text(value)
        return departments.get(text, text)
    if spec.kind in ("codes", "texts"):
        parts = str(value).replace(";", LIST_SEPARATOR).replace("\n", LIST_SEPARATOR).split(LIST_SEPARATOR)
        return [p.strip() for p in parts if p.strip()]
    if spec.kind == "materials":
        try:
            return json.loads(value) if isinstance(value, str) else value
        except ValueError as exc:
            return _Unreadable(f"not JSON ({exc.msg} at character {exc.pos})")
    if spec.kind == "text" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class _Unreadable(str):
    """A cell that could not be read: the checks refuse it with the reason in its text."""


def _material_from_cells(cells: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k in ("code", "name") and isinstance(v, (int, float)) else v)
            for k, v in cells.items() if k != "item" and not is_empty(v)}


def _rejected(number: int, code: str | None, problems: Iterable[Problem], warnings: Iterable[Problem] = (),
              material_rows: list[int] | None = None) -> RowResult:
    return RowResult(ITEMS_SHEET, number, code, "rejected",
                     problems=tuple(_located(p, material_rows) for p in problems),
                     warnings=tuple(_located(p, material_rows) for p in warnings))


def _located(problem: Problem, material_rows: list[int] | None) -> RowProblem:
    """Where a problem is in the sheet: the column's header, or the 申请材料 sheet's row and column."""
    name = problem.field.removeprefix("details.")
    column = HEADERS.get(name.split("[")[0], name)
    if name.startswith("materials[") and material_rows is not None:
        index = int(name[len("materials["):name.index("]")])
        key = name.split("].", 1)[1] if "]." in name else ""
        row = material_rows[index - 1] if index <= len(material_rows) else "?"
        column = f"{MATERIALS_SHEET}!{row}" + (f" {MATERIAL_HEADERS.get(key, key)}" if key else "")
    return RowProblem(column, problem.field, problem.code, problem.message, dict(problem.params))


def report_rows(report: ImportReport) -> Iterator[dict[str, Any]]:
    """One line per problem or warning (one per row without any), for a report file."""
    for result in report.results:
        notes = [("problem", p) for p in result.problems] + [("warning", w) for w in result.warnings]
        base = {"sheet": result.sheet, "row": result.row, "code": result.code or "", "status": result.status,
                "version": result.version or ""}
        if not notes:
            yield {**base, "kind": "", "column": "", "field": "", "reason_code": "", "message": "", "params": ""}
        for kind, note in notes:
            yield {**base, "kind": kind, "column": note.column, "field": note.field, "reason_code": note.code,
                   "message": note.message, "params": json.dumps(dict(note.params), ensure_ascii=False,
                                                                  default=str)}
