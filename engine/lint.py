"""`onewindow lint`: rules a valid model should still follow, each with an id, a level and a reason.

Validation (``engine.validation``) says whether the engine can run a file; lint says whether it
should be run as drawn. The structural rules carry bpmnlint's ids and meaning (bpmnlint is the
linter of bpmn.io and Camunda Modeler, so a designer meets the same names there); the rules of
this domain are prefixed ``onewindow/`` (approval levels, assignment, forms, workers, specialist
time limits, the case clock, Chinese names). Rules are pure functions over the document
(``engine.bpmn_graph.Model``) and a ``LintContext`` the caller fills in: the engine knows the
forms directory but not the workers, so the caller passes the registered topics.

Configuration is a JSON file in bpmnlint's spirit, ``lint.json`` beside the models::

    {"rules": {"label-required": "warn"},
     "files": {"bundle_case.bpmn": {"rules": {"no-implicit-split": "off"}}}}

Levels are ``off``, ``warn`` and ``error`` (eslint's 0, 1, 2 too); ``files`` keys are file names
or glob patterns. A config that names an unknown rule or level says so in the findings.
"""
from __future__ import annotations

import fnmatch
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from lxml import etree

from .bpmn_graph import Model
from .validation import ERROR, WARNING, Finding, at, check_tree, internal, read

CONFIG_NAME = "lint.json"
OFF = "off"
#: configured level -> finding severity (None: the rule is off)
LEVELS: Mapping[Any, str | None] = {"off": None, "warn": WARNING, "warning": WARNING, "error": ERROR,
                                    0: None, 1: WARNING, 2: ERROR}


def N_(text: str) -> str:
    """Marks a rule's explanation for the translation catalogue (``make messages`` extracts it); the engine
    knows no locale, so the text comes back as it is and ``api`` translates it when it is shown."""
    return text


@dataclass(frozen=True)
class LintContext:
    """What the rules need from outside the file. ``topics`` None: the worker rule is skipped.
    ``known_processes``: process ids deployable beside the file (``check`` warns of other calls)."""

    forms_dir: Path
    topics: frozenset[str] | None = None
    known_processes: frozenset[str] | None = None


@dataclass(frozen=True)
class Hit:
    """A rule's report: the element, an English sentence, its values for translation."""

    element: etree._Element | None
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    explanation: str
    check: Callable[[Model, LintContext], Iterable[Hit]]


@dataclass(frozen=True)
class LintConfig:
    """Levels by rule id, for all files and per file (pattern -> rule id -> level)."""

    rules: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: where the configuration was read from (findings about it name this file)
    source: str | None = None
    problems: tuple[Finding, ...] = ()

    def severity(self, rule: Rule, resource: str) -> str | None:
        """The severity of a rule's findings in this file, None when it is off."""
        level: Any = self.rules.get(rule.id, rule.severity)
        for pattern, rules in self.files.items():
            if _matches(pattern, resource) and rule.id in rules:
                level = rules[rule.id]
        return LEVELS.get(level, rule.severity) if isinstance(level, (str, int)) else rule.severity


@functools.lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """Every rule, structural ones first (imported late: the rule modules import this one)."""
    from . import lint_domain, lint_rules

    return lint_rules.RULES + lint_domain.RULES


def rule(rule_id: str) -> Rule | None:
    return next((r for r in rules() if r.id == rule_id), None)


def lint(data: bytes, resource: str, context: LintContext, config: LintConfig | None = None) -> list[Finding]:
    """The lint findings of one file; a file that cannot be read gets the reason instead."""
    try:
        tree, findings = read(data, resource)
        if tree is None:
            return findings
        return lint_tree(tree, resource, context, config)
    except Exception as exc:  # like validate, lint answers with findings
        return [internal(resource, exc)]


def check(data: bytes, resource: str, context: LintContext, config: LintConfig | None = None) -> list[Finding]:
    """Validate and lint (what the deploy page and the web modeler ask on save); the file is read once."""
    try:
        tree, findings = read(data, resource)
        if tree is None:
            return findings
        model = Model.of(tree)  # one index of the document for both
        return (check_tree(tree, resource, context.known_processes, model)
                + lint_tree(tree, resource, context, config, model))
    except Exception as exc:
        return [internal(resource, exc)]


def lint_tree(tree: etree._ElementTree, resource: str, context: LintContext,
              config: LintConfig | None = None, model: Model | None = None) -> list[Finding]:
    config = config or LintConfig()
    model = model or Model.of(tree)
    findings = list(config.problems)
    for each in rules():
        severity = config.severity(each, resource)
        if severity is None:
            continue
        try:
            hits = list(each.check(model, context))
        except Exception as exc:  # one rule failing on a strange model does not hide the others
            findings.append(internal(resource, RuntimeError(f"rule {each.id} failed: {exc!r}")))
            continue
        findings.extend(at(resource, hit.element, each.id, hit.message, severity, **hit.params) for hit in hits)
    return findings


# --- configuration ----------------------------------------------------------------------------

def load_config(path: Path | None) -> LintConfig:
    """The configuration in ``path`` (a lint.json, or a directory holding one); none there: the defaults."""
    if path is None:
        return LintConfig()
    file = path / CONFIG_NAME if path.is_dir() else path
    if not file.is_file():
        return LintConfig()
    try:
        return parse_config(file.read_text(encoding="utf-8"), str(file))
    except (OSError, UnicodeDecodeError) as exc:
        return LintConfig(source=str(file), problems=(_config_problem(str(file), None, "lint-config.invalid",
                                                                      f"cannot read the file: {exc}", detail=str(exc)),))


