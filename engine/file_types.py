"""What a received file is, judged by its structure and not only by its first bytes; and a file name
that shows what it is.

Magic bytes alone let through a ``%PDF-`` header followed by an HTML page (a browser that sniffs it
runs the page), any zip as OFD (a zip bomb of 1 GiB unpacked was stored), and anything that starts
like a JPEG. So each type is read the way its consumer will read it, within bounds, without
unpacking anything:

- PDF: pypdf parses the cross-reference table and the page tree (at least one page), and no HTML
  markup may appear anywhere in the bytes (what makes a PDF a polyglot a browser would render);
- OFD (GB/T 33190, a zip package): the central directory alone is read — at most ``MAX_OFD_ENTRIES``
  entries, at most ``MAX_OFD_UNPACKED`` bytes unpacked in all, no entry packed tighter than
  ``MAX_OFD_RATIO`` to one, no absolute or ``..`` names, no encryption — and the root ``OFD.xml``
  must be an ``ofd:OFD`` document (read through the hardened XML parser, its size bounded first);
- JPEG and PNG: Pillow decodes the header and checks the structure (``verify``), the picture at most
  ``MAX_IMAGE_PIXELS`` (a scan of A3 at 600 dpi is 70 million), so a decompression bomb is refused
  before anything decodes its pixels.

File names keep what a clerk needs to recognise the file and lose what can disguise it: directory
parts, control and format characters (U+202E RIGHT-TO-LEFT OVERRIDE turns ``exe.pdf`` into what reads
as ``fdp.exe``), excess length; and the extension always says the type that was found.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import Callable

from .errors import InvalidInput

PDF, JPEG, PNG, OFD = "application/pdf", "image/jpeg", "image/png", "application/ofd"
#: content type → how the file starts (the first, cheap test) and the extension its name gets
SIGNATURES = {PDF: b"%PDF-", JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n", OFD: b"PK\x03\x04"}
EXTENSIONS = {PDF: (".pdf",), JPEG: (".jpg", ".jpeg"), PNG: (".png",), OFD: (".ofd",)}

MAX_OFD_ENTRIES = 10_000
MAX_OFD_UNPACKED = 512 * 1024 * 1024
MAX_OFD_RATIO = 200
MAX_OFD_XML = 1024 * 1024
MAX_IMAGE_PIXELS = 80_000_000
#: the longest file name kept (characters, extension included)
MAX_NAME = 120

#: markup a browser would render if it ever took the file for a page
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|frameset|object|embed|svg|meta|style|link"
                   rb"|base|form|title)[\s/>]", re.IGNORECASE)
#: bidi controls and marks (U+200E/F, U+202A–U+202E, U+2066–U+2069) are format characters (Cf), as are
#: zero-width ones; control characters are Cc; both are dropped from names
_DROPPED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


class FileRefused(InvalidInput):
    """The file is not what a material may be; ``code`` says which check refused it."""


def identify(data: bytes, file_name: str) -> str:
    """The content type of a material file whose structure checks out, else FileRefused."""
    kind = next((k for k, start in SIGNATURES.items() if data.startswith(start)), None)
    if kind is None:
        raise FileRefused(f"{file_name} is not a PDF, JPEG, PNG or OFD file", code="material.bad-type", file=file_name)
    problem = _CHECKS[kind](data)
    if problem is not None:
        raise FileRefused(f"{file_name} starts like a {_NAMES[kind]} file but is not one: {problem}",
                          code="material.bad-structure", file=file_name, kind=_NAMES[kind], detail=problem)
    return kind


def _pdf(data: bytes) -> str | None:
    if _HTML.search(data):
        return "it contains HTML markup, which a browser could run as a page"
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds on broken input; any of them means "not a PDF"
        return f"it does not parse as a PDF ({exc.__class__.__name__})"
    return None if pages >= 1 else "it has no pages"


def _ofd(data: bytes) -> str | None:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "it is not a readable zip package"
    problem = _package_problem(entries)
    if problem is not None:
        return problem
    root = next((e for e in entries if e.filename == "OFD.xml"), None)
    if root is None:
        return "the package has no OFD.xml at its root"
    if root.file_size > MAX_OFD_XML:
        return f"its OFD.xml is {root.file_size} bytes unpacked; at most {MAX_OFD_XML}"
    try:
        with package.open(root) as member:
            text = member.read(MAX_OFD_XML + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return "its OFD.xml cannot be unpacked"
    return _ofd_root_problem(text)


def _package_problem(entries: list[zipfile.ZipInfo]) -> str | None:
    """What the central directory says, before anything is unpacked."""
    if len(entries) > MAX_OFD_ENTRIES:
        return f"the package has {len(entries)} entries; at most {MAX_OFD_ENTRIES}"
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_OFD_UNPACKED:
        return f"the package unpacks to {unpacked} bytes; at most {MAX_OFD_UNPACKED}"
    for entry in entries:
        name = entry.filename
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
            return f"the package has an entry outside itself ({name[:80]!r})"
        if entry.flag_bits & 0x1:
            return "the package is encrypted"
        if entry.file_size > MAX_OFD_RATIO * max(entry.compress_size, 1) and entry.file_size > 1024 * 1024:
            return f"entry {name[:80]!r} unpacks more than {MAX_OFD_RATIO} times its size (a zip bomb)"
    return None


def _ofd_root_problem(text: bytes) -> str | None:
    from lxml import etree

    from .parser import hardened_xml_parser

    if len(text) > MAX_OFD_XML:
        return f"its OFD.xml is longer than {MAX_OFD_XML} bytes"
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        return "its OFD.xml declares a DOCTYPE"
    try:
        root = etree.fromstring(text, hardened_xml_parser())
    except etree.XMLSyntaxError:
        return "its OFD.xml is not well-formed XML"
    if not isinstance(root.tag, str) or etree.QName(root).localname != "OFD":
        return "its OFD.xml is not an ofd:OFD document"
    return None


def _image(expected: str) -> Callable[[bytes], str | None]:
    def check(data: bytes) -> str | None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data), formats=[expected]) as picture:
                width, height = picture.size
                if width * height > MAX_IMAGE_PIXELS:
                    return f"the picture is {width} × {height} pixels; at most {MAX_IMAGE_PIXELS} pixels"
                picture.verify()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return f"the picture has more than {MAX_IMAGE_PIXELS} pixels"
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return f"it does not decode as a {expected} picture"
        return None
    return check


_CHECKS: dict[str, Callable[[bytes], str | None]] = {PDF: _pdf, OFD: _ofd, JPEG: _image("JPEG"), PNG: _image("PNG")}
_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", OFD: "OFD"}


def safe_file_name(name: str | None, kind: str, fallback: str) -> str:
    """A file name to keep and to offer on download: its last path part, without control or format
    characters, at most ``MAX_NAME`` characters, ending in an extension of ``kind``."""
    text = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    text = _clean(text).strip().strip(".").strip()
    extensions = EXTENSIONS.get(kind, ())
    stem, suffix = (text, "")
    if "." in text and text.rsplit(".", 1)[1].lower() in (e[1:] for e in extensions):
        stem, suffix = text.rsplit(".", 1)[0], "." + text.rsplit(".", 1)[1]
    suffix = suffix or (extensions[0] if extensions else "")
    stem = (stem or _clean(fallback) or "file")[: MAX_NAME - len(suffix)]
    return stem + suffix


def _clean(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) not in _DROPPED_CATEGORIES and c not in "/\\")
