"""A bug in a command: one ``error:`` line and exit status 70, never a traceback.

The exception's message is not printed: it may quote what the command was
handling (a holder's claims, a request line). Only its type is named.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.cli import main as cli_main


def test_an_unexpected_exception_is_one_line_without_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken_app(argv: list[str]) -> Any:
        def run(**_: Any) -> None:
            raise KeyError("张三 110101199003077777")

        return run

    monkeypatch.setattr(cli_main, "build_app", broken_app)
    monkeypatch.setattr("sys.argv", ["tongban", "issue", "requests.jsonl"])
    with pytest.raises(SystemExit) as exited:
        cli_main.main()
    assert exited.value.code == cli_main.INTERNAL_EXIT_STATUS == 70
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: internal error (KeyError)")
    assert "Traceback" not in captured.err + captured.out
    assert "张三" not in captured.err + captured.out
    assert "110101199003077777" not in captured.err + captured.out
