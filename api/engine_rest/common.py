"""Request parsing helpers shared by the /engine-rest modules."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
from flask import request

from engine.errors import InvalidInput

from ..variables import parse_date


def json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object; a clear 400 for non-JSON or a non-object body."""
    if not request.data:
        if required:
            raise InvalidInput("Request body is missing; send a JSON object")
        return {}
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise InvalidInput("Request body is not valid JSON")
    if not isinstance(body, dict):
        raise InvalidInput("Request body must be a JSON object")
    return body


def param(source: Mapping[str, Any], name: str, kind: type = str, default: Any = None) -> Any:
    """One optional parameter; ``null`` counts as absent, wrong types get a 400 naming the field."""
    value = source.get(name)
    if value is None or value == "":
        return default
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise InvalidInput(f"'{name}' must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise InvalidInput(f"'{name}' must be a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"'{name}' must be a whole number, got {value!r}") from None
    if kind is datetime:
        try:
            return parse_date(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"'{name}' must be a date like 2026-01-05T09:00:00.000+0800, got {value!r}") from None
    if kind is list:
        if isinstance(value, list):
            return value
        return [part for part in str(value).split(",") if part]
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string, got {value!r}")
    return value


def paging() -> tuple[int, int | None]:
    first = param(request.args, "firstResult", int, 0)
    maximum = param(request.args, "maxResults", int, None)
    if first < 0 or (maximum is not None and maximum < 0):
        raise InvalidInput("firstResult and maxResults must not be negative")
    return first, maximum


def page(stmt: Any) -> Any:
    first, maximum = paging()
    stmt = stmt.offset(first) if first else stmt
    return stmt.limit(min(maximum, 10_000) if maximum is not None else 1_000)


def count_response(build_query: Any) -> Any:
    """Camunda's ``{"count": n}`` for a query built inside the request's transaction."""
    from flask import jsonify

    from .. import db

    session = db()
    with session.begin():
        stmt = build_query()
        return jsonify({"count": session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))})
