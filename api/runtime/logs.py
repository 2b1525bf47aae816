"""Structured logging: one JSON object per line on stderr (or one text line for humans).

Fields passed with ``extra=`` become top-level keys in JSON and ``key=value``
pairs after the message in text, so both formats say the same: the writer's
``duty`` and ``error``, the access log's ``route``, ``status`` and
``duration_ms``. Callers must never log personal data; this module does not
try to guess what is personal, but it never prints an exception's message or
traceback (either may quote data): a record logged with ``exc_info`` shows the
exception class (``error``) and code locations (``where``) only. A message meant
for operators goes through ``error_detail`` first.

Nothing in a line is a terminal escape: uvicorn adds a coloured copy of its
messages (``color_message``), which is dropped, and ANSI escape sequences and
other control characters are removed from every string.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

__all__ = [
    "JsonFormatter",
    "TextFormatter",
    "code_locations",
    "configure_logging",
    "error_detail",
    "plain",
]

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
}

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A resident ID number (17 digits and a check character) never belongs in a log.
_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_DETAIL_LIMIT = 300


def plain(text: str) -> str:
    """``text`` without ANSI escape sequences and control characters (tab and newline kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def error_detail(exc: BaseException) -> str:
    """An exception's message for an operator's log line: one line, plain, at most 300 chars.

    Only for errors of processes that handle no personal data (the writer's
    duties: chain, store and outbox failures name nodes, paths and states);
    ID-number-shaped runs are masked all the same.
    """
    text = " ".join(plain(str(exc)).split())
    text = _ID_NUMBER.sub("<masked>", text)
    if len(text) > _DETAIL_LIMIT:
        text = text[: _DETAIL_LIMIT - 1] + "…"
    return text


def _where(tb: TracebackType | None) -> list[str]:
    # Code locations only (file, line, function): never the message or local values.
    frames = traceback.extract_tb(tb)[-4:]
    return [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}" for frame in frames]


def code_locations(exc: BaseException) -> list[str]:
    """Where ``exc`` was raised: the last four frames as ``file:line:function``."""
    return _where(exc.__traceback__)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return plain(value)
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {
        key: _clean(value)
        for key, value in record.__dict__.items()
        if key not in _RESERVED and not key.startswith("_")
    }
    if record.exc_info and record.exc_info[0] is not None:
        fields.setdefault("error", record.exc_info[0].__name__)
        fields.setdefault("where", _where(record.exc_info[2]))
    return fields


def _plain_str(value: object) -> str:
    return plain(str(value))


def _message(record: logging.LogRecord) -> str:
    return plain(record.getMessage())


class JsonFormatter(logging.Formatter):
    """Formats a record as a single-line JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` with its time (UTC, ms), level, logger, message and extras."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
        }
        for key, value in _fields(record).items():
            document.setdefault(key, value)
        return json.dumps(document, ensure_ascii=False, default=_plain_str)


_BARE = re.compile(r"[^\s\"=]+")


def _text_value(value: Any) -> str:
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=_plain_str)
    text: str = value
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record``: the message, then each extra as ``key=value`` (quoted if need be)."""
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{when} {record.levelname} {record.name}: {_message(record)}"
        pairs = [f"{key}={_text_value(value)}" for key, value in _fields(record).items()]
        return " ".join([line, *pairs]).replace("\n", "\\n")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send all logs to stderr in ``fmt`` (``json`` or ``text``) at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # web3 and urllib3 log request bodies at DEBUG; keep them quiet.
    for noisy in ("web3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, logging.getLevelName(level)))
