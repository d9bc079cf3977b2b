"""What a stored value may be: text without NUL or lone surrogates, finite numbers, bounded nesting.

Every value a command keeps ends up in a database column or in the instance's JSON state, and both
have rules a Python object does not: PostgreSQL refuses NUL in text (psycopg raises before the
statement runs), UTF-8 cannot encode a lone surrogate (``"\\ud800"`` from JSON), strict JSON has no
``NaN`` or ``Infinity`` (what this engine stores it must be able to serve), and a value nested
thousands deep makes every later recursive walk (deepcopy, jsonschema, the serializer) raise
``RecursionError``. Checked here, at the engine's own door, a bad value is a 400 that names the
field, whoever the caller is — the REST API checks the same rules earlier with its own field names.

``guard_flush`` is the last line: before any flush, every string bound for a column is checked
against the column's length, so a value too long is the same clear refusal on SQLite (which would
store it) and PostgreSQL (which would fail the statement), for columns no command checked itself.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from .errors import InvalidInput

#: deepest nesting of lists and objects kept in process data (forms nest 3–4 levels; 32 leaves room)
MAX_DEPTH = 32
#: longest text a single value may hold (1 MiB of characters; a material file is a file, not a variable)
MAX_TEXT = 1024 * 1024
#: the ``business_key`` columns (instances, tasks, clocks) are ``VARCHAR(255)``
BUSINESS_KEY_LENGTH = 255
#: the largest number an ``INTEGER`` column holds (retries, versions): PostgreSQL's int4, Java's int
INT_MAX = 2**31 - 1


def check_count(value: int | None, field: str, low: int = 0, high: int = INT_MAX) -> int | None:
    """A whole number within what it means (``low``..``high``), else InvalidInput naming ``field``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"'{field}' must be a whole number, got {value!r}", code="input.bad-number", field=field)
    if not low <= value <= high:
        raise InvalidInput(f"'{field}' must be from {low} to {high}, got {value}", code="input.out-of-range",
                           field=field, low=low, high=high, value=value)
    return value


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None: NUL first, then lone surrogates."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate (\\u{ord(value[exc.start]):04x}), which is not text"
    return None


def check_text(value: str, field: str, max_length: int | None = MAX_TEXT) -> str:
    """``value`` if it can be stored, else InvalidInput naming ``field`` and what is wrong."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"'{field}' {problem}", code="input.bad-text", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"'{field}' is {len(value)} characters long; at most {max_length} are allowed",
                           code="input.too-long", field=field, length=len(value), limit=max_length)
    return value


def check_business_key(value: str | None) -> str | None:
    """A business key (case number) fits its column and is plain text."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'businessKey' must be a string, got {value!r}", code="input.bad-type",
                           field="businessKey")
    return check_text(value, "businessKey", BUSINESS_KEY_LENGTH)


def check_data(value: Any, field: str) -> Any:
    """Process data (variables, form data) that can be stored and served as strict JSON; walks the value
    without recursion, so no input can make the check itself overflow the stack."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidInput(f"'{where}' is {item!r}: only finite numbers can be stored (JSON has no "
                                   "NaN or Infinity)", code="input.not-finite", field=where)
        elif isinstance(item, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                raise InvalidInput(f"'{field}' is nested more than {MAX_DEPTH} levels deep (at '{where}')",
                                   code="input.too-deep", field=field, limit=MAX_DEPTH)
            stack.extend(_children(item, where, depth + 1))
    return value


def _children(item: Mapping[str, Any] | list[Any] | tuple[Any, ...], where: str,
              depth: int) -> list[tuple[Any, str, int]]:
    if isinstance(item, dict):
        found = []
        for key, child in item.items():
            name = f"{where}.{key}" if isinstance(key, str) else f"{where}[{key!r}]"
            if isinstance(key, str):
                check_text(key, f"{where} (a key)", 1000)
            found.append((child, name, depth))
        return found
    return [(child, f"{where}[{index}]", depth) for index, child in enumerate(item)]


def check_variables(variables: Mapping[str, Any] | None, field: str = "variables") -> None:
    """Each variable's name and value can be stored (names are text too)."""
    for name, value in (variables or {}).items():
        check_text(str(name), f"{field} (a name)", 1000)
        check_data(value, f"{field}.{name}")


# --- the last line: columns ---------------------------------------------------------------------------

def guard_flush(session: so.Session, _context: Any, _instances: Any) -> None:
    """``before_flush``: every string about to be written fits its column and is storable text."""
    for obj in list(session.new) + list(session.dirty):
        mapper = sa.inspect(obj).mapper
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            if not isinstance(column.type, sa.String):
                continue
            value = obj.__dict__.get(attribute.key)
            if isinstance(value, str):
                length = column.type.length
                check_text(value, f"{mapper.local_table.name}.{column.name}", length if length else None)


def install(factory: so.sessionmaker[so.Session]) -> None:
    """Guard every session the factory makes."""
    sa.event.listen(factory, "before_flush", guard_flush)
