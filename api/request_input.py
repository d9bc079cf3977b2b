"""What a request sends — its path, query, form fields and JSON body — checked in one place, and the
JSON the app sends back kept strict.

Python's ``json`` takes things no caller should get stored: ``NaN`` and ``Infinity`` (not JSON),
``1e400`` (which becomes ``inf``), lone surrogates (``"\\ud800"``, not text: every UTF-8 encoder after
it fails), NUL characters (PostgreSQL refuses them in text), and nesting a hundred thousand levels
deep (``RecursionError`` in the parser, or in whatever walks the value later). Each of these used to
reach a database driver or a serializer and come back as a 500; here each is a 400 that says which
field is wrong and why, before any handler runs. Path values and query or form fields get the same
text checks (``app.url_value_preprocessor`` and ``app.before_request``), so pages and the REST API
refuse them alike — pages in the clerk's language, through the refusal's ``code``.

Out: ``StrictJSONProvider`` writes ``allow_nan=False`` JSON; a non-finite number that slipped into
stored data (before these checks existed) goes out as ``null`` rather than as invalid JSON.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider

from engine.errors import InvalidInput
from engine.values import MAX_DEPTH, text_problem

#: a body is the request's own object around process data: variables nest in {"variables": {"x": {"value": …}}}
MAX_BODY_DEPTH = MAX_DEPTH + 8
#: the longest path value (ids, keys, case numbers and file names are far shorter)
MAX_PATH_VALUE = 1000
#: the longest query or form field name
MAX_FIELD_NAME = 200


def parse_json(data: bytes | str, where: str = "body") -> Any:
    """A request body as JSON, strictly: a clear InvalidInput for anything ``json`` would let through
    that cannot be stored or served back as JSON."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Request body is not UTF-8 text (byte {exc.start})", code="input.not-utf8") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput(f"Request body is nested too deeply; at most {MAX_BODY_DEPTH} levels are allowed",
                           code="input.too-deep", field=where, limit=MAX_BODY_DEPTH) from None
    except ValueError as exc:
        raise InvalidInput(f"Request body is not valid JSON: {exc}", code="input.not-json") from None
    check_json(value, where)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


def check_json(value: Any, where: str = "body") -> Any:
    """Every string (keys too) is storable text, every number finite, the nesting bounded — walked
    without recursion, naming the first bad place the way a client wrote it (``variables.amount.value``)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, path or where)
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidInput(f"'{path or where}' is a number too large to be one ({item!r}); JSON numbers must "
                               "be finite", code="input.not-finite", field=path or where)
        elif isinstance(item, (dict, list)):
            if depth >= MAX_BODY_DEPTH:
                raise InvalidInput(f"Request body is nested too deeply at '{path}'; at most {MAX_BODY_DEPTH} "
                                   "levels are allowed", code="input.too-deep", field=path, limit=MAX_BODY_DEPTH)
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, f"{path or where} (a key)")
                    stack.append((child, f"{path}.{key}" if path else key, depth + 1))
            else:
                stack.extend((child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item))
    return value


def _check_text(value: str, field: str) -> None:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"'{field}' {problem}", code="input.bad-text", field=field)


# --- path, query and form ---------------------------------------------------------------------------

def check_path(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Path values name things: no control characters at all, and no absurd lengths."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise InvalidInput(f"Path parameter '{name}' is {len(str(value))} digits long; no id or year is",
                               code="input.bad-path", field=name)
        if not isinstance(value, str):
            continue
        if any(ord(c) < 32 or ord(c) == 127 for c in value) or text_problem(value):
            raise InvalidInput(f"Path parameter '{name}' contains a control character; no id or key has one",
                               code="input.bad-path", field=name)
        if len(value) > MAX_PATH_VALUE:
            raise InvalidInput(f"Path parameter '{name}' is {len(value)} characters long; no id or key is longer "
                               f"than {MAX_PATH_VALUE}", code="input.bad-path", field=name)


def check_fields() -> None:
    """Query and form fields are text a database can take (a NUL fails every PostgreSQL statement)."""
    sources = [("query parameter", request.args)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form field", request.form))
    for kind, fields in sources:
        for name, value in fields.items(multi=True):
            if len(name) > MAX_FIELD_NAME or text_problem(name):
                raise InvalidInput(f"A {kind} name is not a name ({len(name)} characters, or a control character)",
                                   code="input.bad-text", field=name[:MAX_FIELD_NAME])
            _check_text(value, name)


# --- out --------------------------------------------------------------------------------------------

class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON both ways, strict: bodies are parsed by ``parse_json`` (so ``request.get_json()``
    refuses what ``json_body`` refuses) and answers never contain NaN or Infinity."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:  # a non-finite float in data stored before values were checked
            return super().dumps(_finite(obj), **kwargs)


def _finite(value: Any) -> Any:
    """A copy with non-finite floats as None (only on the rare path where one was found)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def init_app(app: Flask) -> None:
    app.json = StrictJSONProvider(app)
    app.json.ensure_ascii = False
    app.url_value_preprocessor(check_path)
    app.before_request(check_fields)
