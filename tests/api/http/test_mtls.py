"""Mutual TLS (issue #15): client certificates mapped to API clients by SPKI fingerprint.

A real `tongban serve` with TLS and a client CA on 127.0.0.1; API clients are
created and bound with the real `tongban clients` commands; Python's ssl is
the client. Rules under test (docs/tls.md, "Client certificates"):

- public routes answer without any client certificate;
- a certificate bound to an active client authenticates as it, without a token;
- a certificate bound to nobody, or to a revoked client, is 401 on its own;
- a token and a certificate naming different clients is 401; the same, 200;
- a certificate bound to nobody beside a valid token counts as absent.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.province.clients import ClientConflictError, ClientRegistry, InvalidClientError, Role
from ledger.store.database import Database
from tests.helpers.processes import TONGBAN, Served, serve, tongban_env
from tests.helpers.tls import Authority, Issued, client_context, https_request


@dataclass
class MtlsService:
    """A served province with TLS client certificates, and who holds what."""

    served: Served
    data: Path
    ca: Authority
    certs: dict[str, Issued]
    tokens: dict[str, str]

    def get(self, path: str, cert: str | None = None, token: str | None = None) -> int:
        """The status of GET ``path`` with the named client certificate and token."""
        context = client_context(self.ca.cert, None if cert is None else self.certs[cert])
        reply = https_request(self.served.url, path, context, token=token)
        return reply.status


def _tongban(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=tongban_env(),
        timeout=60,
    )


def _create(data: Path, client_id: str, *extra: str) -> str:
    created = _tongban(
        data,
        "clients",
        "create",
        "--name",
        client_id,
        "--org",
        "330000",
        "--role",
        "operator",
        "--id",
        client_id,
        "--json",
        *extra,
    )
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout)["token"])


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MtlsService]:
    root = tmp_path_factory.mktemp("mtls")
    data = root / "data"
    ca = Authority(root / "pki")
    server = ca.issue("server", "localhost", server=True)
    certs = {
        name: ca.issue(name, f"machine {name}", server=False)
        for name in ("alone", "paired", "revoked", "unbound")
    }
    tokens = {
        "alone": _create(data, "ops-alone", "--cert", str(certs["alone"].cert)),
        "paired": _create(data, "ops-paired"),
        "revoked": _create(data, "ops-revoked", "--cert", str(certs["revoked"].cert)),
        "plain": _create(data, "ops-plain"),
    }
    bound = _tongban(
        data, "clients", "bind-cert", "ops-paired", "--cert", str(certs["paired"].cert)
    )
    assert bound.returncode == 0, bound.stderr
    assert _tongban(data, "clients", "revoke", "ops-revoked").returncode == 0
    served = serve(
        root / "serve.log",
        "--data-dir",
        str(data),
        TONGBAN_CHAIN="anvil",
        TONGBAN_TLS_CERT=str(server.cert),
        TONGBAN_TLS_KEY=str(server.key),
        TONGBAN_TLS_CLIENT_CA=str(ca.cert),
    )
    try:
        yield MtlsService(served, data, ca, certs, tokens)
    finally:
        assert served.stop() == 0


def test_public_routes_answer_without_a_client_certificate(mtls: MtlsService) -> None:
    assert mtls.get("/healthz") == 200
    assert mtls.get("/healthz", cert="unbound") == 200
    # A status list route answers without a certificate or token (none is published yet).
    assert mtls.get("/status-lists/1/revocation") == 404


def test_a_bound_client_certificate_alone_authenticates(mtls: MtlsService) -> None:
    assert mtls.get("/clients", cert="alone") == 200
    assert mtls.get("/clients") == 401  # neither token nor certificate


def test_an_unbound_certificate_alone_is_401(mtls: MtlsService) -> None:
    context = client_context(mtls.ca.cert, mtls.certs["unbound"])
    reply = https_request(mtls.served.url, "/clients", context)
    assert reply.status == 401
    assert reply.body["detail"] == "the client certificate is not bound to an active API client"
    assert "www-authenticate" in reply.headers


def test_the_certificate_of_a_revoked_client_is_401(mtls: MtlsService) -> None:
    assert mtls.get("/clients", cert="revoked") == 401


def test_a_token_and_a_certificate_of_one_client_are_accepted(mtls: MtlsService) -> None:
    assert mtls.get("/clients", cert="paired", token=mtls.tokens["paired"]) == 200


def test_a_token_and_a_certificate_naming_different_clients_are_401(mtls: MtlsService) -> None:
    context = client_context(mtls.ca.cert, mtls.certs["alone"])
    reply = https_request(mtls.served.url, "/clients", context, token=mtls.tokens["plain"])
    assert reply.status == 401
    assert "different clients" in reply.body["detail"]


def test_an_unbound_certificate_beside_a_valid_token_counts_as_absent(mtls: MtlsService) -> None:
    assert mtls.get("/clients", cert="unbound", token=mtls.tokens["plain"]) == 200
    assert mtls.get("/clients", token=mtls.tokens["plain"]) == 200


def test_binding_and_unbinding_take_effect_at_once(mtls: MtlsService) -> None:
    cert = mtls.ca.issue("later", "machine later", server=False)
    mtls.certs["later"] = cert
    assert mtls.get("/clients", cert="later") == 401
    bound = _tongban(mtls.data, "clients", "bind-cert", "ops-plain", "--cert", str(cert.cert))
    assert bound.returncode == 0, bound.stderr
    assert cert.spki_sha256.hex() in bound.stdout
    assert mtls.get("/clients", cert="later") == 200
    unbound = _tongban(mtls.data, "clients", "bind-cert", "ops-plain", "--unbind", "--json")
    assert unbound.returncode == 0, unbound.stderr
    assert json.loads(unbound.stdout)["certificateSpkiSha256"] is None
    assert mtls.get("/clients", cert="later") == 401


def test_bind_cert_refusals_are_one_line(mtls: MtlsService) -> None:
    cases = [
        ("ops-plain",),  # neither --cert nor --unbind
        ("ops-plain", "--cert", str(mtls.certs["alone"].cert)),  # bound to ops-alone
        ("ops-plain", "--cert", str(mtls.certs["alone"].key)),  # not a certificate
        ("nobody", "--cert", str(mtls.certs["unbound"].cert)),
    ]
    for args in cases:
        refused = _tongban(mtls.data, "clients", "bind-cert", *args)
        assert refused.returncode != 0, args
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, (args, refused.stderr)
        assert "Traceback" not in refused.stderr


def test_the_registry_keeps_one_client_per_certificate_key(any_db: Database) -> None:
    # On SQLite and PostgreSQL: migration 2 (cert_spki BLOB, a unique index) on both.
    registry = ClientRegistry(any_db)
    first = registry.create("first", "330000", [Role.VERIFIER], client_id="first").client
    second = registry.create("second", "330000", [Role.VERIFIER], client_id="second").client
    key = bytes(range(32))
    registry.bind_certificate(first.client_id, key)
    assert registry.find_by_certificate(key) == first
    assert registry.certificate_of(first.client_id) == key
    with pytest.raises(ClientConflictError):
        registry.bind_certificate(second.client_id, key)
    with pytest.raises(InvalidClientError):
        registry.bind_certificate(second.client_id, b"short")
    registry.bind_certificate(first.client_id, None)
    assert registry.find_by_certificate(key) is None
    registry.bind_certificate(second.client_id, key)
    assert registry.find_by_certificate(key) == second
