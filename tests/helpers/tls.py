"""Real X.509 material for TLS tests: a CA, server and client certificates, TLS connections."""

from __future__ import annotations

import datetime
import hashlib
import http.client
import ipaddress
import json
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path
    certificate: x509.Certificate

    @property
    def spki_sha256(self) -> bytes:
        """SHA-256 of the certificate's SubjectPublicKeyInfo."""
        spki = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(spki).digest()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path, password: bytes | None) -> None:
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if password is None
        else serialization.BestAvailableEncryption(password)
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    path.chmod(0o600)


class Authority:
    """A test CA (ECDSA P-256) that writes the certificates it signs into a directory."""

    def __init__(self, directory: Path, name: str = "Tongban test CA") -> None:
        """Create the CA and write ``<name>.pem`` into ``directory``."""
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert = directory / f"{name.replace(' ', '-')}.pem"
        self.cert.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(
        self, stem: str, common_name: str, *, server: bool, password: bytes | None = None
    ) -> Issued:
        """A new key and a certificate for it: ``stem.pem`` and ``stem.key`` (PKCS#8)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _DAY)
            .not_valid_after(now + 30 * _DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        certificate = builder.sign(self.key, hashes.SHA256())
        cert = self.directory / f"{stem}.pem"
        key_path = self.directory / f"{stem}.key"
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path, password)
        return Issued(cert, key_path, certificate)


def client_context(
    ca: Path,
    client: Issued | None = None,
    *,
    version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A TLS client context trusting ``ca``, presenting ``client``, pinned to ``version``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=ca)
    if version is not None:
        if version < ssl.TLSVersion.TLSv1_2:
            # Let this client offer what OpenSSL's default security level forbids, so
            # that a refusal comes from the server.
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 and 1.1, on purpose
            context.minimum_version = version
            context.maximum_version = version
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


@dataclass(frozen=True)
class TlsReply:
    """An HTTPS answer and the TLS facts of its connection."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    server_spki_sha256: bytes
    version: str | None


def https_request(
    url: str,
    path: str,
    context: ssl.SSLContext,
    *,
    token: str | None = None,
) -> TlsReply:
    """GET ``path`` from ``url`` on a new TLS connection."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port, context=context, timeout=30
    )
    try:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        raw = answer.read()
        sock = connection.sock
        assert isinstance(sock, ssl.SSLSocket)
        der = sock.getpeercert(binary_form=True)
        assert der is not None
        served = (
            x509.load_der_x509_certificate(der)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return TlsReply(
            answer.status,
            json.loads(raw) if raw else {},
            {k.lower(): v for k, v in answer.getheaders()},
            hashlib.sha256(served).digest(),
            sock.version(),
        )
    finally:
        connection.close()
