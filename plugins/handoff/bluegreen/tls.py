"""The live listener's certificate in the router: installed before it starts, renewed hitless.

The certificate and key go into the router's state volume as a tar (`put_archive`), mode
0600 and owned by the router's haproxy user, so no key passes through an environment
variable, a command line or a log. A renewal writes the new file beside the old one, then
hands it to HAProxy through the runtime API (`set ssl cert` + `commit ssl cert`): new
handshakes get the new certificate, open keep-alive connections carry on, nothing reloads.
Only then does the file replace the old one, so a restarted router serves the renewed one.
"""

from __future__ import annotations

import io
import ssl
import tarfile
import time
from pathlib import Path, PurePosixPath

from docker.models.containers import Container

from handoff.bluegreen import probe
from handoff.bluegreen.config import LiveTls
from handoff.bluegreen.errors import BlueGreenError
from handoff.bluegreen.haproxy_cfg import TLS_PEM_PATH

_PEM = PurePosixPath(TLS_PEM_PATH)
_STATE_DIR = _PEM.parent.parent  # the state volume's mount point
NEW_SUFFIX = ".new"

# Run in the router: the new file through the runtime API, then over the old file.
RENEW_SCRIPT = f"""\
import os, socket, sys
path = "{_PEM}"
def cli(text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect("/run/haproxy/admin.sock")
    s.sendall(text.encode())
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode("utf-8", "replace").strip()
with open(path + "{NEW_SUFFIX}") as f:
    pem = f.read().strip()
started = cli("set ssl cert " + path + " <<\\n" + pem + "\\n\\n")
committed = cli("commit ssl cert " + path + "\\n")
print(started.splitlines()[0] if started else "(no answer)")
print(committed.replace(chr(10), " "))
if "Success" not in committed:
    cli("abort ssl cert " + path + "\\n")
    sys.exit(4)
os.replace(path + "{NEW_SUFFIX}", path)
"""


def client_of(live_tls: LiveTls | None) -> tuple[str, ssl.SSLContext] | None:
    """Return what a probe of the live listener verifies: (domain, context trusting the CA)."""
    if live_tls is None:
        return None
    return live_tls.domain, probe.trusting(live_tls.ca_file)


def read_pem(live_tls: LiveTls) -> bytes:
    """Return certificate, chain and key as HAProxy reads them; refuse a key others can read."""
    key = Path(live_tls.key_file)
    mode = key.stat().st_mode & 0o777
    if mode & 0o077:
        raise BlueGreenError(f"live TLS: {key} is mode {mode:04o}; a private key must be 0600")
    cert = Path(live_tls.cert_file).read_bytes()
    return cert.rstrip(b"\n") + b"\n" + key.read_bytes()


def _owner(container: Container) -> tuple[int, int]:
    """Return the uid and gid of the router image's haproxy user (from its /etc/passwd)."""
    stream, _ = container.get_archive("/etc/passwd")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile("passwd")
        assert member is not None
        for line in member.read().decode().splitlines():
            fields = line.split(":")
            if fields[0] == "haproxy":
                return int(fields[2]), int(fields[3])
    raise BlueGreenError("live TLS: the router image has no haproxy user")


def _archive(name: str, data: bytes, uid: int, gid: int) -> bytes:
    """Return a tar of the tls folder (0700) holding ``name`` (0600), owned by uid:gid."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo(_PEM.parent.name)
        folder.type, folder.mode, folder.uid, folder.gid = tarfile.DIRTYPE, 0o700, uid, gid
        folder.mtime = int(time.time())
        tar.addfile(folder)
        member = tarfile.TarInfo(f"{_PEM.parent.name}/{name}")
        member.size, member.mode, member.uid, member.gid = len(data), 0o600, uid, gid
        member.mtime = int(time.time())
        tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def put_pem(container: Container, pem: bytes, renewal: bool) -> None:
    """Write the certificate file (or, for a renewal, the one beside it) into the router."""
    uid, gid = _owner(container)
    name = _PEM.name + (NEW_SUFFIX if renewal else "")
    if not container.put_archive(str(_STATE_DIR), _archive(name, pem, uid, gid)):
        raise BlueGreenError(f"live TLS: could not write {name} into {container.name}")
