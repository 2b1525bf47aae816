"""The citizen's cross-origin wiring of one worker: the consortium directory and CORS origins.

Reads the ``consortium_directory`` file (checked for its form here; wallets check its
signatures against the chain, docs/citizen-timeline.md) and names on ``app.state`` what
``api.http.citizen_cors`` serves and allows: the directory's bytes as signed, and the wallet
origins the citizen routes admit (``citizen_cors_origins`` and every ``walletOrigin`` the
directory lists; the service's own wallet is ``app.state.wallet_origins``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from api.province.directory import Directory, DirectoryError, parse_directory
from api.runtime.settings import Settings, SettingsError

__all__ = ["CitizenWeb", "citizen_web", "install_citizen_web"]

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_MAX_DIRECTORY_BYTES = 256 * 1024


@dataclass(frozen=True)
class CitizenWeb:
    """What a worker publishes and allows for the citizen's wallets."""

    directory: bytes | None
    origins: tuple[str, ...]


def _directory(settings: Settings) -> tuple[bytes, Directory] | None:
    path = settings.consortium_directory
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"consortium_directory {path} cannot be read: {exc.strerror}") from None
    if len(raw) > _MAX_DIRECTORY_BYTES:
        raise SettingsError(f"consortium_directory {path} is over {_MAX_DIRECTORY_BYTES} bytes")
    try:
        return raw, parse_directory(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        detail = exc.detail if isinstance(exc, DirectoryError) else "it is not JSON"
        raise SettingsError(f"consortium_directory {path} is not a directory: {detail}") from None


def citizen_web(settings: Settings) -> CitizenWeb:
    """The directory and the allowed origins the settings name; ``SettingsError`` otherwise."""
    for origin in settings.citizen_cors_origins:
        if not _ORIGIN.fullmatch(origin):
            raise SettingsError(
                f"citizen_cors_origins: {origin!r} is not an origin (scheme://host[:port]); "
                "'*' is refused: the citizen routes answer personal data"
            )
    loaded = _directory(settings)
    listed = () if loaded is None else loaded[1].wallet_origins()
    origins = tuple(dict.fromkeys((*settings.citizen_cors_origins, *listed)))
    return CitizenWeb(directory=None if loaded is None else loaded[0], origins=origins)


def install_citizen_web(app: Any, web: CitizenWeb) -> None:
    """Name the directory and the allowed origins on ``app.state``."""
    app.state.citizen_origins = web.origins
    if web.directory is not None:
        app.state.consortium_directory = web.directory
