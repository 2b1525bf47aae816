"""TLS in `tongban serve` (issue #15): versions, start-up refusals, certificate reload on SIGHUP.

A real `tongban serve` on 127.0.0.1 with a CA, server and client certificates
made here; Python's ssl is the client.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.runtime.parts import status_lists_base
from api.runtime.settings import Settings, SettingsError
from api.runtime.tls import (
    certificate_fingerprint,
    check_transport,
    is_loopback,
    reload_context,
    server_context,
    spki_fingerprint,
)
from tests.helpers.processes import TONGBAN, Served, serve, tongban_env
from tests.helpers.tls import Authority, Issued, client_context, https_request


@dataclass
class TlsService:
    """A running TLS service and the PKI it was given."""

    served: Served
    ca: Authority
    server: Issued
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsService]:
    root = tmp_path_factory.mktemp("tls")
    ca = Authority(root / "pki")
    server = ca.issue("server", "localhost", server=True)
    # The service reads these paths; the tests replace their content to reload.
    cert, key = root / "live.pem", root / "live.key"
    shutil.copyfile(server.cert, cert)
    shutil.copyfile(server.key, key)
    served = serve(
        root / "serve.log",
        "--data-dir",
        str(root / "data"),
        TONGBAN_CHAIN="anvil",
        TONGBAN_TLS_CERT=str(cert),
        TONGBAN_TLS_KEY=str(key),
        TONGBAN_TLS_CLIENT_CA=str(ca.cert),
    )
    try:
        yield TlsService(served, ca, server, cert, key)
    finally:
        assert served.stop() == 0


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- start-up checks


def test_a_certificate_without_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TONGBAN_TLS_CERT is set without TONGBAN_TLS_KEY"):
        check_transport(_settings(tmp_path, tls_cert=tmp_path / "c.pem"))
    with pytest.raises(SettingsError, match="TONGBAN_TLS_KEY is set without TONGBAN_TLS_CERT"):
        check_transport(_settings(tmp_path, tls_key=tmp_path / "k.pem"))


def test_a_client_ca_without_tls_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TONGBAN_TLS_CLIENT_CA needs TLS"):
        check_transport(_settings(tmp_path, tls_client_ca=tmp_path / "ca.pem"))


def test_plain_http_binds_loopback_only_unless_overridden(tmp_path: Path) -> None:
    assert check_transport(_settings(tmp_path)) is None
    with pytest.raises(SettingsError, match=r"plain HTTP on the non-loopback address 0\.0\.0\.0"):
        check_transport(_settings(tmp_path, http_host="0.0.0.0"))
    assert check_transport(_settings(tmp_path, http_host="0.0.0.0", allow_plain_http=True)) is None
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "10.0.0.1", "::")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_mismatched_unreadable_and_encrypted_tls_files_are_refused(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki")
    one = ca.issue("one", "localhost", server=True)
    two = ca.issue("two", "localhost", server=True)
    locked = ca.issue("locked", "localhost", server=True, password=b"secret")
    with pytest.raises(SettingsError, match="do not load together"):
        server_context(_settings(tmp_path, tls_cert=one.cert, tls_key=two.key))
    with pytest.raises(SettingsError, match="no such file"):
        server_context(_settings(tmp_path, tls_cert=tmp_path / "gone.pem", tls_key=one.key))
    with pytest.raises(SettingsError, match="is encrypted"):
        server_context(_settings(tmp_path, tls_cert=locked.cert, tls_key=locked.key))
    with pytest.raises(SettingsError, match="client CA"):
        server_context(
            _settings(tmp_path, tls_cert=one.cert, tls_key=one.key, tls_client_ca=one.key)
        )
    context = server_context(_settings(tmp_path, tls_cert=one.cert, tls_key=one.key))
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE


def test_a_reload_that_fails_keeps_the_loaded_certificate(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki")
    one = ca.issue("one", "localhost", server=True)
    two = ca.issue("two", "localhost", server=True)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copyfile(one.cert, cert)
    shutil.copyfile(one.key, key)
    settings = _settings(tmp_path, tls_cert=cert, tls_key=key)
    context = server_context(settings)
    assert context is not None
    shutil.copyfile(two.cert, cert)  # the new certificate, but still the old key
    assert reload_context(context, settings) is False
    assert _handshake(context, ca) == one.spki_sha256  # nothing half-loaded
    shutil.copyfile(two.key, key)
    assert reload_context(context, settings) is True
    assert _handshake(context, ca) == two.spki_sha256


def _handshake(server: ssl.SSLContext, ca: Authority) -> bytes:
    """The SPKI fingerprint a client sees in a handshake with ``server`` (in memory)."""
    der = _pair(server, client_context(ca.cert)).getpeercert(binary_form=True)
    assert der is not None
    return spki_fingerprint(der)


def _pair(server: ssl.SSLContext, client_side: ssl.SSLContext) -> ssl.SSLObject:
    """The client end of a handshake between the two contexts, in memory."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_side.wrap_bio(client_in, client_out, server_hostname="localhost")
    served = server.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):
        for end in (client, served):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
        server_in.write(client_out.read())
        client_in.write(server_out.read())
    return client


def test_status_list_urls_default_to_https_with_tls(tmp_path: Path) -> None:
    tls = {"tls_cert": tmp_path / "c.pem", "tls_key": tmp_path / "k.pem"}
    plain = _settings(tmp_path, http_port=8443)
    assert status_lists_base(plain) == "http://127.0.0.1:8443"
    assert status_lists_base(_settings(tmp_path, http_port=8443, **tls)) == "https://127.0.0.1:8443"
    given = _settings(tmp_path, http_port=8443, public_url="https://gov.example/api", **tls)
    assert status_lists_base(given) == "https://gov.example/api"


