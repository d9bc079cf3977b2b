"""Material files received with an application (申请材料), kept outside the database.

Files are stored content-addressed (``<uploads>/<sha256[:2]>/<sha256>``): the
same file received twice is stored once, and the checksum recorded in the
case is the file's name, so what a clerk downloads is provably what was
received. Only PDF, JPEG, PNG and OFD files are taken, checked by their first
bytes rather than by what the client claims, up to a configured size.
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
from .identity import Principal

#: content type → how the file starts
SIGNATURES = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
              "application/ofd": (b"PK\x03\x04",)}


def content_type_of(data: bytes) -> str | None:
    for kind, starts in SIGNATURES.items():
        if any(data.startswith(s) for s in starts):
            return kind
    return None


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
    kind = content_type_of(data)
    if kind is None:
        raise InvalidInput(f"The file for material '{code}' ({file_name}) is not a PDF, JPEG, PNG or OFD file",
                           code="material.bad-type", file=file_name)
    digest = hashlib.sha256(data).hexdigest()
    target = settings.uploads_dir / digest[:2] / digest
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as temporary:
            temporary.write(data)
        os.replace(temporary.name, target)
    return {"code": code, "fileName": Path(file_name).name[:255] or code, "contentType": kind, "size": len(data),
            "sha256": digest}


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
