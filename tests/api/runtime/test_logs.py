"""Log lines: structured fields in both formats, no terminal escapes, no exception messages."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from api.runtime.logs import (
    JsonFormatter,
    TextFormatter,
    code_locations,
    configure_logging,
    error_detail,
    plain,
)

ID_NUMBER = "110101199003071234"
CYAN = "\x1b[36m"
RESET = "\x1b[0m"


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _record(
    message: str = "writer duty failed",
    *,
    exc: BaseException | None = None,
    **extra: object,
) -> logging.LogRecord:
    exc_info = None if exc is None else (type(exc), exc, exc.__traceback__)
    record = logging.LogRecord(
        "api.runtime.writer", logging.WARNING, "w.py", 1, message, (), exc_info
    )
    record.__dict__.update(extra)
    return record


def _raised(message: str) -> RuntimeError:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_json_lines_carry_the_extra_fields() -> None:
    line = JsonFormatter().format(
        _record(duty="chain-index", error="ChainUnavailableError", failures=3, where=["a.py:1:f"])
    )
    document = json.loads(line)
    assert document["level"] == "WARNING"
    assert document["logger"] == "api.runtime.writer"
    assert document["message"] == "writer duty failed"
    assert document["duty"] == "chain-index"
    assert document["error"] == "ChainUnavailableError"
    assert document["failures"] == 3
    assert document["where"] == ["a.py:1:f"]
    assert "\n" not in line


def test_text_lines_show_the_extra_fields_as_key_value_pairs() -> None:
    line = TextFormatter().format(
        _record(
            "request",
            method="GET",
            route="/audit/events/{index}",
            status=404,
            duration_ms=1.25,
            client_id=None,
            detail='node at http://127.0.0.1:8545 said "no"\nbye',
        )
    )
    head, _, pairs = line.partition(": request ")
    assert head.endswith("WARNING api.runtime.writer")
    assert "method=GET" in pairs
    assert "route=/audit/events/{index}" in pairs
    assert "status=404" in pairs
    assert "duration_ms=1.25" in pairs
    assert "client_id=null" in pairs
    assert 'detail="node at http://127.0.0.1:8545 said \\"no\\"\\nbye"' in pairs
    assert "\n" not in line


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_no_terminal_escapes_reach_a_line(formatter: logging.Formatter) -> None:
    # uvicorn logs "Started server process [%d]" with a coloured copy in color_message.
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, "server.py", 1, "Started server process [%d]", (42,), None
    )
    record.__dict__["color_message"] = "Started server process [" + CYAN + "%d" + RESET + "]"
    record.__dict__["detail"] = f"{CYAN}red{RESET}\x07\x1b]0;title\x07 done"
    line = formatter.format(record)
    assert "\x1b" not in line
    assert "\\u001b" not in line
    assert "[36m" not in line
    assert "color_message" not in line
    assert "Started server process [42]" in line
    assert "red done" in line


def test_plain_keeps_text_and_drops_escapes_and_controls() -> None:
    assert plain(f"{CYAN}a{RESET}\tb\nc\x00\x1b[2Kd\x9b") == "a\tb\ncd"
    assert plain("省 did:key:z6Mk") == "省 did:key:z6Mk"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_an_exception_shows_its_class_and_code_locations_never_its_message(
    formatter: logging.Formatter,
) -> None:
    exc = _raised(f"lookup failed for {ID_NUMBER}")
    line = formatter.format(_record("check failed unexpectedly", exc=exc))
    assert ID_NUMBER not in line
    assert "lookup failed" not in line
    assert "Traceback" not in line
    assert "RuntimeError" in line
    assert "test_logs.py" in line  # where it was raised
    assert "_raised" in line


def test_error_detail_is_one_plain_bounded_line_without_id_numbers() -> None:
    exc = _raised(f"{CYAN}store busy{RESET}\nat /var/lib/tongban for {ID_NUMBER} " + "x" * 500)
    detail = error_detail(exc)
    assert detail.startswith("store busy at /var/lib/tongban for <masked>")
    assert ID_NUMBER not in detail
    assert len(detail) == 300
    assert "\n" not in detail
    assert "\x1b" not in detail
    # Numbers that are not ID-number shaped stay: they are what an operator needs.
    assert error_detail(RuntimeError("gas price 1000000000 wei, block 123")) == (
        "gas price 1000000000 wei, block 123"
    )
    assert code_locations(exc)[-1].endswith(":_raised")


@pytest.mark.parametrize(("fmt", "formatter"), [("json", JsonFormatter), ("text", TextFormatter)])
def test_configure_logging_writes_one_format_to_stderr(
    root_logging: None,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    formatter: type[logging.Formatter],
) -> None:
    configure_logging("INFO", fmt)
    [handler] = logging.getLogger().handlers
    assert isinstance(handler.formatter, formatter)
    assert isinstance(handler, logging.StreamHandler)
    assert handler.stream is sys.stderr
    logging.getLogger("tongban.access").info("request", extra={"route": "/healthz", "status": 200})
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    if fmt == "json":
        assert json.loads(err[0])["route"] == "/healthz"
    else:
        assert err[0].endswith("tongban.access: request route=/healthz status=200")
