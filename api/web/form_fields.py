"""From a form's JSON Schema to HTML fields, and from a posted HTML form back to JSON.

Only the shapes our forms use are rendered (strings, enums with ``x-enumNames``,
dates, integers, booleans, lists of lines, tables of small objects, and free-form
objects — an item record, its changes — as JSON text); the server
validates the parsed data against the whole schema anyway (``engine.forms``),
so a field this module renders loosely can never let bad data through.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

SPARE_ROWS = 1


@dataclass
class Field:
    name: str
    title: str
    widget: str
    required: bool = False
    description: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    value: Any = None
    columns: list["Field"] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def fields_of(schema: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, str]) -> list[Field]:
    """The form's fields in layout order, with the values typed so far and each field's errors."""
    properties = schema.get("properties", {})
    order = schema.get("x-layout", {}).get("order") or list(properties)
    required = set(schema.get("required", []))
    return [_field(name, properties[name], name in required, values.get(name), errors)
            for name in order if name in properties]


def _field(name: str, spec: Mapping[str, Any], required: bool, value: Any, errors: Mapping[str, str]) -> Field:
    made = Field(name=name, title=spec.get("title", name), widget=_widget(spec), required=required,
                 description=spec.get("description"), value=value, error=errors.get(name),
                 errors={k: v for k, v in errors.items() if k.startswith(name + ".")})
    if "enum" in spec:
        labels = spec.get("x-enumNames") or spec["enum"]
        made.options = [(str(v), str(label)) for v, label in zip(spec["enum"], labels)]
    if made.widget == "table":
        item = spec.get("items", {})
        made.columns = [_field(sub, item["properties"][sub], sub in item.get("required", []), None, {})
                        for sub in item.get("properties", {})]
        rows = list(value) if isinstance(value, list) else []
        minimum = max(spec.get("minItems", 1), len(rows) + SPARE_ROWS)
        made.rows = rows + [{} for _ in range(minimum - len(rows))]
    if made.widget == "lines" and isinstance(value, list):
        made.value = "\n".join(str(v) for v in value)
    if made.widget == "json" and value is not None and not isinstance(value, str):
        made.value = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return made


def _widget(spec: Mapping[str, Any]) -> str:
    kind = spec.get("type")
    if "const" in spec and kind != "boolean":
        return "hidden"
    if kind == "boolean":
        return "checkbox"
    if kind == "integer" or kind == "number":
        return "number"
    if kind == "array":
        return "table" if spec.get("items", {}).get("type") == "object" else "lines"
    if kind == "object" and not spec.get("properties"):
        return "json"
    if "enum" in spec:
        return "select"
    if spec.get("format") == "date":
        return "date"
    return "textarea" if spec.get("maxLength", 0) > 300 else "text"


def parse(schema: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The posted fields as JSON typed by the schema; empty fields are left out (so 'required' speaks)."""
    data: dict[str, Any] = {}
    for name, spec in schema.get("properties", {}).items():
        value = _parse(name, spec, form)
        if value is not None:
            data[name] = value
    return data


def _parse(name: str, spec: Mapping[str, Any], form: Mapping[str, Any]) -> Any:
    widget = _widget(spec)
    if widget == "hidden":
        return spec["const"]
    if widget == "checkbox":
        return name in form
    if widget == "table":
        item = spec.get("items", {})
        rows = []
        for index in range(200):
            row = {sub: form.get(f"{name}.{index}.{sub}", "").strip() for sub in item.get("properties", {})}
            if not any(f"{name}.{index}.{sub}" in form for sub in row):
                break
            if any(row.values()):
                rows.append({k: _scalar(item["properties"][k], v) for k, v in row.items() if v})
        return rows or None
    raw = form.get(name, "")
    raw = raw.strip() if isinstance(raw, str) else raw
    if raw == "":
        return None
    if widget == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if widget == "json":
        from engine.errors import InvalidInput

        from ..request_input import parse_json

        try:  # as strictly as a REST body: a JSON text nested 100,000 deep is refused, not recursed into
            return parse_json(raw, name)
        except InvalidInput:
            return raw  # the schema says it is not an object, in the field's own words
    return _scalar(spec, raw)


def _scalar(spec: Mapping[str, Any], raw: str) -> Any:
    """Numbers become numbers when they are numbers; anything else stays text for the schema to judge."""
    if spec.get("type") == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw
