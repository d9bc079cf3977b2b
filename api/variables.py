"""Camunda 7 typed variables <-> plain Python values.

Clients send ``{"name": {"value": ..., "type": "Integer"}}``; the type may be
missing (inferred from the JSON value, as Camunda does) and ``valueInfo`` may
be present. Process data inside the engine is plain JSON-like Python.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from typing import Any, Mapping

from engine.errors import InvalidInput

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
CAMUNDA_DATE = "%Y-%m-%dT%H:%M:%S.%f%z"


def parse_variables(raw: Any, *, field: str = "variables") -> dict[str, Any]:
    """Typed variables map from a request body → plain values; names the bad variable on error."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"'{field}' must be an object mapping variable names to {{value, type}}")
    values = {}
    for name, typed in raw.items():
        if not isinstance(name, str) or not name or name.startswith("_"):
            raise InvalidInput(f"Variable name {name!r} is not allowed (empty or starting with '_')")
        if not isinstance(typed, Mapping):
            raise InvalidInput(f"Variable '{name}' must be an object like {{\"value\": ..., \"type\": ...}}")
        values[name] = parse_value(name, typed.get("value"), typed.get("type"))
    return values


def parse_value(name: str, value: Any, type_name: str | None) -> Any:
    kind = (type_name or "").lower()
    if not kind:
        return value
    try:
        converter = _PARSERS[kind]
    except KeyError:
        raise InvalidInput(
            f"Variable '{name}' has unsupported type '{type_name}'; use one of "
            "String, Integer, Long, Short, Double, Boolean, Json, Object, Date, Null") from None
    if value is None:
        return None
    try:
        return converter(value)
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise InvalidInput(f"Cannot convert value {shown} of variable '{name}' to type '{type_name}': {exc}") from None


def _as_int(low: int, high: int):
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError("a boolean is not a number")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError("not a whole number")
            value = int(value)
        number = int(value)
        if not low <= number <= high:
            raise OverflowError(f"out of range {low}..{high}")
        return number
    return convert


def _as_double(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, str) and len(value) > 100:
        raise ValueError("too long for a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("only finite numbers can be stored (JSON has no NaN or Infinity)")
    return number


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError("expected true or false")


def _as_string(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise TypeError("an object is not a string")
    return str(value)


def _as_json(value: Any) -> Any:
    """A Json variable sent as text is parsed as strictly as a request body."""
    if not isinstance(value, str):
        return value
    from .request_input import parse_json

    try:
        return parse_json(value, "value")
    except InvalidInput as refused:
        raise ValueError(refused.message) from None


def parse_date(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("a date must be a string")
    text = value.strip()
    for fmt in (CAMUNDA_DATE, "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt).astimezone(timezone.utc)
        except ValueError:
            pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


_PARSERS = {
    "string": _as_string, "integer": _as_int(INT_MIN, INT_MAX), "short": _as_int(-32768, 32767),
    "long": _as_int(LONG_MIN, LONG_MAX), "double": _as_double, "boolean": _as_bool,
    "json": _as_json, "object": _as_json, "date": parse_date, "null": lambda v: None,
}


def typed(value: Any) -> dict[str, Any]:
    """A plain value → Camunda's typed form, the way Camunda would report it."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        kind = "Integer" if INT_MIN <= value <= INT_MAX else "Long"
        return {"type": kind, "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    if isinstance(value, datetime):
        return {"type": "Date", "value": format_date(value), "valueInfo": {}}
    if isinstance(value, date):
        return {"type": "String", "value": value.isoformat(), "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, ensure_ascii=False, default=str), "valueInfo": {}}


def typed_map(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: typed(value) for name, value in values.items()}


def format_date(moment: datetime | None) -> str | None:
    """Camunda's date format: 2026-01-05T09:00:00.000+0000."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")
