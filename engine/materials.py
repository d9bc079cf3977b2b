"""Material files received with an application (申请材料), kept outside the database.

Files are stored content-addressed (``<uploads>/<sha256[:2]>/<sha256>``): the
same file received twice is stored once, and the checksum recorded in the
case is the file's name, so what a clerk downloads is provably what was
received. A case's files are the ones received with it: the command that stores
a file attaches it to the case it receives (``case_file``), and a download is
served only for an attached file, so naming another case's checksum in a
variable (a REST application, a message) opens nothing. Only PDF, JPEG, PNG and OFD files are taken, checked by their structure
(``engine.file_types``) rather than by what the client claims, up to a configured size; the
name kept is cleaned of what could disguise the file, and ends in the type found.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy.orm as so

from .context import services
from .errors import InvalidInput, NotFound
from .file_types import SIGNATURES, FileRefused, identify, safe_file_name
from .models import CaseFile, ProcessInstance

#: ``session.info`` key: checksums of the files stored by this transaction's command, the ones it may attach
_STORED = "stored_files"

def store(session: so.Session, code: str, file_name: str, data: bytes) -> dict[str, Any]:
    """Keep one received file; the entry goes into the case's ``submittedMaterials``."""
    settings = services(session).settings
    if not data:
        raise InvalidInput(f"The file for material '{code}' ({file_name}) is empty", code="material.empty",
                           file=file_name)
    if len(data) > settings.max_upload_bytes:
        raise InvalidInput(f"The file for material '{code}' ({file_name}) is {len(data)} bytes; "
                           f"the limit is {settings.max_upload_bytes}", code="material.too-large", file=file_name,
                           size=_megabytes(len(data)), limit=_megabytes(settings.max_upload_bytes))
    shown = safe_file_name(file_name, "", code)
    try:
        kind = identify(data, shown)
    except FileRefused as refused:
        raise FileRefused(f"The file for material '{code}': {refused.message}", code=refused.code,
                          **refused.params) from None
    digest = hashlib.sha256(data).hexdigest()
    target = settings.uploads_dir / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as temporary:
            temporary.write(data)
        os.replace(temporary.name, target)
    session.info.setdefault(_STORED, set()).add(digest)
    return {"code": code, "fileName": safe_file_name(file_name, kind, code), "contentType": kind, "size": len(data),
            "sha256": digest}


def served_as(entry: dict[str, Any]) -> tuple[str, str]:
    """The content type and file name a stored material is downloaded with: only the types materials may
    have (an entry sent over REST says what it likes), and a cleaned name in that type."""
    kind = entry.get("contentType")
    kind = kind if kind in SIGNATURES else "application/octet-stream"
    return kind, safe_file_name(str(entry.get("fileName") or ""), kind, str(entry.get("code") or "material"))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}"


def require_received(session: so.Session, entries: list[dict[str, Any]]) -> list[str]:
    """The checksums ``entries`` name, each a file stored by this same command (``store``); an entry naming any
    other is refused, since a file is received with its application or supplement, at the window, never named
    from elsewhere (another case's checksum would otherwise open that case's file)."""
    stored = session.info.get(_STORED, set())
    named = sorted({str(e["sha256"]) for e in entries if isinstance(e, dict) and e.get("sha256")})
    foreign = [sha for sha in named if sha not in stored]
    if foreign:
        raise InvalidInput(f"A material names a file that was not received with it ({foreign[0][:12]}…): files "
                           "are received at the window with the application or its supplement",
                           code="material.not-received")
    return named


def attach(session: so.Session, instance_id: str, entries: list[dict[str, Any]]) -> None:
    """Make the files of ``entries`` (``require_received``) the case's own."""
    for sha in require_received(session, entries):
        session.merge(CaseFile(instance_id=instance_id, sha256=sha))


def open_for(session: so.Session, instance: ProcessInstance, sha256: str) -> tuple[Path, dict[str, Any]]:
    """The stored file and its entry in the case, if the case received that file (check first that the viewer
    sees the case: ``engine.access.visible_case``)."""
    if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
        raise NotFound("No such material")
    received = [m for m in case_variables(session, instance.id).get("submittedMaterials") or []
                if isinstance(m, dict) and m.get("sha256") == sha256]
    path = services(session).settings.uploads_dir / sha256[:2] / sha256
    if not received or session.get(CaseFile, (instance.id, sha256)) is None or not path.is_file():
        raise NotFound(f"Case {instance.business_key} has no material with that checksum")
    return path, received[0]


def case_variables(session: so.Session, instance_id: str) -> dict[str, Any]:
    """The case's variables, read from the instance the caller has checked (never looked up again by number)."""
    from .runtime import instance_variables, load

    return instance_variables(load(session, instance_id).workflow)
