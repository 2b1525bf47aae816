"""An HTTP worker process of ``tongban serve``: one uvicorn server on an inherited socket.

The supervisor (``api.runtime.supervisor``) binds the listening socket, then starts each
worker as ``python -m api.runtime.worker <fd>`` with the socket passed as file
descriptor ``fd`` (so every worker accepts on one port, and a restarted worker
needs no new bind) and one line of JSON on stdin: the settings, secrets
included, and the ``ChainPlan``. Secrets therefore never appear in the
command line or the environment of a worker.

With a second descriptor (``python -m api.runtime.worker <fd> <wallet-fd>``) the
same server also accepts on the wallet origin's socket, and ``api.webwallet.app.by_socket``
sends each request to the wallet or the API by the socket it arrived on
(docs/wallet.md).

The worker first keeps its metrics in the directory the payload names
(``metricsDir``, shared by every process of the service: ``api.http.metrics``),
then builds its own ``ProvinceParts`` (store, keys, audit log, index reader,
issuer, verifier) and serves ``create_app`` with uvicorn's access log off.

uvicorn answers a request it cannot parse (a malformed ``Content-Length``, a
bad request line or chunk) itself, before any app runs, with a plain-text 400.
``ProblemHttpToolsProtocol`` (uvicorn's httptools protocol, which workers
use) hands it to the app instead, as a request carrying the scope extension
``api.http.middleware.FRAMING_ERROR``: the answer is the 400 ``bad-request``
problem with the usual headers, counted and logged, and the connection closes
(the rest of its bytes cannot be framed).

With ``tls_cert`` set the worker terminates TLS itself (``api.runtime.tls``):
its own ``SSLContext`` goes to uvicorn through ``ssl_context_factory``, SIGHUP
loads the certificate again into it, and ``TlsHttpToolsProtocol`` puts the
client certificate's SPKI fingerprint into each request's scope.

SIGTERM stops a worker gracefully: in-flight requests finish, queued audit
appends commit, the store closes. It dies with the supervisor (parent-death
signal), so nothing outlives a killed service.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any, cast

import uvicorn
from uvicorn._types import HTTPScope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from api.http.app import create_app
from api.http.metrics import share_between_processes
from api.http.middleware import FRAMING_ERROR
from api.http.signin import install_access_tokens, install_signin
from api.runtime.citizen_web import citizen_web, install_citizen_web
from api.runtime.logs import configure_logging
from api.runtime.parts import ChainPlan, open_province
from api.runtime.settings import Settings, SettingsError
from api.runtime.signin import access_tokens, staff_signin
from api.runtime.tls import connection_extensions, reload_context, server_context
from api.webwallet.app import by_socket, wallet_app, wallet_config
from ledger.lifetime import die_with_parent

log = logging.getLogger(__name__)

READY_LINE = "ready"
"""What a worker prints on stdout once it serves."""


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; a request it cannot parse is answered by the app."""

    _malformed = False

    def data_received(self, data: bytes) -> None:
        """Parse ``data``, unless an earlier part of the stream was malformed."""
        if not self._malformed:
            super().data_received(data)

    def _method(self) -> str:
        try:
            return self.parser.get_method().decode("ascii", "replace")
        except Exception:  # noqa: BLE001 - the request line itself may be what is malformed
            return ""

    def send_400_response(self, msg: str) -> None:
        """Run the app on a ``FRAMING_ERROR`` request; its answer closes the connection."""
        if self._malformed:
            return
        self._malformed = True
        self.flow.pause_reading()
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": self._method(),
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": self.root_path,
            "headers": [],
            "state": self.app_state.copy(),
            "extensions": {FRAMING_ERROR: {}},
        }
        cycle = RequestResponseCycle(
            scope=cast(HTTPScope, scope),
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=False,
            on_response=self.on_response_complete,
        )
        cycle.more_body = False
        current = self.cycle
        self.cycle = cycle
        if current is not None and not current.response_complete:
            if not current.more_body:
                # A complete earlier request is being answered: this answer follows it.
                self.pipeline.appendleft((cycle, self.app))
                return
            # The request being read is the malformed one: its app gets a disconnect.
            current.disconnected = True
            current.message_event.set()
        self._start_asgi_task(cycle, self.app)


class TlsHttpToolsProtocol(ProblemHttpToolsProtocol):
    """The protocol of a TLS worker: each request's scope carries the connection's TLS facts.

    uvicorn itself sets no ASGI ``extensions``; this sets ``tls`` and the client
    certificate's SPKI fingerprint (``api.runtime.tls.connection_extensions``),
    computed once per connection, after the handshake. Plain HTTP workers use
    ``ProblemHttpToolsProtocol``, so they pay nothing for it.
    """

    _extensions: dict[str, Any] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Note the connection's TLS extensions, then let uvicorn set it up."""
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            self._extensions = connection_extensions(ssl_object)
        super().connection_made(transport)

    def on_message_begin(self) -> None:
        """Start a request's scope, with the connection's extensions."""
        super().on_message_begin()
        if self._extensions is not None:
            self.scope["extensions"] = self._extensions


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that says ``ready`` on stdout once it accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            sys.stdout.write(READY_LINE + "\n")
            sys.stdout.flush()


