"""Request parsing shared by the /engine-rest modules: the JSON body and each parameter, typed and bounded.

Bodies are parsed by ``api.request_input`` (strict JSON); this module types each field and bounds it by what
it means — page offsets and sizes as Camunda's ints, durations by the engine's limits, text by its
column — so a number or a string that cannot be honoured is a 400 naming it, never a database error.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
from flask import request

from engine.errors import InvalidInput
from engine.values import check_text

from ..request_input import parse_json
from ..variables import LONG_MAX, LONG_MIN, parse_date


#: Camunda's firstResult and maxResults are Java ints; an offset past any table is still a number the
#: database must take (an offset beyond bigint fails the statement)
INT_MAX = 2**31 - 1
#: what a page of a list holds when maxResults does not say, and at most
DEFAULT_PAGE, MAX_PAGE = 1_000, 10_000
#: the longest text parameter (error details with a stack trace are the longest honest ones)
MAX_TEXT_PARAM = 100_000
#: the longest whole number a parameter may spell (int() of a long enough string takes seconds)
_MAX_DIGITS = 30


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object, parsed strictly (``api.request_input.parse_json``: depth, NUL, lone
    surrogates, NaN and Infinity refused with the field named); a clear 400 for a non-object body."""
    data = request.get_data(cache=True)
    if not data:
        if required:
            raise InvalidInput("Request body is missing; send a JSON object")
        return {}
    body = parse_json(data)
    if not isinstance(body, dict):
        raise InvalidInput("Request body must be a JSON object")
    return body


def param(source: Mapping[str, Any], name: str, kind: type = str, default: Any = None, *,
          low: int | None = None, high: int | None = None, max_length: int = MAX_TEXT_PARAM) -> Any:
    """One optional parameter; ``null`` counts as absent, wrong types get a 400 naming the field.

    Whole numbers are bounded by what they mean (``low``..``high``; without them by a 64-bit column),
    text by ``max_length``; any text is storable (no NUL, no lone surrogate: ``engine.values``)."""
    value = source.get(name)
    if value is None or value == "":
        return default
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise InvalidInput(f"'{name}' must be true or false, got {_shown(value)}")
    if kind is int:
        return whole_number(value, name, LONG_MIN if low is None else low, LONG_MAX if high is None else high)
    if kind is datetime:
        try:
            return parse_date(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput(f"'{name}' must be a date like 2026-01-05T09:00:00.000+0800, "
                               f"got {_shown(value)}") from None
    if kind is list:
        items = value if isinstance(value, list) else [part for part in str(value).split(",") if part]
        for index, item in enumerate(items):
            if isinstance(item, str):
                check_text(item, f"{name}[{index}]", max_length)
        return items
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string, got {_shown(value)}")
    return check_text(value, name, max_length)


def whole_number(value: Any, name: str, low: int, high: int) -> int:
    """A whole number within ``low``..``high``: an int, an integral float, or digits; nothing else."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value.strip()) <= _MAX_DIGITS:
        try:
            number = int(value.strip())
        except ValueError:
            number = None
    if number is None:
        raise InvalidInput(f"'{name}' must be a whole number, got {_shown(value)}", code="input.bad-number",
                           field=name)
    if not low <= number <= high:
        raise InvalidInput(f"'{name}' must be from {low} to {high}, got {_shown(number)}", code="input.out-of-range",
                           field=name, low=low, high=high, value=_shown(number))
    return number


def _shown(value: Any) -> str:
    """A value as a message repeats it: short, whatever was sent."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def paging() -> tuple[int, int | None]:
    """Camunda's firstResult and maxResults, each from 0 to a Java int (its REST API's own type)."""
    first = param(request.args, "firstResult", int, 0, low=0, high=INT_MAX)
    maximum = param(request.args, "maxResults", int, None, low=0, high=INT_MAX)
    return first, maximum


def page(stmt: Any) -> Any:
    first, maximum = paging()
    stmt = stmt.offset(first) if first else stmt
    return stmt.limit(min(maximum, MAX_PAGE) if maximum is not None else DEFAULT_PAGE)


def count_response(build_query: Any) -> Any:
    """Camunda's ``{"count": n}`` for a query built inside the request's transaction."""
    from flask import jsonify

    from .. import db

    session = db()
    with session.begin():
        stmt = build_query()
        return jsonify({"count": session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))})
