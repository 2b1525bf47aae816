"""Transport security of ``tongban serve``: the server's TLS context, its reload, the peer's key.

The HTTP workers terminate TLS themselves (docs/tls.md). Each builds one
``ssl.SSLContext`` from ``tls_cert``/``tls_key`` (TLS 1.2 at least) and hands
it to uvicorn through ``ssl_context_factory``, so the worker keeps the object
every new handshake uses: on SIGHUP (which the supervisor forwards to every
worker) ``reload_context`` loads the files again into that same context. A new
certificate that does not load keeps the old one and logs one line.

With ``tls_client_ca`` the context asks for a client certificate but does not
require one (``CERT_OPTIONAL``): public routes stay reachable from browsers,
while a machine client may authenticate by its certificate. A presented
certificate must chain to that CA or the handshake fails.

The pinned uvicorn puts nothing about TLS into the ASGI scope, so the worker's
protocol (``api.runtime.worker``) asks ``connection_extensions`` once per
connection: the ASGI TLS extension (``scope["extensions"]["tls"]``) and the
SHA-256 of the peer certificate's SubjectPublicKeyInfo under
``api.http.auth.CLIENT_CERTIFICATE``, which authentication maps to an API client.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.http.auth import CLIENT_CERTIFICATE
from api.runtime.settings import Settings, SettingsError

__all__ = [
    "TlsFiles",
    "certificate_fingerprint",
    "check_transport",
    "connection_extensions",
    "is_loopback",
    "reload_context",
    "server_context",
    "spki_fingerprint",
]

log = logging.getLogger(__name__)

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


@dataclass(frozen=True)
class TlsFiles:
    """The files TLS is served from (paths as configured)."""

    cert: Path
    key: Path
    client_ca: Path | None


class _EncryptedKeyError(Exception):
    """The key file asks for a passphrase, which the service never has."""


def _no_passphrase() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key.
    raise _EncryptedKeyError


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost`` or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def spki_fingerprint(der: bytes) -> bytes:
    """SHA-256 of the SubjectPublicKeyInfo of the DER certificate ``der`` (32 bytes)."""
    public = x509.load_der_x509_certificate(der).public_key()
    return hashlib.sha256(
        public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ).digest()


def certificate_fingerprint(path: Path) -> bytes:
    """The SPKI fingerprint of the first certificate in the PEM file ``path``.

    Raises ``SettingsError`` naming the file (never its content) when it is
    unreadable or holds no certificate.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read certificate file {path} ({exc.strerror})") from None
    try:
        certificate = x509.load_pem_x509_certificates(data)[0]
    except (ValueError, IndexError):
        raise SettingsError(f"{path} holds no PEM certificate") from None
    return spki_fingerprint(certificate.public_bytes(Encoding.DER))


def check_transport(settings: Settings) -> TlsFiles | None:
    """The TLS files, or None for plain HTTP; ``SettingsError`` (one line) on a bad combination.

    Refused: a certificate without a key or the reverse, a client CA without a
    certificate, and plain HTTP on a non-loopback ``http_host`` unless
    ``allow_plain_http``. The files themselves are checked by ``server_context``.
    """
    cert, key, client_ca = settings.tls_cert, settings.tls_key, settings.tls_client_ca
    if (cert is None) != (key is None):
        given, missing = ("TLS_CERT", "TLS_KEY") if key is None else ("TLS_KEY", "TLS_CERT")
        raise SettingsError(
            f"TONGBAN_{given} is set without TONGBAN_{missing}; set both or neither"
        )
    if cert is None or key is None:
        if client_ca is not None:
            raise SettingsError(
                "TONGBAN_TLS_CLIENT_CA needs TLS: set TONGBAN_TLS_CERT and TONGBAN_TLS_KEY too"
            )
        if not is_loopback(settings.http_host) and not settings.allow_plain_http:
            raise SettingsError(
                f"plain HTTP on the non-loopback address {settings.http_host} is refused: set "
                "TONGBAN_TLS_CERT and TONGBAN_TLS_KEY, or TONGBAN_ALLOW_PLAIN_HTTP=true when a "
                "proxy in front terminates TLS (docs/tls.md)"
            )
        return None
    return TlsFiles(cert, key, client_ca)


