"""Forms: one JSON Schema per form key in ``forms/``, enforced on the server.

Whatever a client sends when it completes a user task or starts a case is
validated against the form's schema (draft 2020-12, with formats checked);
nothing is trusted because a page showed a required marker. Errors come back
per field, in the language of ``forms/messages/<locale>.json`` (zh-CN), with
the field's own title, so a clerk reads "「申请人姓名」为必填项" next to the
field rather than a JSON pointer.

A schema may carry ``x-layout`` (field order, groups, read-only fields,
widgets) for the pages that render it; validation ignores it. Two keywords
of ours: ``x-uniqueBy`` (array items must differ in that property — two
inspectors are two people) and ``x-messages`` (a field's own message per
keyword).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from .errors import InvalidInput, NotFound

LOCALE = "zh-CN"


class FormInvalid(InvalidInput):
    """A submission breaks its form's schema; ``fields`` maps each field path to its message."""

    def __init__(self, form_key: str, fields: dict[str, str]) -> None:
        listing = "; ".join(f"{name}: {text}" for name, text in fields.items())
        super().__init__(f"Form '{form_key}' is not valid — {listing}")
        self.form_key = form_key
        self.fields = fields


@dataclass
class Form:
    key: str
    schema: dict[str, Any]
    validator: Any

    @property
    def title(self) -> str:
        return self.schema.get("title", self.key)



@dataclass
class FormRegistry:
    """The forms of one directory, re-read when a file changes (designers edit them while the app runs)."""

    directory: Path
    _forms: dict[str, tuple[float, Form]] = field(default_factory=dict)
    _messages: dict[str, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def has(self, key: str) -> bool:
        return _safe_key(key) and (self.directory / f"{key}.json").is_file()

    def get(self, key: str) -> Form:
        if not self.has(key):
            raise NotFound(f"No form '{key}' in {self.directory}")
        path = self.directory / f"{key}.json"
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._forms.get(key)
            if cached is None or cached[0] != mtime:
                cached = (mtime, load_form(path))
                self._forms[key] = cached
            return cached[1]

    def messages(self) -> dict[str, str]:
        if self._messages is None:
            path = self.directory / "messages" / f"{LOCALE}.json"
            self._messages = json.loads(path.read_text(encoding="utf-8"))
        return self._messages

    def validate(self, key: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` if it satisfies the form, else ``FormInvalid`` listing every field at fault."""
        form = self.get(key)
        fields: dict[str, str] = {}
        for error in sorted(form.validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
            for name, text in _describe(error, form.schema, self.messages()):
                fields.setdefault(name, text)
        if fields:
            raise FormInvalid(key, fields)
        return data


def _safe_key(key: str) -> bool:
    return bool(key) and "/" not in key and "\\" not in key and not key.startswith(".")


def _unique_by(validator: Any, key: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        if isinstance(item, dict) and isinstance(item.get(key), (str, int)):
            if item[key] in seen:
                yield ValidationError(f"items repeat {key} {item[key]!r}")
                return
            seen.add(item[key])


FormValidator = validators.extend(Draft202012Validator, {"x-uniqueBy": _unique_by})


def load_form(path: Path) -> Form:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInput(f"{path.name}: not valid JSON: {exc}") from None
    try:
        FormValidator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidInput(f"{path.name} is not a valid JSON Schema: {exc.message} at "
                           f"{'/'.join(str(p) for p in exc.absolute_path) or 'the top'}") from None
    return Form(path.stem, schema, FormValidator(schema, format_checker=FormatChecker()))


# --- error messages ---------------------------------------------------------------

def _describe(error: ValidationError, schema: dict[str, Any], messages: dict[str, str]) -> Iterator[tuple[str, str]]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        for name in error.validator_value:
            if isinstance(error.instance, dict) and name not in error.instance:
                target = path + [name]
                yield ".".join(target), _message(messages, "required", _title(schema, target), error)
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        for name in error.instance:
            if name not in allowed:
                yield ".".join(path + [name]), _message(messages, "additionalProperties", name, error)
        return
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        yield from _describe(best, schema, messages)
        return
    yield ".".join(path) or "$", _message(messages, str(error.validator), _title(schema, path), error)


def _title(schema: dict[str, Any], path: list[str]) -> str:
    """The field's ``title`` from the schema, following properties and array items."""
    node: Any = schema
    for part in path:
        if not isinstance(node, dict):
            break
        if part.isdigit() and "items" in node:
            node = node["items"]
        else:
            node = node.get("properties", {}).get(part, {})
    title = node.get("title") if isinstance(node, dict) else None
    return title or (path[-1] if path else schema.get("title", ""))


def _message(messages: dict[str, str], validator: str, title: str, error: ValidationError) -> str:
    own = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    template = own.get(validator) or messages.get(validator) or messages["default"]
    value = error.validator_value
    if isinstance(value, list):
        value = "、".join(str(v) for v in value)
    return template.format(field=title, value=value, format=_format_name(messages, error))


def _format_name(messages: dict[str, str], error: ValidationError) -> str:
    if error.validator == "format":
        return messages.get(f"format:{error.validator_value}", str(error.validator_value))
    return ""
