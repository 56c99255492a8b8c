"""A locally generated CA and server certificate for the demo's TLS (never for production).

`python -m handoff.demo_ca FOLDER DOMAIN [DAYS]` writes ``ca.pem`` (what probes and checks
trust), ``cert.pem`` (the certificate, signed by that CA), ``key.pem`` and ``haproxy.pem``
(certificate then key, what HAProxy's ``bind ... ssl crt`` reads). Key files are created
mode 0600 before a byte is written, and their content is never printed. Tests make
certificates with any validity (expired, expiring inside the window, another name).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        """Return the certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """Return the private key as unencrypted PKCS#8 PEM (written 0600 only)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "handoff demo"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(
    common_name: str = "handoff demo CA", days: int = 3650, backdate: timedelta = timedelta(hours=1)
) -> Issued:
    """Return a self-signed CA valid from ``backdate`` ago for ``days``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - backdate)
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_server(ca: Issued, names: list[str], not_before: datetime, not_after: datetime) -> Issued:
    """Return a server certificate for DNS ``names`` (and 127.0.0.1), signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def write_private(path: Path, data: bytes) -> None:
    """Write a file that holds a key: created 0600 before any byte is written."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def write_material(folder: Path, ca: Issued, server: Issued) -> dict[str, Path]:
    """Write ca.pem, cert.pem, key.pem and haproxy.pem into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key", "haproxy")}
    paths["ca"].write_bytes(ca.cert_pem)
    paths["cert"].write_bytes(server.cert_pem)
    write_private(paths["key"], server.key_pem)
    write_private(paths["haproxy"], server.cert_pem + server.key_pem)
    return paths


def main(argv: list[str]) -> int:
    """Write a demo CA and a certificate for DOMAIN valid for DAYS (default 90)."""
    if len(argv) not in (2, 3):
        print("usage: python -m handoff.demo_ca FOLDER DOMAIN [DAYS]", file=sys.stderr)
        return 2
    folder, domain = Path(argv[0]), argv[1]
    days = int(argv[2]) if len(argv) == 3 else 90
    ca = make_ca()
    now = datetime.now(UTC)
    server = make_server(ca, [domain], now - timedelta(hours=1), now + timedelta(days=days))
    paths = write_material(folder, ca, server)
    until = server.cert.not_valid_after_utc
    print(f"{paths['ca']}: demo CA; {paths['cert']}: {domain} until {until:%Y-%m-%d}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
