"""``tongban serve``: the supervisor, which is also the province's one writer process.

Start-up, in order (any failure undoes what was started and ends in one
``error:`` line):

1. ``start_chain``: lock the data directory, reach or start the chain, load
   the EVM account, deploy or join the consortium (and seed the demo);
2. ``provision_issuer``: check the issuer's admission, appoint this account as
   a writer and register the signing keys when it is the admin;
3. empty the metrics directory (``data_dir/metrics``, shared by every process
   of the service: ``api.http.metrics``), open the province's parts as the
   writer, sync the chain index once, start the writer loop (outbox, batches,
   checkpoints, index) under the lease;
4. bind the HTTP socket (and the wallet origin's, with ``wallet_http_port``: docs/wallet.md)
   and start ``workers`` worker processes on it
   (``api.runtime.worker``), each told the settings, the chain plan and the
   metrics directory on stdin;
5. print the description and ``ready``.

With ``tls_cert`` the TLS files are checked before step 1 (``api.runtime.tls``),
and plain HTTP on a non-loopback address is refused there unless
``allow_plain_http``; SIGHUP then makes every worker load the certificate again.

Then it watches: a worker that dies is restarted (after a pause if it dies
again at once). SIGTERM or Ctrl-C stops the workers (they finish in-flight
requests), then the writer, then the chain node.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from api.http.metrics import WriterMetrics, share_between_processes
from api.runtime.chain_start import StartedChain, start_chain
from api.runtime.citizen_web import citizen_web
from api.runtime.demo import (
    ensure_demo_clients,
    governor_keystore_path,
    second_province_command,
)
from api.runtime.demo_idp import start_demo_idp
from api.runtime.idp import IdpProcess
from api.runtime.parts import ChainPlan, ProvinceParts, open_province
from api.runtime.provision import ProvisionReport, provision_issuer
from api.runtime.settings import Settings, SettingsError
from api.runtime.tls import server_context
from api.runtime.worker import READY_LINE
from api.runtime.writer import WriterLoop, writer_holder, writer_loop
from ledger.chain.contracts.registry import IssuerRegistry

__all__ = [
    "ServiceDescription",
    "Supervisor",
    "run_service",
    "shared_metrics",
    "start_service",
    "watch_until_stopped",
]

log = logging.getLogger(__name__)

WORKER_START_TIMEOUT = 60.0
_RESTART_PAUSE = 1.0
METRICS_DIRECTORY = "metrics"
"""Folder of the data directory where every process of the service keeps its metrics."""


@dataclass(frozen=True)
class ServiceDescription:
    """What ``tongban serve`` prints once ready."""

    url: str
    runtime: dict[str, Any]
    issuer_id: int
    issuer_did: str
    workers: int
    provision: ProvisionReport
    demo_tokens: dict[int, str] = field(default_factory=dict)
    demo_second_province: str | None = None
    """Demo mode: the command that starts the second province on this chain."""
    wallet_url: str | None = None
    """The citizen's wallet page on its own origin (docs/wallet.md), if served."""

    def to_json(self) -> dict[str, Any]:
        """JSON form (``serve --json``), camelCase like the API."""
        return {
            **self.runtime,
            "apiUrl": self.url,
            "issuerId": self.issuer_id,
            "issuerDid": self.issuer_did,
            "workers": self.workers,
            "demoTokens": {str(k): v for k, v in self.demo_tokens.items()},
            "demoSecondProvince": self.demo_second_province,
            "walletUrl": self.wallet_url,
        }


