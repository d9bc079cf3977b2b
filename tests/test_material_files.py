"""Issue 15, uploads: a material file is kept only when its structure is what its type says (not only its first
bytes), zip bombs and polyglots are refused, names cannot disguise a file, and downloads are attachments that
no browser may sniff."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from engine import file_types, materials
from engine.file_types import FileRefused, safe_file_name

from . import files


def _zip_declaring(size: int) -> bytes:
    """An OFD whose central directory says one entry unpacks to ``size`` bytes (what a bomb says of itself)."""
    data = bytearray(files.ofd(extra={"Doc_0/Res/big.bin": b"x" * 1000}))
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, size)
    return bytes(data)


def _zeros_ofd(megabytes: int) -> bytes:
    return files.ofd(extra={"Doc_0/Res/zeros.bin": b"\0" * (megabytes * 1024 * 1024)})


def _traversing_ofd() -> bytes:
    out = io.BytesIO(files.ofd())
    with zipfile.ZipFile(out, "a") as package:
        package.writestr("../../etc/cron.d/x", b"boom")
    return out.getvalue()


ACCEPTED = [
    (files.pdf(), "application/pdf"),
    (files.picture("PNG"), "image/png"),
    (files.picture("JPEG"), "image/jpeg"),
    (files.ofd(), "application/ofd"),
]

REFUSED = [
    ("text", b"<html>hello</html>", "material.bad-type", "not a PDF, JPEG, PNG or OFD"),
    ("magic only", b"%PDF-1.4\n% a tiny test file\n", "material.bad-structure", "does not parse as a PDF"),
    ("PDF + HTML polyglot", b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n",
     "material.bad-structure", "HTML markup"),
    ("valid PDF with a page appended", files.pdf() + b"\n<!DOCTYPE html><script>alert(1)</script>",
     "material.bad-structure", "HTML markup"),
    ("any zip as OFD", b"PK\x03\x04" + b"\0" * 100, "material.bad-structure", "not a readable zip"),
    ("a zip without OFD.xml", (lambda: (lambda out: (zipfile.ZipFile(out, "w").writestr("a.txt", "x"), out)[1])(
        io.BytesIO()))().getvalue(), "material.bad-structure", "no OFD.xml"),
    ("zip bomb by its directory", _zip_declaring(1024 ** 3), "material.bad-structure", "unpacks to"),
    ("zip bomb by its ratio", _zeros_ofd(3), "material.bad-structure", "zip bomb"),
    ("entry outside the package", _traversing_ofd(), "material.bad-structure", "outside itself"),
    ("OFD.xml that is not OFD", files.ofd(root=b"<html/>"), "material.bad-structure", "not an ofd:OFD"),
    ("OFD.xml with entities", files.ofd(root=b'<!DOCTYPE x [<!ENTITY a "b">]><ofd:OFD xmlns:ofd="o"/>'),
     "material.bad-structure", "DOCTYPE"),
    ("PNG header only", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "material.bad-structure", "does not decode"),
    ("JPEG header only", b"\xff\xd8\xff\xe0" + b"\0" * 40, "material.bad-structure", "does not decode"),
]


@pytest.mark.parametrize("data,kind", ACCEPTED, ids=[k for _, k in ACCEPTED])
def test_a_real_file_of_each_type_is_identified(data, kind):
    assert file_types.identify(data, "f") == kind


@pytest.mark.parametrize("label,data,code,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_file_that_only_looks_right_is_refused_by_its_structure(label, data, code, message):
    with pytest.raises(FileRefused, match=message) as refused:
        file_types.identify(data, "upload.bin")
    assert refused.value.code == code and refused.value.status == 400


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims its size and holds no pixels (what a decompression bomb looks like to a header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width,height", [(9_000, 9_000), (20_000, 20_000), (100_000, 100_000)])
def test_an_image_too_large_to_decode_safely_is_refused_before_its_pixels_are_read(width, height):
    with pytest.raises(FileRefused, match="pixels"):
        file_types.identify(_png_header(width, height), "scan.png")


@pytest.mark.parametrize("name,kind,expected", [
    ("申请书.pdf", "application/pdf", "申请书.pdf"),
    ("invoice\u202efdp.exe", "application/pdf", "invoicefdp.exe.pdf"),
    ("\u2066report\u2069\u200e.pdf", "application/pdf", "report.pdf"),
    ("../../etc/passwd", "image/png", "passwd.png"),
    ("C:\\Users\\x\\证件照.JPG", "image/jpeg", "证件照.JPG"),
    ("page.html", "application/pdf", "page.html.pdf"),
    ("a\x00b\nc.pdf", "application/pdf", "abc.pdf"),
    ("...", "application/ofd", "license.ofd"),
    ("长" * 300 + ".pdf", "application/pdf", "长" * 116 + ".pdf"),
])
def test_a_kept_name_shows_what_the_file_is(name, kind, expected):
    assert safe_file_name(name, kind, "license") == expected


def test_a_download_never_trusts_an_entry_sent_over_rest():
    kind, name = materials.served_as({"code": "id", "fileName": "x\u202elmth.pdf", "contentType": "text/html"})
    assert kind == "application/octet-stream" and "\u202e" not in name


def test_store_keeps_a_checked_file_under_a_clean_name(sessions, tmp_path):
    with sessions.begin() as session:
        entry = materials.store(session, "id-card", "身份证\u202egnp.pdf", files.picture("PNG"))
        with pytest.raises(FileRefused, match="material 'premises'.*HTML markup") as refused:
            materials.store(session, "premises", "x.pdf", b"%PDF-1.7\n<html><script>1</script></html>")
    assert entry["contentType"] == "image/png" and entry["fileName"] == "身份证gnp.pdf.png"
    assert refused.value.params["file"] == "x.pdf"
    stored = list((tmp_path / "uploads").rglob("*"))
    assert [p.name for p in stored if p.is_file()] == [entry["sha256"]]
