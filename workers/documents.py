"""Documents a case produces: acceptance receipt (受理凭证), notices, decision letters and certificates.

Rendered as PDF with reportlab's built-in CID font STSong-Light (Chinese
text without shipping font files), stamped with a drawn seal, and signed
with the electronic approval seal (``workers.seal``), so anyone can verify
that the file comes from the center and was not changed. Each document is
written once per external task (``workers.ledger``): a redelivered task gets
the same file back, never a second certificate number.
"""
from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .seal import Seal

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
REMEDY = ("申请人如对本决定不服，可以自收到本决定之日起六十日内依法申请行政复议，"
          "或者在六个月内依法向人民法院提起行政诉讼。")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    lines: list[str]
    seal_holder: str


def render(document: Document, business_key: str, issued_at: datetime) -> bytes:
    """One A4 page: title, case number, body lines (wrapped), date and a drawn seal."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(f"{document.title} {business_key}")
    pdf.setAuthor(document.seal_holder)
    width, height = A4
    pdf.setFont(FONT, 20)
    pdf.drawCentredString(width / 2, height - 90, document.title)
    pdf.setFont(FONT, 11)
    pdf.drawRightString(width - 60, height - 120, f"办件编号：{business_key}")
    y = height - 160
    for line in (row for text in document.lines for row in text.split("\n")):
        for part in _wrap(line, width - 120, 11):
            pdf.drawString(60, y, part)
            y -= 20
        y -= 4
    pdf.drawRightString(width - 70, 260, document.seal_holder)
    pdf.drawRightString(width - 70, 240, issued_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日"))
    _draw_seal(pdf, 465, 155, document.seal_holder)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _wrap(text: str, room: float, size: float) -> list[str]:
    """Break a line where the next character would pass the margin (Latin letters are narrower than 汉字)."""
    lines, current = [], ""
    for char in text:
        if current and pdfmetrics.stringWidth(current + char, FONT, size) > room:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current]


def _draw_seal(pdf: canvas.Canvas, x: float, y: float, holder: str) -> None:
    pdf.saveState()
    pdf.setStrokeColorRGB(0.8, 0, 0)
    pdf.setFillColorRGB(0.8, 0, 0)
    pdf.setLineWidth(2.5)
    pdf.circle(x, y, 60)
    pdf.setFont(FONT, 9)
    pdf.drawCentredString(x, y + 22, holder[:14])
    pdf.setFont(FONT, 22)
    pdf.drawCentredString(x, y - 8, "★")
    pdf.setFont(FONT, 11)
    pdf.drawCentredString(x, y - 34, "审批专用章")
    pdf.restoreState()


def write_signed(document: Document, business_key: str, directory: Path, name: str, seal: Seal,
                 issued_at: datetime) -> dict[str, Any]:
    """Render, sign and store a document; returns what the process keeps about it."""
    signed = seal.sign(render(document, business_key, issued_at), reason=document.title, location="上海市青浦区")
    folder = (directory / _safe(business_key)).resolve()
    if not folder.is_relative_to(directory.resolve()) or folder == directory.resolve():
        raise ValueError(f"refusing to store documents of case {business_key!r} outside {directory}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe(name)}.pdf"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as temporary:
        temporary.write(signed)
    Path(temporary.name).replace(path)  # readers never see half a file
    return {"kind": document.kind, "title": document.title, "file": str(path),
            "sha256": hashlib.sha256(signed).hexdigest(), "bytes": len(signed)}


def _safe(name: str) -> str:
    """A file or folder name made of the name's letters, digits, '-' and '_' (no dots: no '..')."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "_"
