"""Small real files of each material type, made here (pypdf, Pillow, zipfile), so upload tests send what a
scanner or an OFD writer would, not bytes that only start right."""
from __future__ import annotations

import io
import zipfile


def pdf(text: str = "test") -> bytes:
    """A one-page PDF (the page is blank; ``text`` goes into the metadata so two files differ)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def picture(kind: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def ofd(root: bytes | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """An OFD package: OFD.xml at its root (GB/T 33190) and one document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("OFD.xml", root if root is not None else
                         b'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" '
                         b'Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
                         b'</ofd:DocBody></ofd:OFD>')
        package.writestr("Doc_0/Document.xml", b'<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"/>')
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return out.getvalue()
