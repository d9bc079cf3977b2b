"""The fields of a catalogue item (事项) and the checks on save: what a valid item record is.

The fields are those of the national basic catalogue of government service items
(国家政务服务事项基本目录): name, basic code (基本编码) and implementation code (实施编码),
type, implementing department, legal and promised limits (working days: the engine's
only unit), materials, fees, place, hours, online handling depth, visits, channels,
whether instant (case type 1 即办件: there is no separate flag that could disagree),
whether 收件即受理, whether a site survey may be needed, the process that runs it, the
form of its application, status and effective dates.

Where each is kept: the engine filters and routes by the *columns* of
``catalogue_item`` (department, types, limits, flags, process and form, status,
basic code, effective dates); everything else is in ``details`` (JSON), checked by
the same table of fields, closed (an unknown key is refused, so a typo is not kept
silently). ``normalize`` turns an item definition into its one canonical form: codes
given as names become codes (``engine.codesets``; the item type keeps its name),
empty optional values are dropped, materials get their defaults. Saving compares
canonical forms, so the same definition written twice, from JSON or from a sheet,
is one version.

Every problem is a ``Problem`` with the field, a stable code and values for
translation, and an English sentence; warnings are problems that do not stop a save.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping

from . import codesets
from .codesets import CodeSet

MAX_DAYS = 3650
_CREDIT_CODE = re.compile(r"^[0-9A-Z]{18}$")
_ITEM_CODE = re.compile(r"^\S{1,64}$")


@dataclass(frozen=True)
class Field:
    """One field of the item record: its kind says how a value is read and checked."""

    name: str
    #: text | code | codes | int | bool | date | texts | materials
    kind: str
    column: bool = False
    required: bool = False
    codeset: CodeSet | None = None
    #: keep the code set's name rather than its code (only the item type, as since migration 0003)
    store_name: bool = False
    maximum: int = 255
    minimum: int = 0
    #: what a column holds when the definition leaves it out
    default: Any = None


def _text(name: str, maximum: int = 255, **kw: Any) -> Field:
    return Field(name, "text", maximum=maximum, **kw)


FIELDS: tuple[Field, ...] = (
    # columns: what the engine routes, filters and counts by
    _text("code", 64, column=True, required=True),
    _text("basic_code", 64, column=True),
    _text("name", column=True, required=True),
    _text("department", 50, column=True, required=True),
    Field("item_type", "code", column=True, required=True, codeset=codesets.ITEM_TYPES, store_name=True),
    Field("case_type", "code", column=True, required=True, codeset=codesets.CASE_TYPES),
    Field("legal_limit_days", "int", column=True, required=True, maximum=MAX_DAYS),
    Field("promised_limit_days", "int", column=True, required=True, maximum=MAX_DAYS),
    Field("accepted_on_receipt", "bool", column=True, default=False),
    Field("written_review_only", "bool", column=True, default=False),
    Field("site_survey", "bool", column=True, default=False),
    Field("site_survey_suspends_clock", "bool", column=True, default=False),
    Field("handling", "code", column=True, codeset=codesets.HANDLING, default="standard"),
    _text("process_key", column=True, required=True),
    _text("form_key", column=True, required=True),
    Field("status", "code", column=True, codeset=codesets.STATUSES, default="active"),
    Field("effective_from", "date", column=True),
    Field("effective_to", "date", column=True),
    # details: the rest of the national catalogue's fields
    _text("legal_basis", 2000),
    _text("acceptance_conditions", 4000),
    _text("implementing_body_credit_code", 18),
    Field("joint_departments", "texts"),
    _text("fees", 1000),
    Field("handling_forms", "codes", codeset=codesets.HANDLING_FORMS),
    _text("place", 500),
    _text("hours", 500),
    Field("online_depth", "code", codeset=codesets.ONLINE_DEPTHS),
    Field("visits", "int", maximum=10),
    Field("channels", "codes", codeset=codesets.CHANNELS),
    _text("certificate_name"),
    Field("site_survey_limit_days", "int", minimum=1, maximum=365),
    _text("site_survey_basis", 1000),
    Field("expert_review", "bool"),
    Field("bundle_items", "texts"),
    Field("materials", "materials"),
)
BY_NAME: Mapping[str, Field] = {f.name: f for f in FIELDS}
COLUMNS = tuple(f.name for f in FIELDS if f.column)
DETAILS = tuple(f.name for f in FIELDS if not f.column)
MATERIAL_KEYS = ("code", "name", "form", "copies", "mandatory", "shared")
_TRUE = {"true", "1", "yes", "y", "是", "√", "✓"}
_FALSE = {"false", "0", "no", "n", "否", "×", "x"}


@dataclass(frozen=True)
class Problem:
    """Something wrong with one field: ``code`` and ``params`` let a page or a report say it in Chinese."""

    field: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message, "params": dict(self.params)}


@dataclass(frozen=True)
class Context:
    """What the checks look up outside the record, gathered once (an import checks thousands of rows)."""

    departments: frozenset[str]
    form_exists: Callable[[str], bool]
    process_deployed: Callable[[str], bool]
    item_exists: Callable[[str], bool]


@dataclass
class Checked:
    """A definition in canonical form (``columns`` and ``details``) with what is wrong with it."""

    columns: dict[str, Any]
    details: dict[str, Any]
    problems: list[Problem]
    warnings: list[Problem]


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def check(data: Mapping[str, Any], context: Context) -> Checked:
    """Normalize an item definition ({column fields..., "details": {...}}) and list every problem at once."""
    problems: list[Problem] = []
    raw_details = data.get("details") or {}
    if not isinstance(raw_details, Mapping):
        problems.append(Problem("details", "item.details-not-object", "'details' must be an object"))
        raw_details = {}
    for key in data:
        if key != "details" and (key not in BY_NAME or not BY_NAME[key].column):
            problems.append(_unknown(key))
    for key in raw_details:
        if key not in BY_NAME or BY_NAME[key].column:
            problems.append(_unknown(f"details.{key}"))
    columns = {name: _read(BY_NAME[name], data.get(name), problems, name) for name in COLUMNS}
    details = {}
    for name in DETAILS:
        value = _read(BY_NAME[name], raw_details.get(name), problems, f"details.{name}")
        if value is not None:
            details[name] = value
    warnings: list[Problem] = []
    bad = {p.field.removeprefix("details.").split("[")[0] for p in problems}
    _cross_checks({k: (None if k in bad else v) for k, v in {**columns, **details}.items()}, context, problems,
                  warnings)
    return Checked(columns, details, problems, warnings)


def _unknown(name: str) -> Problem:
    return Problem(name, "item.unknown-field", f"'{name}' is not a field of a catalogue item", {"field": name})


def _read(spec: Field, value: Any, problems: list[Problem], where: str) -> Any:
    """The canonical value of one field, or its default; a problem is added for a bad value."""
    if is_empty(value):
        if spec.required:
            problems.append(Problem(where, "item.required", f"'{where}' is required", {"field": where}))
        return spec.default
    reader = _READERS[spec.kind]
    try:
        return reader(spec, value, where, problems)
    except _Bad as bad:
        problems.append(bad.problem)
        return spec.default


class _Bad(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _read_text(spec: Field, value: Any, where: str, problems: list[Problem]) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad(Problem(where, "item.not-text", f"'{where}' must be text, got {value!r}", {"field": where}))
    text = str(value).strip()
    if len(text) > spec.maximum:
        raise _Bad(Problem(where, "item.too-long", f"'{where}' may be at most {spec.maximum} characters, "
                           f"got {len(text)}", {"field": where, "maximum": spec.maximum, "length": len(text)}))
    if spec.name in ("code", "basic_code") and not _ITEM_CODE.match(text):
        raise _Bad(Problem(where, "item.bad-code-text", f"'{where}' may not contain spaces, got {text!r}",
                           {"field": where, "value": text}))
    if spec.name == "implementing_body_credit_code" and not _CREDIT_CODE.match(text):
        raise _Bad(Problem(where, "item.bad-credit-code", f"'{where}' must be 18 digits or capital letters "
                           f"(统一社会信用代码), got {text!r}", {"field": where, "value": text}))
    return text


def _read_code(spec: Field, value: Any, where: str, problems: list[Problem]) -> str:
    assert spec.codeset is not None
    code = spec.codeset.code_of(value)
    if code is None:
        raise _Bad(_not_in(spec.codeset, where, value))
    return spec.codeset.name(code) if spec.store_name else code


def _not_in(codeset: CodeSet, where: str, value: Any) -> Problem:
    return Problem(where, "item.not-in-code-set",
                   f"'{where}' must be one of {codeset.describe()} ({codeset.title}), got {value!r}",
                   {"field": where, "value": str(value), "allowed": codeset.describe()})


def _read_codes(spec: Field, value: Any, where: str, problems: list[Problem]) -> list[str] | None:
    assert spec.codeset is not None
    entries = _list(value, where)
    codes = []
    for entry in entries:
        code = spec.codeset.code_of(entry)
        if code is None:
            raise _Bad(_not_in(spec.codeset, where, entry))
        if code not in codes:
            codes.append(code)
    return [c for c in spec.codeset if c in codes] or None  # the set's order: one canonical form


def _read_texts(spec: Field, value: Any, where: str, problems: list[Problem]) -> list[str] | None:
    texts = []
    for entry in _list(value, where):
        text = _read_text(spec, entry, where, problems)
        if text and text not in texts:
            texts.append(text)
    return texts or None


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(Problem(where, "item.not-list", f"'{where}' must be a list, got {value!r}", {"field": where}))
    return value


def _read_int(spec: Field, value: Any, where: str, problems: list[Problem]) -> int:
    number = value
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        number = int(value)
    unit = "working days" if spec.name.endswith("_days") else "a whole number"
    if isinstance(number, bool) or not isinstance(number, int) or not spec.minimum <= number <= spec.maximum:
        raise _Bad(Problem(where, "item.bad-number", f"'{where}' must be a whole number from {spec.minimum} to "
                           f"{spec.maximum} ({unit}), got {value!r}",
                           {"field": where, "value": str(value), "minimum": spec.minimum, "maximum": spec.maximum}))
    return number


def _read_bool(spec: Field, value: Any, where: str, problems: list[Problem]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(Problem(where, "item.bad-yes-no", f"'{where}' must be yes or no (是/否), got {value!r}",
                       {"field": where, "value": str(value)}))


def _read_date(spec: Field, value: Any, where: str, problems: list[Problem]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise _Bad(Problem(where, "item.bad-date", f"'{where}' must be a date like 2026-01-01, got {value!r}",
                           {"field": where, "value": str(value)})) from None


def _read_materials(spec: Field, value: Any, where: str, problems: list[Problem]) -> list[dict[str, Any]] | None:
    entries = _list(value, where)
    materials, codes = [], set()
    for index, entry in enumerate(entries, start=1):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(Problem(at, "material.not-object", f"material {index} must be an object, got {entry!r}",
                                    {"index": index}))
            continue
        material = _material(entry, at, index, problems)
        if material is None:
            continue
        if material["code"] in codes:
            problems.append(Problem(f"{at}.code", "material.duplicate-code", f"material codes must be unique within "
                                    f"an item: '{material['code']}' is listed twice", {"code": material["code"]}))
        codes.add(material["code"])
        materials.append(material)
    return materials or None


def _material(entry: Mapping[str, Any], at: str, index: int, problems: list[Problem]) -> dict[str, Any] | None:
    before = len(problems)
    for key in entry:
        if key not in MATERIAL_KEYS:
            problems.append(Problem(f"{at}.{key}", "material.unknown-field",
                                    f"'{key}' is not a field of a material (material {index})",
                                    {"index": index, "field": key}))
    material: dict[str, Any] = {}
    for key in ("code", "name"):
        if is_empty(entry.get(key)) or not isinstance(entry.get(key), (str, int)) or isinstance(entry.get(key), bool):
            problems.append(Problem(f"{at}.{key}", "material.required",
                                    f"every material needs a 'code' and a 'name': material {index} has no '{key}'",
                                    {"index": index, "field": key}))
        else:
            material[key] = str(entry[key]).strip()
    readers = {"form": Field("form", "code", codeset=codesets.MATERIAL_FORMS),
               "copies": Field("copies", "int", minimum=1, maximum=99, default=1),
               "mandatory": Field("mandatory", "bool", default=True),
               "shared": Field("shared", "bool", default=False)}
    for key, spec in readers.items():
        value = _read(spec, entry.get(key), problems, f"{at}.{key}")
        if value is not None:
            material[key] = value
    return material if len(problems) == before else None


_READERS: dict[str, Callable[..., Any]] = {
    "text": _read_text, "code": _read_code, "codes": _read_codes, "int": _read_int, "bool": _read_bool,
    "date": _read_date, "texts": _read_texts, "materials": _read_materials,
}


def _cross_checks(values: dict[str, Any], context: Context, problems: list[Problem],
                  warnings: list[Problem]) -> None:
    """The rules between fields (rule 14, the site-survey rule 5) and what must exist elsewhere; ``values``
    are the columns and details, with None for a field that already has a problem (so it is said once)."""
    legal, promised, case_type = values["legal_limit_days"], values["promised_limit_days"], values["case_type"]
    if legal is not None and promised is not None and promised > legal:
        problems.append(Problem("promised_limit_days", "item.promised-over-legal",
                                f"the promised limit ({promised}) may not exceed the legal limit ({legal})",
                                {"promised": promised, "legal": legal}))
    if case_type == codesets.INSTANT and promised is not None and promised != 0:
        problems.append(Problem("promised_limit_days", "item.instant-not-zero",
                                f"an instant item (即办件) has promised limit 0, got {promised}", {"promised": promised}))
    elif case_type == "2" and promised == 0:
        warnings.append(Problem("promised_limit_days", "item.promised-zero",
                                "a promised item (承诺件) with promised limit 0 is decided on the spot: "
                                "should its case type be 1 (即办件)?"))
    begin, end = values["effective_from"], values["effective_to"]
    if begin is not None and end is not None and end < begin:
        problems.append(Problem("effective_to", "item.dates-reversed",
                                f"the item stops being effective ({end}) before it starts ({begin})",
                                {"start": begin.isoformat(), "end": end.isoformat()}))
    if values["site_survey_suspends_clock"] and values["site_survey"] is False:
        problems.append(Problem("site_survey_suspends_clock", "item.survey-clock-without-survey",
                                "'site_survey_suspends_clock' needs 'site_survey'"))
    if values["site_survey_suspends_clock"] and not values.get("site_survey_basis"):
        problems.append(Problem("details.site_survey_basis", "item.survey-basis-needed",
                                "an item whose site survey stops the clock names the rule that says so "
                                "('details.site_survey_basis')"))
    _existence_checks(values, context, problems, warnings)
    if values.get("online_depth") == "4" and values.get("visits"):
        warnings.append(Problem("details.visits", "item.visits-online",
                                f"an item handled fully online (全程网办) needs no visit, got {values['visits']}",
                                {"visits": values["visits"]}))
    if values["item_type"] is not None:
        _bundle_checks(values, context, problems, warnings)


def _existence_checks(values: dict[str, Any], context: Context, problems: list[Problem],
                      warnings: list[Problem]) -> None:
    if values["department"] is not None and values["department"] not in context.departments:
        problems.append(Problem("department", "item.unknown-department",
                                f"department '{values['department']}' does not exist",
                                {"department": values["department"]}))
    if values["form_key"] is not None and not context.form_exists(values["form_key"]):
        problems.append(Problem("form_key", "item.unknown-form",
                                f"there is no application form '{values['form_key']}' (forms/<key>.json)",
                                {"form": values["form_key"]}))
    if values["process_key"] is not None and not context.process_deployed(values["process_key"]):
        warnings.append(Problem("process_key", "item.process-not-deployed",
                                f"no process '{values['process_key']}' is deployed yet: the item takes no "
                                "applications until it is", {"process": values["process_key"]}))


def _bundle_checks(values: dict[str, Any], context: Context, problems: list[Problem],
                   warnings: list[Problem]) -> None:
    members = values.get("bundle_items") or []
    if values["item_type"] != codesets.BUNDLE:
        if members:
            problems.append(Problem("details.bundle_items", "item.members-outside-bundle",
                                    "only a 一件事 lists member items ('details.bundle_items')"))
        return
    if len(members) < 2:
        problems.append(Problem("details.bundle_items", "item.bundle-too-small",
                                f"a 一件事 lists at least two member items, got {len(members)}",
                                {"count": len(members)}))
    if values["code"] in members:
        problems.append(Problem("details.bundle_items", "item.bundle-contains-itself",
                                "a 一件事 cannot list itself as a member"))
    unknown = [code for code in members if code != values["code"] and not context.item_exists(code)]
    if unknown:
        warnings.append(Problem("details.bundle_items", "item.unknown-members",
                                f"member items not in the catalogue (yet): {', '.join(unknown)}",
                                {"items": ", ".join(unknown)}))