def _load_chain(context: ssl.SSLContext, cert: Path, key: Path) -> None:
    try:
        context.load_cert_chain(cert, key, password=_no_passphrase)
    except _EncryptedKeyError:
        raise SettingsError(
            f"TLS key {key} is encrypted; give the service an unencrypted key readable only by it"
        ) from None
    except FileNotFoundError:
        raise SettingsError(f"cannot read TLS files {cert} and {key} (no such file)") from None
    except PermissionError:
        raise SettingsError(f"cannot read TLS files {cert} and {key} (permission denied)") from None
    except ssl.SSLError as exc:
        raise SettingsError(
            f"TLS certificate {cert} and key {key} do not load together ({exc.reason or 'invalid'})"
        ) from None
    except OSError as exc:
        raise SettingsError(f"cannot read TLS files {cert} and {key} ({exc.strerror})") from None


def _new_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, files.cert, files.key)
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca)
        except (OSError, ssl.SSLError):
            raise SettingsError(
                f"TLS client CA {files.client_ca} is unreadable or holds no PEM certificate"
            ) from None
        # Optional: public routes (status lists, the citizen's browser routes) need none.
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2+), or None for plain HTTP; ``SettingsError`` if bad."""
    files = check_transport(settings)
    return None if files is None else _new_context(files)


def reload_context(context: ssl.SSLContext, settings: Settings) -> bool:
    """Load ``tls_cert``/``tls_key`` again into ``context``; False (old one kept) if they fail.

    The files are copied once into a private directory and that copy is loaded
    twice: first into a scratch context, which must accept it, then into the
    live one. A file replaced between the two loads cannot leave the live
    context half-updated (OpenSSL sets the certificate before it checks the key).
    """
    files = check_transport(settings)
    if files is None:
        return False
    with tempfile.TemporaryDirectory(prefix="tongban-tls-") as directory:
        cert = Path(directory) / "cert.pem"
        key = Path(directory) / "key.pem"
        try:
            shutil.copyfile(files.cert, cert)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(files.key.read_bytes())
            scratch = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            _load_chain(scratch, cert, key)
        except OSError as exc:
            log.error("TLS reload failed; still serving the old certificate (%s)", exc.strerror)
            return False
        except SettingsError as exc:
            log.error("TLS reload failed; still serving the old certificate: %s", exc)
            return False
        try:
            context.load_cert_chain(cert, key, password=_no_passphrase)
        except (OSError, _EncryptedKeyError):
            # Not expected after the scratch load; this runs in a signal handler, so never raise.
            log.error("TLS reload failed in the live context after a clean check")
            return False
    log.info("TLS certificate reloaded")
    return True


def connection_extensions(ssl_object: Any) -> dict[str, Any]:
    """The ASGI scope extensions of a TLS connection (``ssl_object``: its ``ssl.SSLObject``).

    ``tls`` follows the ASGI TLS extension (the leaf of the client's chain only:
    Python 3.11 exposes no verified chain); ``CLIENT_CERTIFICATE`` holds the
    SPKI fingerprint of a presented client certificate, which the handshake
    has already verified against ``tls_client_ca``.
    """
    der: bytes | None = ssl_object.getpeercert(binary_form=True)
    tls: dict[str, Any] = {
        "server_cert": None,
        "client_cert_chain": [] if der is None else [ssl.DER_cert_to_PEM_cert(der)],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        # Python names the suite; the extension wants its IANA number, which it does not give.
        "cipher_suite": None,
    }
    extensions: dict[str, Any] = {"tls": tls}
    if der is not None:
        extensions[CLIENT_CERTIFICATE] = {"spki_sha256": spki_fingerprint(der)}
    return extensions
