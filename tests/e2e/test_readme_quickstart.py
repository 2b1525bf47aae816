"""The README's quick start, followed literally against a started service.

The service is started as ``make run`` starts it (``TONGBAN_DEMO=1 tongban
serve`` in a fresh directory, text output); its banner must have the shape
the README shows. Then every command of the quick start's other ``console``
blocks runs, as written, in one bash session in that directory (so ``$ISSUER``
set by one command is there for the next), with one change: the README's port
8080 becomes the port the service took. What the README shows under a command
is checked against what the command printed: a JSON line by its member names
and its verdict-like values, any other line by its shape (numbers, hashes,
addresses and ``…`` stand for any value).

Not run, with the reason: ``make …`` (the test *is* the started service and
the test run) and ``tongban serve`` of the second province (a long-running
process: tests/e2e/test_two_provinces.py runs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.processes import TONGBAN, e2e_env

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
VENV = Path(TONGBAN).resolve().parents[1]
_VALUE_MEMBERS = ("verdict", "kind", "code", "state", "status")
_MARKER = "@@readme-command@@"


@dataclass
class Command:
    """One ``$ …`` command of a console block and the lines the README shows under it."""

    text: str
    shown: list[str] = field(default_factory=list)


def quick_start_blocks(readme: str) -> list[list[Command]]:
    """The ``console`` blocks of the Quick start section, as commands with their output."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        commands: list[Command] = []
        continuing = False
        for line in body.splitlines():
            if continuing:
                commands[-1].text += "\n" + line
            elif line.startswith("$ "):
                commands.append(Command(line[2:]))
            elif commands:
                commands[-1].shown.append(line)
            continuing = line.endswith("\\")
        blocks.append(commands)
    return blocks


def _not_run(command: Command) -> bool:
    return command.text.startswith("make ") or " serve " in command.text + " "


_VALUE = re.compile(r"0x[0-9a-fA-F]{40}|[0-9a-f]{8,}|[0-9]+|…|/home/you/tongban|\.venv/bin/tongban")
_VALUE_PATTERNS = {
    "…": ".*?",
    "/home/you/tongban": r"\S*",
    ".venv/bin/tongban": r"\S*\.venv/bin/tongban",
}


def _value_pattern(token: str) -> str:
    if token in _VALUE_PATTERNS:
        return _VALUE_PATTERNS[token]
    if token.startswith("0x"):
        return "0x[0-9a-fA-F]{40}"
    return "[0-9a-f]+" if re.fullmatch("[0-9a-f]{8,}", token) else "[0-9]+"


def shape(line: str) -> re.Pattern[str]:
    """A pattern for a shown line: values (numbers, hashes, paths, ``…``) stand for any value."""
    pattern, at = "", 0
    for value in _VALUE.finditer(line):
        pattern += re.escape(line[at : value.start()]) + _value_pattern(value.group())
        at = value.end()
    return re.compile(pattern + re.escape(line[at:]))


def check_shown(command: Command, printed: str) -> None:
    """Fail unless ``printed`` has what the README shows under ``command``."""
    lines = printed.splitlines()
    for shown in command.shown:
        if shown.startswith("{"):
            for name in re.findall(r'"(\w+)":', shown):
                assert f'"{name}":' in printed, (command.text, name, printed[:2000])
            for name, value in re.findall(r'"(\w+)":"([^"…]*)"', shown):
                if name in _VALUE_MEMBERS:
                    assert f'"{name}":"{value}"' in printed, (command.text, name, printed[:2000])
            continue
        pattern = shape(shown)
        assert any(pattern.fullmatch(line) for line in lines), (command.text, shown, printed)


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, list[str]]]:
    """``make run`` in a fresh directory: its banner and port; stopped afterwards."""
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool), f"the README's quick start needs {tool}: apt-get install {tool}"
    home = tmp_path_factory.mktemp("readme")
    (home / ".venv").symlink_to(VENV)
    log = home / "serve.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [".venv/bin/tongban", "serve"],
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=e2e_env(TONGBAN_DEMO="1", TONGBAN_LOG_FORMAT="text", COLUMNS="200"),
        )
    assert process.stdout is not None
    banner: list[str] = []
    try:
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("ready"):
                break
        else:
            raise AssertionError(f"serve ended before ready:\n{log.read_text()[-3000:]}")
        port = int(next(re.findall(r":(\d+) ", b)[0] for b in banner if b.startswith("api ")))
        yield home, port, banner
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_make_run_banner_has_the_readme_shape(started: tuple[Path, int, list[str]]) -> None:
    """What ``make run`` prints, line by line, as the README shows it."""
    _, _, banner = started
    shown = quick_start_blocks(README.read_text())[0]
    assert shown[0].text == "make run"
    assert len(banner) == len(shown[0].shown), banner
    for line, expected in zip(banner, shown[0].shown, strict=True):
        assert shape(expected).fullmatch(line), (expected, line)


def test_quick_start_commands_work_as_written(started: tuple[Path, int, list[str]]) -> None:
    """Every quick-start command runs as written and prints what the README shows."""
    home, port, _ = started
    commands = [c for block in quick_start_blocks(README.read_text())[1:] for c in block]
    run = [c for c in commands if not _not_run(c)]
    assert len(run) >= 15, [c.text for c in run]
    script = ["set -euo pipefail"]
    for command in run:
        text = command.text.replace("localhost:8080", f"localhost:{port}")
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        script += [f"echo {_MARKER}", text]
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=home,
        capture_output=True,
        text=True,
        env=e2e_env(),
        timeout=240,
    )
    outputs = result.stdout.split(_MARKER + "\n")[1:]
    failed = run[len(outputs) - 1].text if outputs else run[0].text
    assert result.returncode == 0, (failed, result.stderr[-2000:])
    assert len(outputs) == len(run)
    for command, printed in zip(run, outputs, strict=True):
        check_shown(command, printed)
    assert "Traceback" not in result.stderr
    assert (home / "journey" / "vc.json").is_file()


def test_journey_directory_is_ignored_by_git() -> None:
    """The files the journey writes (personal data) are covered by ``.gitignore``."""
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "journey/issue.json"], cwd=README.parent, check=False
    )
    assert ignored.returncode == 0


def test_shape_tells_a_changed_line_apart() -> None:
    """The shape check fails on a line that says something else (so the test can fail)."""
    assert shape("log 1: 4 events, 2 anchored checkpoints checked: valid").fullmatch(
        "log 1: 17 events, 9 anchored checkpoints checked: valid"
    )
    assert not shape("log 1: 4 events, 2 anchored checkpoints checked: valid").fullmatch(
        "log 1: 4 events, 2 anchored checkpoints checked: INVALID"
    )
    with pytest.raises(AssertionError):
        check_shown(Command("x", ['{"kind":"credential","verdict":"VALID"}']), '{"verdict":"X"}')
