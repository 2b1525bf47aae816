"""A real province API for tests: a temp store, an audit log, uvicorn on 127.0.0.1.

``running_province`` builds a ``ProvinceContext`` on a fresh SQLite store (or
on the store a ``StoreTarget`` names, so a test can run on either engine),
creates one API client per role, serves ``create_app(context)`` with uvicorn
in a thread on a socket bound to a free port, and stops it all afterwards.
Requests go over real HTTP with ``http.client`` (no httpx needed).

With a ``World`` (the deployed test consortium) the province's key is
registered on chain and checkpoints can be anchored (``Province.anchor``).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.http.app import create_app
from api.http.context import ApiLimits, ProvinceContext, RateLimits
from api.province.clients import Role
from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.events import AccessEvent
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.agencies import register_test_agency
from tests.helpers.contracts import ZJ, World
from tests.helpers.stores import StoreTarget

ORG = "330000"
PURPOSE = {"X-Purpose": "audit.review", "X-Legal-Basis": "prc.pipl.art13"}


@dataclass
class Reply:
    """An HTTP answer."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class ApiServer:
    """uvicorn serving ``app`` in a thread, on a socket bound before start (no port race)."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request; ``json_body`` is encoded with Content-Type application/json."""
        sent: dict[str, str] = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()


class Province:
    """One province's API, served for a test, with a token per role."""

    def __init__(
        self,
        tmp_path: Path,
        world: World | None,
        *,
        rate_limits: RateLimits | None = None,
        limits: ApiLimits | None = None,
        store: StoreTarget | None = None,
    ) -> None:
        self.world = world
        self.db: Database = (
            SqliteDatabase(tmp_path / "store.sqlite") if store is None else store.open()
        )
        self.signer = LocalSigner("audit-2026", Sm2PrivateKey.generate())
        self.pseudonyms = PseudonymKeys.generate()
        self.log = AuditLog(self.db, ZJ, self.signer, self.pseudonyms)
        self.anchorer: CheckpointAnchorer | None = None
        self.processor: OutboxProcessor | None = None
        chain_id = 31337
        if world is not None:
            world.registry.add_key(
                world.zj_admin, ZJ, self.signer.key_id, self.signer.public_key.compressed()
            )
            chain_id = world.client.chain_id
            self.anchorer = CheckpointAnchorer(self.log, chain_id, world.audit, CheckpointPolicy())
            writer = world.accounts.zj_writer
            self.processor = OutboxProcessor(
                self.db, NonceManager(world.client, writer, OutboxJournal(self.db, writer.address))
            )
            self.anchorer.register(self.processor)
        self.context = ProvinceContext.build(
            self.db,
            self.log,
            chain_id,
            anchorer=self.anchorer,
            chain=None if world is None else world.client,
            rate_limits=rate_limits,
            limits=limits,
        )
        self.tokens: dict[Role, str] = {}
        agencies = [register_test_agency(self.db)]
        for role in Role:
            issued = self.context.clients.create(
                f"{role.value} app", ORG, [role], client_id=f"{role.value}-app", agencies=agencies
            )
            self.tokens[role] = issued.token
        self.app = create_app(self.context)
        self.server = ApiServer(self.app)

    def anchor(self) -> None:
        """Checkpoint the log now and wait until the checkpoint is final on chain."""
        assert self.anchorer is not None
        assert self.processor is not None
        self.anchorer.maybe_checkpoint(force=True)
        self.processor.run_until_final()

    def events(self) -> list[AccessEvent]:
        """Every event in the log, in order."""
        return [r.event for r in self.log.iterate()]

    def close(self) -> None:
        self.server.stop()
        self.log.close()
        self.db.close()

    def request(self, method: str, path: str, role: Role | None = None, **kwargs: Any) -> Reply:
        """A request with the token of ``role`` (None: no token)."""
        token = None if role is None else self.tokens[role]
        return self.server.request(method, path, token=token, **kwargs)


@contextmanager
def running_province(
    tmp_path: Path,
    world: World | None = None,
    *,
    rate_limits: RateLimits | None = None,
    limits: ApiLimits | None = None,
    store: StoreTarget | None = None,
) -> Iterator[Province]:
    """A served province for the duration of the ``with`` block (on ``store``, else SQLite)."""
    province = Province(tmp_path, world, rate_limits=rate_limits, limits=limits, store=store)
    province.server.start()
    try:
        yield province
    finally:
        province.close()


def event_body(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /audit/events`` body."""
    body: dict[str, Any] = {
        "action": "credential.verify",
        "resource": "credential:" + f"{n:064x}",
        "purpose": "cross-province.enrolment",
        "legalBasis": "prc.pipl.art13",
        "outcome": "success",
        "subjectId": "did:key:zHolderNumber",
    }
    body.update(overrides)
    return body
