"""How this province's verifier gets the status list credentials credentials point at.

``StatusListFetcher(db, own_base)`` is the verifier's ``fetch_list`` (see
``credentials.verify.status_list_check``): ``url -> bytes | None``.

- **This province's lists** (``<own_base>/status-lists/<n>/<purpose>``) are read
  from the store (``api.province.status_lists.read_list``): no HTTP to itself.
- **Another province's lists** are fetched with one HTTP GET, only over
  ``https``, to a host that resolves to public addresses only (no loopback,
  private, link-local or reserved address: a credential cannot make the verifier
  probe the internal network), with a short timeout (``timeout``, 1 s) and a size
  cap (``max_bytes``), no redirects and no cookies. Settings name no consortium
  member hosts (``api/runtime/settings.py`` has none), so plain ``http`` lists of
  other hosts are not fetched: the verifier reports them SKIPPED
  ``status_list_not_fetched`` with the reason (``FetchRefusedError``).
- Unreachable, too slow, too large, or not 200: None (the specification's
  ``STATUS_RETRIEVAL_ERROR``, SKIPPED).
- Another province's answers are kept per worker for ``CACHE_SECONDS`` (the lists'
  ``max-age``, ``REGENERATION_SECONDS``), a failure for ``FAILURE_CACHE_SECONDS``,
  at most ``CACHE_ENTRIES`` URLs: a burst of verifications costs one GET per list.

The verify routes run the checks in the thread pool, so a fetch blocks one pool
thread for at most ``timeout``, never the event loop. Nothing here logs a URL.
Known gap: the address check and the connection resolve the host separately, so a
DNS answer that changes between them (rebinding) is not caught.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from api.province.status_lists import MEDIA_TYPE, REGENERATION_SECONDS, read_list
from credentials.verify.status_list_check import FetchRefusedError
from ledger.store.database import Database, StoreError

__all__ = [
    "CACHE_ENTRIES",
    "CACHE_SECONDS",
    "FAILURE_CACHE_SECONDS",
    "FETCH_TIMEOUT_SECONDS",
    "MAX_FETCHED_BYTES",
    "StatusListFetcher",
]

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 1.0
"""How long a GET of another province's list may take, from connecting to the last byte.

A single blocked socket operation is also bounded by it, so the worst case is about
twice this."""

MAX_FETCHED_BYTES = 512 * 1024
"""The largest list credential fetched (a Tongban list of random bits is about 22 KB)."""

CACHE_SECONDS = float(REGENERATION_SECONDS)
"""How long another province's list is reused (its ``Cache-Control: max-age``)."""

FAILURE_CACHE_SECONDS = 5.0
"""How long a failed fetch is remembered (an unreachable host is not asked every time)."""

CACHE_ENTRIES = 1024
"""URLs kept at most; the oldest entry goes first."""

_CHUNK = 64 * 1024

_OWN_PATH = re.compile(r"/status-lists/([1-9][0-9]{0,8})/(revocation|suspension)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class StatusListFetcher:
    """``fetch_list`` of this province's verifier (see the module)."""

    def __init__(
        self,
        db: Database,
        own_base: str | None,
        *,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        max_bytes: int = MAX_FETCHED_BYTES,
    ) -> None:
        """``own_base``: this province's public base URL (None: it publishes no lists)."""
        self.db = db
        self.own_base = None if own_base is None else own_base.rstrip("/")
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._cache: dict[str, tuple[float, bytes | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes | None:
        """The list credential's bytes, None when unreachable; ``FetchRefusedError`` if refused."""
        own = self._own_list(url)
        if own is not None:
            return self._read_own(*own)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchRefusedError(
                "only https lists of other provinces are fetched (this province's own lists "
                "are read from its store)"
            )
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and cached[0] > now:
            return cached[1]
        if not _public_host(parts.hostname, parts.port or 443):
            raise FetchRefusedError("the list's host is not a public address")
        data = self._get(url)
        keep = CACHE_SECONDS if data is not None else FAILURE_CACHE_SECONDS
        with self._lock:
            self._cache.pop(url, None)
            while len(self._cache) >= CACHE_ENTRIES:
                self._cache.pop(next(iter(self._cache)))
            self._cache[url] = (time.monotonic() + keep, data)
        return data

    def _own_list(self, url: str) -> tuple[int, str] | None:
        if self.own_base is None or not url.startswith(self.own_base + "/"):
            return None
        found = _OWN_PATH.fullmatch(url[len(self.own_base) :])
        return None if found is None else (int(found.group(1)), found.group(2))

    def _read_own(self, number: int, purpose: str) -> bytes | None:
        try:
            published = read_list(self.db, number, purpose)
        except StoreError:
            log.warning("this province's status list could not be read from the store")
            return None
        return None if published is None else published.document

    def _get(self, url: str) -> bytes | None:
        request = urllib.request.Request(  # noqa: S310 - https only, checked above
            url, headers={"Accept": f"{MEDIA_TYPE}, application/json"}, method="GET"
        )
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        size = 0
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                if response.status != 200:
                    return None
                # Read in pieces against one deadline: a server that trickles bytes
                # cannot hold the pool thread longer than the timeout.
                while size <= self.max_bytes:
                    if time.monotonic() > deadline:
                        return None
                    chunk: bytes = response.read1(_CHUNK)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
        except (OSError, ValueError, urllib.error.URLError):
            log.info("another province's status list could not be fetched")
            return None
        return None if size > self.max_bytes else b"".join(chunks)


def _public_host(host: str, port: int) -> bool:
    """Whether every address ``host`` resolves to is a global unicast address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(a).split("%")[0]).is_global for a in addresses
    )
