"""The signed documents of a case (受理凭证, 补正告知书, 不予受理通知书, decision letters, certificates,
the answer to the applicant), as the workers reported them into the case's variables.

Workers write the files in the case's own folder of the documents directory
(``<documents>/<case number>/``) and complete their task with a record of each
(kind, title, file, sha256); this module lists those records for a case and
hands out a file only if the record names it and it lies in that case's own
folder, so a variable can never point a page at another case's document or any
other file on the server.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import sqlalchemy.orm as so

from .context import services
from .errors import NotFound
from .materials import case_variables
from .models import ProcessInstance

def documents_of(variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every signed document recorded in the variables, each once (a list may repeat the latest single one)."""
    found: list[dict[str, Any]] = []
    candidates: Iterable[Any] = [variables.get("receiptDocument"), *(variables.get("noticeDocuments") or []),
                                 variables.get("noticeDocument"), variables.get("grantLetter"),
                                 *(variables.get("decisionLetters") or []), variables.get("decisionLetter"),
                                 *(variables.get("certificates") or []), variables.get("resultNotice")]
    seen: set[str] = set()
    for document in candidates:
        if isinstance(document, dict) and document.get("file") and document["file"] not in seen:
            seen.add(document["file"])
            found.append(document)
    return found


def open_document(session: so.Session, instance: ProcessInstance, name: str) -> Path:
    """The file of the case's document called ``name`` (check first that the viewer sees the case:
    ``engine.access.visible_case``)."""
    key = instance.business_key or instance.id
    made = [d for d in documents_of(case_variables(session, instance.id)) if Path(d["file"]).name == name]
    if not made:
        raise NotFound(f"Case {key} has no document {name!r}")
    folder = case_folder(services(session).settings.documents_dir, key)
    path = Path(made[0]["file"]).resolve()
    if path.parent != folder or not path.is_file():
        raise NotFound(f"The file of document {name!r} of case {key} is not in the case's own folder")
    return path


def case_folder(documents_dir: Path, business_key: str) -> Path:
    """Where the workers keep a case's documents: the folder named by the case number's letters, digits, '-'
    and '_' (no dots), as ``workers.documents.write_signed`` names it."""
    return (documents_dir / ("".join(c if c.isalnum() or c in "-_" else "_" for c in business_key) or "_")).resolve()
