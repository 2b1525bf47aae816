"""Checks ``tongban serve`` makes before it starts a chain, deploys or seeds anything.

A service that would fail to listen at the end of its start-up must not first
start a chain, deploy contracts or seed a demo: the HTTP port is tried first.
The supervisor binds it for real later (a port taken in between still fails
there, with the same message). The data directory is tried before the port,
so a second ``make run`` beside a running one names the real conflict (the
directory) rather than the port the other service listens on.
"""

from __future__ import annotations

import socket

from api.runtime.settings import Settings, SettingsError
from api.runtime.signin import check_signin_settings
from ledger.datadir import DataDirLock

__all__ = ["check_http_port", "preflight"]


def preflight(settings: Settings) -> None:
    """Raise the error start-up would end with if the data directory or the HTTP port is taken.

    Nothing is started and no lock is kept (``start_chain`` takes it for real).
    """
    with DataDirLock(settings.data_dir):
        pass
    check_http_port(settings)
    check_signin_settings(settings)


def check_http_port(settings: Settings) -> None:
    """Raise ``SettingsError`` (naming the port and ``TONGBAN_HTTP_PORT``) if it cannot be bound.

    Port 0 (pick a free one) always passes. The test socket uses
    ``SO_REUSEADDR`` like the supervisor's, so a previous run's closing
    connections do not count; a listening socket does.
    """
    host, port = settings.http_host, settings.http_port
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SettingsError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc}); set TONGBAN_HTTP_PORT "
                "to a free port (0 picks one)"
            ) from None
