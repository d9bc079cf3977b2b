"""The signed documents of a case (受理凭证, 补正告知书, 不予受理通知书, decision letters, certificates,
the answer to the applicant), as the workers reported them into the case's variables.

Workers write the files under the documents directory and complete their task
with a record of each (kind, title, file, sha256); this module lists those
records for a case and hands out a file only if the record names it and it
lies inside the documents directory, so a variable can never point a page at
another file on the server.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import sqlalchemy.orm as so

from .context import services
from .errors import NotFound
from .identity import Principal
from .materials import case_variables, require_case_access

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


def open_document(session: so.Session, business_key: str, name: str, viewer: Principal) -> Path:
    """The file of the case's document called ``name``, for someone who may see the case."""
    require_case_access(session, business_key, viewer)
    made = [d for d in documents_of(case_variables(session, business_key)) if Path(d["file"]).name == name]
    folder = services(session).settings.documents_dir.resolve()
    if not made:
        raise NotFound(f"Case {business_key} has no document {name!r}")
    path = Path(made[0]["file"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise NotFound(f"The file of document {name!r} of case {business_key} is not in the documents folder")
    return path
