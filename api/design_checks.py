"""Validate and lint the way `onewindow validate` and `onewindow lint` do, for the CLI and the designers'
pages alike: the same rules, the same configuration (processes/lint.json), the topics the workers register,
and called processes looked for among the models in processes/ and those already deployed."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import sqlalchemy.orm as so

from engine import lint, validation, versions

from . import state
from .design_messages import as_page


def lint_context(known: frozenset[str] | None = None) -> lint.LintContext:
    """What the rules need from the running product: its forms and the topics its workers serve."""
    from workers.handlers import TOPICS

    return lint.LintContext(forms_dir=state().services.settings.forms_dir, topics=TOPICS, known_processes=known)


def process_ids_of(files: Iterable[Path]) -> frozenset[str]:
    """The process ids of the files and of the models beside them (what a call activity may name)."""
    files = list(files)
    neighbours = {sibling for file in files for sibling in file.parent.glob("*.bpmn")} | set(files)
    return frozenset(pid for file in neighbours for pid in validation.process_ids(file.read_bytes()))


def known_processes(session: so.Session) -> frozenset[str]:
    """Processes a draft may call: the models in processes/ and every key deployed."""
    here = process_ids_of(state().services.settings.processes_dir.glob("*.bpmn"))
    return here | versions.deployed_keys(session)


def findings_of(xml: str, resource_name: str, known: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """Every finding of validate + lint as a page shows it (errors first, then by line)."""
    config = lint.load_config(state().services.settings.processes_dir)
    found = lint.check(xml.encode("utf-8"), resource_name, lint_context(known), config)
    order = {"error": 0, "warning": 1}
    return [as_page(finding) for finding in sorted(found, key=lambda f: (order.get(f.severity, 2), f.line or 0))]


def summary(findings: list[dict[str, Any]]) -> dict[str, int]:
    return {"errors": sum(f["severity"] == "error" for f in findings),
            "warnings": sum(f["severity"] == "warning" for f in findings)}
