"""Domain/SSL: the live listener's certificate judged against the run's whole timeline.

The certificate must chain to the CA the environment names (trusted explicitly: nothing of
the system's trust store, and verification is never turned off), name the service's domain,
match its private key, keep that key to its owner (mode 0600), and stay valid from deploy
time through the monitoring window plus a margin. A certificate that expires inside that
window fails naming the date. Pure over PEM bytes: the caller reads the files; the key's
bytes are only compared, never put into a message.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from handoff.checks.finding import Finding
from handoff.contract.quantities import format_seconds
from handoff.evidence.model import EvidenceStatus


@dataclass(frozen=True)
class CertificateFiles:
    """What the router serves and probes trust, as read from the environment's files."""

    ca_pem: bytes
    chain_pem: bytes  # the certificate, then any intermediates
    key_pem: bytes
    key_mode: int  # st_mode of the key file


@dataclass(frozen=True)
class Window:
    """The span the certificate must cover: deploy time to the monitoring end plus a margin."""

    now: datetime
    deploy_at: datetime
    monitoring_end: datetime
    margin: timedelta

    @property
    def must_last_until(self) -> datetime:
        """Return the last moment the certificate must still be valid."""
        return self.monitoring_end + self.margin


def hostname_matches(domain: str, names: list[str]) -> bool:
    """Tell whether a DNS name matches one of a certificate's (a wildcard covers one label)."""
    domain = domain.lower().rstrip(".")
    for name in (n.lower().rstrip(".") for n in names):
        if name == domain:
            return True
        if name.startswith("*.") and "." in domain and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.value.get_values_for_type(x509.DNSName)]


def _chain_problem(
    chain: list[x509.Certificate], ca: list[x509.Certificate], name: str, at: datetime
) -> str:
    """Return why the chain does not verify to the CA for ``name`` at ``at``, or ''."""
    verifier = PolicyBuilder().store(Store(ca)).time(at).build_server_verifier(x509.DNSName(name))
    try:
        verifier.verify(chain[0], chain[1:])
    except VerificationError as e:
        return f"chain does not verify to the trusted CA: {e}"
    return ""


def judge_certificate(files: CertificateFiles, domain: str, window: Window) -> Finding:
    """Decide the Domain/SSL finding: chain, hostname, key, and validity through the window."""
    try:
        chain = x509.load_pem_x509_certificates(files.chain_pem)
        ca = x509.load_pem_x509_certificates(files.ca_pem)
        key = serialization.load_pem_private_key(files.key_pem, password=None)
    except ValueError as e:
        return Finding(
            EvidenceStatus.FAILED,
            f"certificate files unreadable: {type(e).__name__}",
            {"domain": domain},
            {},
        )
    leaf = chain[0]
    names = _dns_names(leaf)
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    last_expiry = min(c.not_valid_after_utc for c in chain)
    problems = []
    if not_after <= window.now:
        problems.append(f"expired on {not_after:%Y-%m-%d %H:%M} UTC")
    elif not_before > window.now:
        problems.append(f"not valid before {not_before:%Y-%m-%d %H:%M} UTC")
    elif last_expiry < window.must_last_until:
        problems.append(
            f"expires on {last_expiry:%Y-%m-%d %H:%M} UTC, inside the window that must be "
            f"covered until {window.must_last_until:%Y-%m-%d %H:%M} UTC (deploy "
            f"{window.deploy_at:%Y-%m-%d %H:%M}, monitoring end "
            f"{window.monitoring_end:%Y-%m-%d %H:%M}, margin "
            f"{format_seconds(window.margin.total_seconds())})"
        )
    hostname_ok = hostname_matches(domain, names)
    if not hostname_ok:
        problems.append(f"does not name {domain} (names: {', '.join(names) or 'none'})")
    # The chain is judged at a moment the certificate is valid, so an expired or mismatched
    # one still says whether it was issued by the trusted CA.
    at = (
        window.now
        if not_before <= window.now < not_after
        else max(c.not_valid_before_utc for c in (*chain, *ca))
    )
    subject = domain if hostname_ok else (names[0] if names else "")
    if subject and (chain_problem := _chain_problem(chain, ca, subject, at)):
        problems.append(chain_problem)
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        problems.append("the private key does not match the certificate")
    if stat.S_IMODE(files.key_mode) & 0o077:
        problems.append(f"the key file is mode {stat.S_IMODE(files.key_mode):04o}, not 0600")
    ok = not problems
    summary = (
        f"certificate for {domain}: " + "; ".join(problems)
        if problems
        else f"certificate for {domain} chains to the trusted CA, valid until "
        f"{last_expiry:%Y-%m-%d %H:%M} UTC, past {window.must_last_until:%Y-%m-%d %H:%M} UTC "
        "(monitoring end plus margin)"
    )
    return Finding(
        EvidenceStatus.PASSED if ok else EvidenceStatus.FAILED,
        summary,
        {
            "domain": domain,
            "names": names,
            "subject": leaf.subject.rfc4514_string(),
            "issuer": leaf.issuer.rfc4514_string(),
            "not_before": not_before.isoformat(),
            "not_after": not_after.isoformat(),
            "chain_expires": last_expiry.isoformat(),
            "serial": format(leaf.serial_number, "x"),
        },
        {
            "valid_from": window.deploy_at.isoformat(),
            "valid_until": window.must_last_until.isoformat(),
            "key_mode": "0600",
        },
    )
