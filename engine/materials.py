"""Material files received with an application (申请材料), kept outside the database.

Files are stored content-addressed (``<uploads>/<sha256[:2]>/<sha256>``): the
same file received twice is stored once, and the checksum recorded in the
case is the file's name, so what a clerk downloads is provably what was
received. Only PDF, JPEG, PNG and OFD files are taken, checked by their structure
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

from .access import visible_case
from .cases import instance_id_of
from .context import services
from .errors import InvalidInput, NotFound
from .file_types import SIGNATURES, FileRefused, identify, safe_file_name
from .identity import Principal

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


def require_case_access(session: so.Session, business_key: str, viewer: Principal) -> None:
    """The viewer may see the case (``engine.access``): its files are the case's; else ``NotFound``."""
    visible_case(session, viewer, business_key)


def open_for(session: so.Session, business_key: str, sha256: str, viewer: Principal) -> tuple[Path, dict[str, Any]]:
    """The stored file and its entry in the case, if the viewer may see the case and it received that file."""
    if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
        raise NotFound("No such material")
    require_case_access(session, business_key, viewer)
    received = [m for m in case_variables(session, business_key).get("submittedMaterials") or []
                if m.get("sha256") == sha256]
    path = services(session).settings.uploads_dir / sha256[:2] / sha256
    if not received or not path.is_file():
        raise NotFound(f"Case {business_key} has no material with that checksum")
    return path, received[0]


def case_variables(session: so.Session, business_key: str) -> dict[str, Any]:
    from .runtime import instance_variables, load

    instance_id = instance_id_of(session, business_key)
    if instance_id is None:
        raise NotFound(f"No case {business_key}", code="case.unknown", key=business_key)
    return instance_variables(load(session, instance_id).workflow)