def parse_config(text: str, source: str = CONFIG_NAME) -> LintConfig:
    """A configuration from its JSON text; what is wrong with it comes back as findings, never raised."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return LintConfig(source=source, problems=(_config_problem(
            source, exc.lineno, "lint-config.invalid", f"not valid JSON: {exc.msg}", detail=exc.msg),))
    except (ValueError, RecursionError) as exc:  # too deeply nested, an integer too long to convert
        detail = str(exc) or exc.__class__.__name__
        return LintConfig(source=source, problems=(_config_problem(
            source, None, "lint-config.invalid", f"not valid JSON: {detail}", detail=detail),))
    problems: list[Finding] = []
    if not isinstance(data, dict):
        return LintConfig(source=source, problems=(_config_problem(
            source, 1, "lint-config.invalid", "the configuration must be a JSON object",
            detail="the configuration must be a JSON object"),))
    lines = _key_lines(text)
    for key in data:
        if key not in ("rules", "files") and not str(key).startswith("$"):
            problems.append(_config_problem(source, lines.get((key,)), "lint-config.invalid",
                                            f"unknown key '{key}' (expected rules and files)",
                                            detail=f"unknown key '{key}'"))
    levels = _levels(data.get("rules", {}), lines, source, problems, ("rules",))
    files: dict[str, Mapping[str, Any]] = {}
    entries = data.get("files", {})
    if not isinstance(entries, dict):
        problems.append(_config_problem(source, lines.get(("files",)), "lint-config.invalid",
                                        "files must be an object", detail="files must be an object"))
        entries = {}
    for pattern, entry in entries.items():
        rules_of = entry.get("rules", {}) if isinstance(entry, dict) else None
        if rules_of is None:
            problems.append(_config_problem(source, lines.get(("files", pattern)), "lint-config.invalid",
                                            f"files.{pattern} must be an object with rules",
                                            detail=f"files.{pattern} must be an object with rules"))
            continue
        files[pattern] = _levels(rules_of, lines, source, problems, ("files", pattern, "rules"))
    return LintConfig(levels, files, source, tuple(problems))


def _levels(entries: Any, lines: Mapping[tuple[str, ...], int], source: str, problems: list[Finding],
            path: tuple[str, ...]) -> dict[str, Any]:
    """The valid levels of one ``rules`` object (``path``: where it is in the file, for line numbers)."""
    where = ".".join(path)
    if not isinstance(entries, dict):
        problems.append(_config_problem(source, lines.get(path), "lint-config.invalid", f"{where} must be an object",
                                        detail=f"{where} must be an object"))
        return {}
    known = {r.id for r in rules()}
    levels: dict[str, Any] = {}
    for rule_id, level in entries.items():
        if isinstance(level, list) and level:  # bpmnlint's ["warn", {options}]: the level is what counts here
            level = level[0]
        line = lines.get((*path, rule_id))
        if rule_id not in known:
            problems.append(_config_problem(source, line, "lint-config.unknown-rule",
                                            f"unknown rule '{rule_id}' in {where} (onewindow lint --list-rules "
                                            "lists them)", rule=rule_id))
        elif isinstance(level, bool) or not isinstance(level, (str, int)) or level not in LEVELS:
            problems.append(_config_problem(source, line, "lint-config.bad-level",
                                            f"rule '{rule_id}': level {json.dumps(level)} is not off, warn or error",
                                            rule=rule_id, level=json.dumps(level, ensure_ascii=False)))
        else:
            levels[rule_id] = level
    return levels


def _config_problem(source: str, line: int | None, code: str, message: str, **params: str) -> Finding:
    return Finding(source, code, ERROR, message, line, None, {k: str(v) for k, v in params.items()})


_SPACE = re.compile(r"[ \t\n\r]*")


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The line of each object key of a valid JSON text, by its path of keys (the first one where a key
    repeats). Searching the text for the key alone finds the wrong one when the same rule id appears under
    ``rules`` and under ``files``; on anything unexpected the lines are simply unknown."""
    lines: dict[tuple[str, ...], int] = {}
    decoder = json.JSONDecoder()

    def skip(index: int) -> int:
        match = _SPACE.match(text, index)
        return match.end() if match else index

    def value(index: int, path: tuple[str, ...]) -> int:
        """Walk the value at ``index`` and return the index after it (nesting is as deep as json.loads
        already accepted; deeper than the recursion limit, the lines stay unknown)."""
        index = skip(index)
        if text.startswith("{", index):
            index = skip(index + 1)
            if text.startswith("}", index):
                return index + 1
            while True:
                key, after = json.decoder.scanstring(text, index + 1)
                lines.setdefault((*path, key), text.count("\n", 0, index) + 1)
                index = skip(value(skip(after) + 1, (*path, key)))
                if not text.startswith(",", index):
                    return index + 1
                index = skip(index + 1)
        if text.startswith("[", index):
            index = skip(index + 1)
            if text.startswith("]", index):
                return index + 1
            while True:
                index = skip(value(index, (*path, "[]")))
                if not text.startswith(",", index):
                    return index + 1
                index += 1
        return decoder.raw_decode(text, index)[1]

    try:
        value(0, ())
    except (ValueError, IndexError, RecursionError):
        pass
    return lines


def _matches(pattern: str, resource: str) -> bool:
    path = resource.replace("\\", "/")
    name = path.rsplit("/", 1)[-1]
    return (fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(path, pattern)
            or path.endswith("/" + pattern.lstrip("/")))
