"""Stream ``ledger.audit.export.write_export`` to an HTTP response in bounded memory.

``write_export`` writes to a text file object from one read transaction. A
producer thread runs it into a small bounded queue of byte chunks that the
response iterates, so a slow client holds back the producer instead of
filling memory. ``stream_export`` checks for a disconnect after every chunk
and then stops the producer: uvicorn silently drops what is sent to a closed
connection, so without the check an abandoned export would run to its end.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import IO, cast

from starlette.concurrency import run_in_threadpool

from ledger.audit.anchoring import CheckpointAnchorer
from ledger.audit.export import write_export
from ledger.audit.log import AuditLog

__all__ = ["export_chunks", "stream_export"]

log = logging.getLogger(__name__)

_DONE = object()
_QUEUE_CHUNKS = 8
_PUT_POLL_SECONDS = 0.5


class _CancelledError(Exception):
    """The consumer went away."""


class _QueueWriter(io.TextIOBase):
    """A text sink that hands ``chunk_bytes``-sized UTF-8 chunks to a queue."""

    def __init__(self, out: queue.Queue[object], cancelled: threading.Event, chunk: int) -> None:
        self._out = out
        self._cancelled = cancelled
        self._chunk = chunk
        self._buffer: list[bytes] = []
        self._size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._buffer.append(data)
        self._size += len(data)
        if self._size >= self._chunk:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if not self._buffer:
            return
        chunk = b"".join(self._buffer)
        self._buffer, self._size = [], 0
        _hand_over(self._out, chunk, self._cancelled)


def _hand_over(out: queue.Queue[object], item: object, cancelled: threading.Event) -> None:
    while True:
        if cancelled.is_set():
            raise _CancelledError
        try:
            out.put(item, timeout=_PUT_POLL_SECONDS)
            return
        except queue.Full:
            continue


def export_chunks(
    audit_log: AuditLog, anchorer: CheckpointAnchorer, *, chunk_bytes: int = 64 * 1024
) -> Generator[bytes, None, None]:
    """The export as byte chunks; closing the iterator stops the producer."""
    chunks: queue.Queue[object] = queue.Queue(maxsize=_QUEUE_CHUNKS)
    cancelled = threading.Event()

    def produce() -> None:
        writer = _QueueWriter(chunks, cancelled, chunk_bytes)
        try:
            try:
                write_export(audit_log, anchorer, cast(IO[str], writer))
                writer.flush()
            except _CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
                _hand_over(chunks, exc, cancelled)
                return
            _hand_over(chunks, _DONE, cancelled)
        except _CancelledError:
            return

    producer = threading.Thread(target=produce, name="audit-export", daemon=True)
    producer.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)  # noqa: S101 - only bytes, errors and _DONE are queued
            yield item
    finally:
        cancelled.set()


async def stream_export(
    audit_log: AuditLog,
    anchorer: CheckpointAnchorer,
    is_disconnected: Callable[[], Awaitable[bool]],
    *,
    chunk_bytes: int = 64 * 1024,
) -> AsyncIterator[bytes]:
    """The export as byte chunks for a streaming response; stops when the client is gone."""
    chunks = export_chunks(audit_log, anchorer, chunk_bytes=chunk_bytes)
    ended = False
    try:
        while True:
            try:
                chunk = await run_in_threadpool(next, chunks, None)
            except Exception:
                ended = True
                raise
            if chunk is None:
                ended = True
                return
            yield chunk
            if await is_disconnected():
                return
    finally:
        # However the client's leaving shows (the disconnect check, a failed send
        # closing us at the yield, the server cancelling us mid-read), it is logged once.
        if not ended:
            log.info("audit export abandoned by the client")
        chunks.close()
