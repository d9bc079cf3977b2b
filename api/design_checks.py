"""Validate and lint the way `onewindow validate` and `onewindow lint` do, for the CLI and the designers'
pages alike: the same rules, the same configuration (processes/lint.json), the topics the workers register,
and called processes looked for among the models in processes/ and those already deployed."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

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


def checker(session: so.Session) -> Callable[[bytes, str], list[validation.Finding]]:
    """Validate + lint as a draft's revision is checked when it is saved (``engine.drafts.Checker``): the
    product's forms, worker topics and lint.json, and the processes a call may name — gathered only when
    a check runs (a view of a stored report runs none)."""
    def check(data: bytes, resource: str) -> list[validation.Finding]:
        context = lint_context(known_processes(session))
        config = lint.load_config(state().services.settings.processes_dir)
        return lint.check(data, resource, context, config)
    return check


def page_findings(found: list[validation.Finding]) -> list[dict[str, Any]]:
    """Findings as a page shows them, in the reader's language (errors first, then by line)."""
    order = {"error": 0, "warning": 1}
    return [as_page(finding) for finding in sorted(found, key=lambda f: (order.get(f.severity, 2), f.line or 0))]


def summary(findings: list[dict[str, Any]]) -> dict[str, int]:
    return {"errors": sum(f["severity"] == "error" for f in findings),
            "warnings": sum(f["severity"] == "warning" for f in findings)}