def _settings_payload(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, secrets in clear (only ever written to a worker's stdin)."""
    values: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="python").items():
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[name] = value
    return values


@dataclass
class _Worker:
    number: int
    process: subprocess.Popen[str]
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    """A running province service: runtime, the writer thread, the HTTP worker processes."""

    def __init__(
        self,
        settings: Settings,
        runtime: StartedChain | None,
        parts: ProvinceParts,
        report: ProvisionReport,
        listener: socket.socket | None = None,
    ) -> None:
        """Wrap what ``start_service`` brought up (use that, not this).

        ``listener``: the HTTP socket, already bound (not yet listening).
        ``runtime`` None: an API host (``--role api``, ``api.runtime.roles``),
        which started no chain and is not the writer.
        """
        self.settings = settings
        self.runtime = runtime
        self.parts = parts
        self.report = report
        self.stop_event = threading.Event()
        self._writer_stop = threading.Event()
        self._listener: socket.socket | None = listener
        self.wallet_listener: socket.socket | None = None
        """The wallet origin's socket, bound (docs/wallet.md); None: no wallet."""
        self._workers: list[_Worker] = []
        self._writer_thread: threading.Thread | None = None
        self.writer: WriterLoop | None = None
        self.demo_tokens: dict[int, Path] = {}
        """Demo mode: the file of each demo province's API tokens, by division code."""
        self.metrics_dir: Path | None = None
        """Where every process of the service keeps its metrics (None: each its own)."""
        self.reload_event = threading.Event()
        """Set (by SIGHUP) to load the TLS certificate again in every worker."""
        self.closers: list[Callable[[], None]] = []
        """Called last by ``close``, newest first (e.g. an API host's chain connection)."""

    # -------------------------------------------------------------- start-up

    def start_writer(self) -> None:
        """Start the writer loop (outbox, batches, checkpoints, index) in a thread."""
        if self.runtime is None:
            raise RuntimeError("an API host (--role api) has no writer")
        self.writer = writer_loop(
            self.parts, self.runtime.account, writer_holder(), WriterMetrics()
        )
        self._writer_thread = threading.Thread(
            target=self.writer.run, args=(self._writer_stop,), name="writer", daemon=True
        )
        self._writer_thread.start()

    def _bind(self) -> None:
        listener = self._listener if self._listener is not None else bind_http(self.settings)
        listener.listen(1024)
        listener.set_inheritable(True)
        self._listener = listener
        if self.wallet_listener is not None:
            self.wallet_listener.listen(1024)
            self.wallet_listener.set_inheritable(True)

    @property
    def url(self) -> str:
        """The HTTP API's base URL."""
        if self._listener is None:
            raise RuntimeError("not listening")
        host, port = self._listener.getsockname()[:2]
        scheme = "http" if self.settings.tls_cert is None else "https"
        return f"{scheme}://{host}:{port}"

    @property
    def wallet_url(self) -> str | None:
        """The wallet page's URL (``wallet_public_url`` or the socket's), or None."""
        if self.wallet_listener is None:
            return None
        if self.settings.wallet_public_url is not None:
            return self.settings.wallet_public_url + "/wallet"
        host, port = self.wallet_listener.getsockname()[:2]
        scheme = "http" if self.settings.tls_cert is None else "https"
        return f"{scheme}://{host}:{port}/wallet"

    def _payload(self) -> str:
        plan = self.parts.plan.to_json()
        metrics_dir = None if self.metrics_dir is None else str(self.metrics_dir)
        return json.dumps(
            {"settings": _settings_payload(self.settings), "plan": plan, "metricsDir": metrics_dir}
        )

    def _spawn(self, number: int) -> _Worker:
        if self._listener is None:
            raise RuntimeError("not listening")
        fds = [self._listener.fileno()]
        if self.wallet_listener is not None:
            fds.append(self.wallet_listener.fileno())
        process = subprocess.Popen(
            [sys.executable, "-m", "api.runtime.worker", *map(str, fds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=tuple(fds),
        )
        stdin = _pipe(process.stdin)
        stdin.write(self._payload() + "\n")
        stdin.close()
        return _Worker(number, process)

    def _await_ready(self, worker: _Worker, deadline: float) -> None:
        stdout = _pipe(worker.process.stdout)
        ready = threading.Event()

        def read() -> None:
            for line in stdout:
                if line.strip() == READY_LINE:
                    ready.set()
            # The worker closed stdout: it ended.

        threading.Thread(target=read, name=f"worker-{worker.number}-out", daemon=True).start()
        while not ready.wait(0.05):
            if worker.process.poll() is not None:
                raise SettingsError(
                    f"HTTP worker {worker.number} exited with status {worker.process.returncode} "
                    "during start-up; see its log lines above"
                )
            if time.monotonic() > deadline:
                raise SettingsError(f"HTTP worker {worker.number} did not start in time")

    def start_workers(self) -> None:
        """Bind the socket and start every worker; returns once all serve."""
        self._bind()
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        self._workers = [self._spawn(n) for n in range(1, self.settings.workers + 1)]
        for worker in self._workers:
            self._await_ready(worker, deadline)

    # ------------------------------------------------------------------ running

    def watch(self) -> None:
        """Restart workers that die, until ``stop_event`` is set."""
        while not self.stop_event.wait(0.5):
            if self.reload_event.is_set():
                self.reload_event.clear()
                self.reload_tls()
            for index, worker in enumerate(self._workers):
                if worker.process.poll() is None:
                    continue
                log.warning(
                    "HTTP worker ended; restarting it",
                    extra={"worker": worker.number, "status": worker.process.returncode},
                )
                if time.monotonic() - worker.started_at < _RESTART_PAUSE * 5:
                    time.sleep(_RESTART_PAUSE)
                replacement = self._spawn(worker.number)
                try:
                    self._await_ready(replacement, time.monotonic() + WORKER_START_TIMEOUT)
                except SettingsError:
                    log.exception("a restarted HTTP worker did not start")
                self._workers[index] = replacement

    def reload_tls(self) -> bool:
        """Tell every worker to load the TLS certificate again (SIGHUP); False if not done.

        The files are checked here first: a certificate that does not load is
        one log line, and the workers keep serving the old one. Each worker
        checks them again before it swaps (``api.runtime.tls.reload_context``).
        """
        if self.settings.tls_cert is None:
            log.warning("SIGHUP ignored: TLS is not configured")
            return False
        try:
            server_context(self.settings)
        except SettingsError as exc:
            log.error("TLS reload refused; still serving the old certificate: %s", exc)
            return False
        for worker in self._workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGHUP)
        log.info("TLS reload sent to the HTTP workers", extra={"workers": len(self._workers)})
        return True

    def describe(self, runtime_description: dict[str, Any]) -> ServiceDescription:
        """The description printed at start-up."""
        second = None
        if self.settings.demo and self.runtime is not None:
            second = second_province_command(self.settings, self.runtime.chain.client.url)
        return ServiceDescription(
            self.url,
            runtime_description,
            self.settings.issuer_id,
            self.parts.issuer_config.did,
            len(self._workers),
            self.report,
            {code: str(path) for code, path in self.demo_tokens.items()},
            second,
            self.wallet_url,
        )

    def close(self) -> None:
        """Stop the workers, then the writer, then the runtime (chain node, lock)."""
        for worker in self._workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in self._workers:
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        if self._listener is not None:
            self._listener.close()
        if self.wallet_listener is not None:
            self.wallet_listener.close()
        self._writer_stop.set()
        if self._writer_thread is not None:
            self._writer_thread.join(timeout=30)
        self.parts.close()
        if self.runtime is not None:
            self.runtime.close()
        for closer in reversed(self.closers):
            closer()


def _pipe(stream: IO[str] | None) -> IO[str]:
    if stream is None:
        raise RuntimeError("worker pipe missing")
    return stream


def _with_demo_governor(settings: Settings) -> Settings:
    if settings.demo and settings.governor_keystore is None:
        return settings.model_copy(
            update={"governor_keystore": governor_keystore_path(settings, 1)}
        )
    return settings


def shared_metrics(settings: Settings) -> Path:
    """Empty ``data_dir/metrics`` and keep this process's metrics there (see ``api.http.metrics``).

    Only while the data directory is locked: no other service shares it.
    """
    directory = settings.data_dir / METRICS_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    share_between_processes(directory)
    return directory


def bind_http(settings: Settings, port: int | None = None) -> socket.socket:
    """The HTTP socket bound to ``http_host``/``http_port`` (or ``port``; not listening yet)."""
    host, port = settings.http_host, settings.http_port if port is None else port
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        setting = "TONGBAN_HTTP_PORT" if port == settings.http_port else "TONGBAN_WALLET_HTTP_PORT"
        raise SettingsError(
            f"cannot listen on {host}:{port} ({exc.strerror}); set {setting} "
            "to a free port (0 picks one)"
        ) from None
    return listener


def start_service(settings: Settings) -> Supervisor:
    """Bring the whole service up (see the module); on failure, leave nothing running."""
    settings = _with_demo_governor(settings)
    # Before anything binds or starts: one line for a bad TLS or plain-HTTP setting.
    server_context(settings)
    citizen_web(settings)  # and for an unreadable consortium directory or a bad CORS origin
    # Bound first (listening comes with the workers): with port 0 the port is known
    # from here on, so the status list URLs issued credentials carry are the real ones.
    if settings.demo and settings.wallet_http_port is None:
        wallet_port = settings.http_port + 10 if settings.http_port else 0
        settings = settings.model_copy(update={"wallet_http_port": wallet_port})
    listener = bind_http(settings)
    if settings.http_port == 0:
        settings = settings.model_copy(update={"http_port": listener.getsockname()[1]})
    wallet: socket.socket | None = None
    try:
        if settings.wallet_http_port is not None:
            wallet = bind_http(settings, settings.wallet_http_port)
            settings = settings.model_copy(update={"wallet_http_port": wallet.getsockname()[1]})
        runtime = start_chain(settings)
    except BaseException:
        listener.close()
        if wallet is not None:
            wallet.close()
        raise
    idp: IdpProcess | None = None
    parts: ProvinceParts | None = None
    service: Supervisor | None = None
    try:
        if settings.demo and settings.oidc_issuer is None:
            # Demo only (docs/signin.md); after start_chain, which locked the data directory.
            settings, idp = start_demo_idp(settings)
        metrics_dir = shared_metrics(settings)
        plan = ChainPlan(
            runtime.chain.client.url,
            runtime.chain.client.chain_id,
            runtime.addresses,
            runtime.start_block,
        )
        parts = open_province(settings, plan, writer=True)
        registry = IssuerRegistry(runtime.chain.client, runtime.addresses.registry)
        report = provision_issuer(
            registry,
            runtime.sender,
            settings.issuer_id,
            parts.keys,
            division_code=settings.division_code,
            name=settings.issuer_name,
        )
        parts.index.sync()
        parts.keyring.refresh()
        service = Supervisor(settings, runtime, parts, report, listener)
        service.wallet_listener = wallet
        service.metrics_dir = metrics_dir
        if idp is not None:
            service.closers.append(idp.stop)
        if settings.demo:
            service.demo_tokens = ensure_demo_clients(settings)
        service.start_writer()
        service.start_workers()
    except BaseException:
        if service is not None:
            service.close()
        else:
            listener.close()
            if wallet is not None:
                wallet.close()
            if parts is not None:
                parts.close()
            runtime.close()
            if idp is not None:
                idp.stop()
        raise
    return service


def run_service(
    settings: Settings,
    on_ready: Callable[[Supervisor], None],
    stop: threading.Event,
    reload: threading.Event | None = None,
) -> None:
    """Start the service, call ``on_ready``, watch it until ``stop`` is set, then stop it.

    ``reload``, when set, makes the workers load the TLS certificate again.
    """
    watch_until_stopped(start_service(settings), on_ready, stop, reload)


def watch_until_stopped(
    service: Supervisor,
    on_ready: Callable[[Supervisor], None],
    stop: threading.Event,
    reload: threading.Event | None = None,
) -> None:
    """Call ``on_ready``, restart dying workers until ``stop`` is set, then close ``service``."""
    service.stop_event = stop
    if reload is not None:
        service.reload_event = reload
    try:
        on_ready(service)
        service.watch()
    finally:
        service.close()