def test_the_fingerprint_is_the_sha256_of_the_subject_public_key_info(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki")
    client = ca.issue("client", "machine", server=False)
    assert certificate_fingerprint(client.cert) == client.spki_sha256
    with pytest.raises(SettingsError, match="holds no PEM certificate"):
        certificate_fingerprint(client.key)


def test_serve_refuses_plain_http_on_a_wildcard_address_in_one_line(tmp_path: Path) -> None:
    refused = subprocess.run(
        [TONGBAN, "serve", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env=tongban_env(TONGBAN_HTTP_HOST="0.0.0.0", TONGBAN_CHAIN="anvil"),
    )
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "plain HTTP on the non-loopback address" in lines[0]
    assert "Traceback" not in refused.stderr


def test_serve_refuses_a_certificate_without_its_key_in_one_line(tmp_path: Path) -> None:
    ca = Authority(tmp_path / "pki")
    one = ca.issue("one", "localhost", server=True)
    refused = subprocess.run(
        [TONGBAN, "serve", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        env=tongban_env(TONGBAN_TLS_CERT=str(one.cert), TONGBAN_CHAIN="anvil"),
    )
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "TONGBAN_TLS_KEY" in lines[0]


# ---------------------------------------------------------------- a served TLS API


def test_the_api_url_is_https(tls_service: TlsService) -> None:
    assert tls_service.served.url.startswith("https://127.0.0.1:")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_accepted(tls_service: TlsService, version: ssl.TLSVersion) -> None:
    reply = https_request(
        tls_service.served.url, "/healthz", client_context(tls_service.ca.cert, version=version)
    )
    assert reply.status == 200
    assert reply.version == version.name.replace("_", ".")


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_before_1_2_is_refused_by_the_server(
    tls_service: TlsService, version: ssl.TLSVersion
) -> None:
    context = client_context(tls_service.ca.cert, version=version)
    # Control: this client does offer the old version (a server allowing it agrees on it).
    permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    permissive.load_cert_chain(tls_service.server.cert, tls_service.server.key)
    assert _pair(permissive, context).version() == version.name.replace("_", ".")
    with pytest.raises(ssl.SSLError):
        https_request(tls_service.served.url, "/healthz", context)


def test_a_client_certificate_from_another_ca_fails_the_handshake(
    tls_service: TlsService, tmp_path: Path
) -> None:
    stranger = Authority(tmp_path / "other", "Other CA").issue("c", "machine", server=False)
    context = client_context(tls_service.ca.cert, stranger)
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        https_request(tls_service.served.url, "/healthz", context)


def _served_key(service: TlsService) -> bytes:
    return https_request(
        service.served.url, "/healthz", client_context(service.ca.cert)
    ).server_spki_sha256


def _wait_for(condition: object, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_sighup_serves_a_new_certificate_and_a_bad_one_keeps_the_old(
    tls_service: TlsService,
) -> None:
    assert _served_key(tls_service) == tls_service.server.spki_sha256
    renewed = tls_service.ca.issue("renewed", "localhost", server=True)
    shutil.copyfile(renewed.key, tls_service.key)
    shutil.copyfile(renewed.cert, tls_service.cert)
    tls_service.served.process.send_signal(signal.SIGHUP)
    _wait_for(lambda: _served_key(tls_service) == renewed.spki_sha256, "the renewed certificate")
    # Both workers: several new connections all see it.
    assert {_served_key(tls_service) for _ in range(8)} == {renewed.spki_sha256}

    tls_service.cert.write_text("not a certificate\n")
    tls_service.served.process.send_signal(signal.SIGHUP)
    _wait_for(
        lambda: "TLS reload refused" in tls_service.served.log.read_text(),
        "the refusal's log line",
    )
    assert {_served_key(tls_service) for _ in range(8)} == {renewed.spki_sha256}
    assert tls_service.served.process.poll() is None

    # A worker restarted while the files are bad says so in one line; the other serves on.
    os.kill(_workers(tls_service.served.process.pid)[0], signal.SIGKILL)
    _wait_for(
        lambda: "HTTP worker cannot serve TLS" in tls_service.served.log.read_text(),
        "the restarted worker's line",
    )
    assert _served_key(tls_service) == renewed.spki_sha256
    shutil.copyfile(renewed.cert, tls_service.cert)
    _wait_for(lambda: len(_workers(tls_service.served.process.pid)) == 2, "two workers again")
    assert "Traceback" not in tls_service.served.log.read_text()


def _workers(supervisor: int) -> list[int]:
    """The pids of the supervisor's HTTP worker processes."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    found = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"api.runtime.worker" in command:
            found.append(int(child))
    return found


def test_sighup_without_tls_is_ignored_with_a_warning(tmp_path: Path) -> None:
    served = serve(
        tmp_path / "serve.log", "--data-dir", str(tmp_path / "data"), TONGBAN_CHAIN="anvil"
    )
    try:
        assert served.url.startswith("http://127.0.0.1:")
        served.process.send_signal(signal.SIGHUP)
        _wait_for(
            lambda: "SIGHUP ignored: TLS is not configured" in served.log.read_text(),
            "the warning",
        )
        with urllib.request.urlopen(served.url + "/healthz", timeout=30) as answer:
            assert answer.status == 200
        assert served.process.poll() is None
    finally:
        assert served.stop() == 0
