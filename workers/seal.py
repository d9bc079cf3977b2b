"""Electronic approval seals (电子印章): one signing key and certificate per department, PDF signing with pyHanko.

Each department signs its own certificates and letters with its own seal;
the center signs receipts. Production installs the seals issued by the
certification authority the district uses: ``ONEWINDOW_SEAL_DIR/<department>/
seal.key`` and ``seal.crt``, with the authority's ``ca.crt`` beside the
department folders. Where a seal is missing a demo authority and seal are
generated — real RSA keys and X.509 certificates, so signatures verify; they
are just not trusted by anyone else. Demo keys never go into the repository.
"""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.general import get_pyca_cryptography_hash

_lock = threading.Lock()
KEY, CERT, CA, CA_KEY = "seal.key", "seal.crt", "ca.crt", "ca.key"


def ensure_demo_seal(directory: Path, code: str, holder: str) -> None:
    """Create the demo CA (once) and a seal for ``holder`` in ``directory/code`` unless one is installed."""
    with _lock:
        target = directory / code
        if (target / KEY).exists() and (target / CERT).exists():
            return
        ca_key, ca_cert = _demo_ca(directory)
        now = datetime.now(timezone.utc)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder),
                             x509.NameAttribute(NameOID.COMMON_NAME, f"{holder} 审批专用章")])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1825))
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_cert_sign=False,
                                             crl_sign=False, key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False, decipher_only=False),
                               critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        target.mkdir(parents=True, exist_ok=True)
        _write_key(target / KEY, key)
        (target / CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _demo_ca(directory: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The demo certification authority every demo seal chains to (made once per seal directory)."""
    if (directory / CA_KEY).exists() and (directory / CA).exists():
        key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
        return key, x509.load_pem_x509_certificate((directory / CA).read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "onewindow 演示电子印章认证中心"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "onewindow Demo Seal CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write_key(directory / CA_KEY, key)
    (directory / CA).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses the private key again for every signature (cryptography checks an
    RSA key's primes when it loads it: ~35 ms, twice per PDF); the seal's key is parsed once here."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if isinstance(self._key, rsa.RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


class Seal:
    """Signs PDFs with the approval seal's key (an approval signature, PAdES baseline B)."""

    #: room for the CMS container (signature, seal certificate and CA): fixed, so pyHanko needs no dry run
    SIGNATURE_BYTES = 16_384

    def __init__(self, directory: Path, code: str) -> None:
        ca = directory / CA
        loaded = signers.SimpleSigner.load(str(directory / code / KEY), str(directory / code / CERT),
                                           ca_chain_files=(str(ca),) if ca.exists() else None)
        self.signer = _LoadedKeySigner(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                                       cert_registry=loaded.cert_registry)
        self.ca_path = ca

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name="ApprovalSeal", reason=reason, location=location,
                                            subfilter=SigSeedSubFilter.PADES)
        # an invisible signature field: the page shows the drawn seal, the signature proves it
        out = signers.sign_pdf(writer, meta, signer=self.signer, new_field_spec=SigFieldSpec("ApprovalSeal"),
                               bytes_reserved=self.SIGNATURE_BYTES)
        return out.getvalue()