def _origin(settings: Settings, url: str | None, port: int) -> str:
    """An origin as browsers reach it: ``url``'s scheme and host, else the socket's."""
    if url is not None:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"
    scheme = "http" if settings.tls_cert is None else "https"
    return f"{scheme}://{settings.http_host}:{port}"


def wallet_origin(settings: Settings) -> str | None:
    """The wallet's origin (docs/wallet.md), or None when the service serves no wallet."""
    if settings.wallet_http_port is None:
        return None
    return _origin(settings, settings.wallet_public_url, settings.wallet_http_port)


def run_worker(fd: int, payload: dict[str, Any], wallet_fd: int | None = None) -> None:
    """Serve the province described by ``payload`` on the listening socket ``fd``.

    ``wallet_fd``: the wallet origin's listening socket (``api.webwallet.app``), if any.
    """
    if payload.get("metricsDir"):
        share_between_processes(Path(payload["metricsDir"]))
    settings = Settings(**payload["settings"])
    plan = ChainPlan.from_json(payload["plan"])
    configure_logging(settings.log_level, settings.log_format)
    try:
        # Checked by the supervisor at start-up; a restarted worker reads the files again.
        tls = server_context(settings)
    except SettingsError as exc:
        log.error("HTTP worker cannot serve TLS: %s", exc)
        raise SystemExit(1) from None
    parts = open_province(settings, plan)
    stop = threading.Event()
    threading.Thread(
        target=parts.keyring.follow, args=(stop,), name="signing-keys", daemon=True
    ).start()
    listener = socket.socket(fileno=fd)
    # What startup built lives as long as the worker: out of the collector's reach, a
    # full collection during a 1,000-credential batch scans only the batch's objects
    # (it paused every request of the worker for ~100 ms, docs/benchmarks.md).
    gc.freeze()
    protocol: type[ProblemHttpToolsProtocol] = ProblemHttpToolsProtocol
    tls_options: dict[str, Any] = {}
    if tls is not None:
        protocol = TlsHttpToolsProtocol
        tls_options["ssl_context_factory"] = lambda config, default: tls
        signal.signal(signal.SIGHUP, lambda signum, frame: reload_context(tls, settings))
    else:
        # A hangup sent to the whole process group must not end a plain worker.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    context = parts.context()
    app = create_app(context)
    try:
        signin = staff_signin(settings, context)
        checker = access_tokens(settings)
    except SettingsError as exc:
        log.error("HTTP worker cannot offer staff sign-in: %s", exc)
        raise SystemExit(1) from None
    if signin is not None:
        install_signin(app, signin)
    if checker is not None:
        install_access_tokens(app, checker)
    try:
        # Checked by the supervisor at start-up; a restarted worker reads the file again.
        install_citizen_web(app, citizen_web(settings))
    except SettingsError as exc:
        log.error("HTTP worker cannot serve the citizen's wallets: %s", exc)
        raise SystemExit(1) from None
    sockets = [listener]
    served: Any = app
    origin = wallet_origin(settings)
    if wallet_fd is not None and origin is not None:
        wallet_listener = socket.socket(fileno=wallet_fd)
        sockets.append(wallet_listener)
        # The OpenID4VP public routes allow the wallet's origin (api.portal.ask).
        app.state.wallet_origins = (origin,)
        api_origin = _origin(settings, settings.public_url, settings.http_port)
        # The page fetches other provinces' status lists and timelines (the directory's
        # origins) and reads keys and anchors from the province's own chain node.
        page_config = wallet_config(
            api_origin,
            getattr(app.state, "consortium_directory", None),
            parts.plan.rpc_url,
            parts.plan.addresses.audit_anchor,
        )
        served = by_socket(app, wallet_app(page_config), wallet_listener.getsockname()[1])
    config = uvicorn.Config(
        served,
        access_log=False,
        lifespan="off",
        # The C parser and loop (pinned dependencies), not the pure-Python h11 and
        # asyncio defaults (docs/benchmarks.md); malformed requests get problems.
        http=protocol,
        loop="uvloop",
        log_config=None,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=30,
        **tls_options,
    )
    try:
        _ReadyServer(config).run(sockets=sockets)
    finally:
        stop.set()
        parts.close()


def main() -> None:
    """Entry point: ``python -m api.runtime.worker <fd>`` with the payload on stdin."""
    die_with_parent(signal.SIGTERM)  # a graceful stop: queued audit appends commit
    fd = int(sys.argv[1])
    wallet_fd = int(sys.argv[2]) if len(sys.argv) > 2 else None
    payload = json.loads(sys.stdin.readline())
    run_worker(fd, payload, wallet_fd)


if __name__ == "__main__":
    main()
