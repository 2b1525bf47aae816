"""`tongban agencies` and `tongban clients --agencies` as real processes (#16)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.helpers.processes import TONGBAN, tongban_env

EDUCATION = "11330000TB0000001D"
MARKET = "11330000TB0000002G"


def _run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=tongban_env(),
        timeout=60,
    )


def _json(data: Path, *args: str) -> dict[str, object]:
    done = _run(data, *args, "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_add_list_and_retire_an_agency(tmp_path: Path) -> None:
    added = _json(
        tmp_path,
        "agencies",
        "add",
        EDUCATION,
        "--name",
        "演示省教育厅",
        "--template",
        "degree-certificate",
    )
    assert added["code"] == EDUCATION
    assert added["name"] == "演示省教育厅"
    assert added["templates"] == ["degree-certificate"]
    assert added["active"] is True
    text = _run(tmp_path, "agencies", "list")
    assert text.returncode == 0, text.stderr
    assert f"{EDUCATION}  active" in text.stdout
    assert "演示省教育厅" in text.stdout
    changed = _json(
        tmp_path,
        "agencies",
        "templates",
        EDUCATION,
        "--template",
        "degree-certificate",
        "--template",
        "business-licence",
    )
    assert changed["templates"] == ["business-licence", "degree-certificate"]
    retired = _json(tmp_path, "agencies", "retire", EDUCATION)
    assert retired["active"] is False
    assert retired["retiredAt"] is not None
    listed = _json(tmp_path, "agencies", "list", "--active")
    assert listed == {"agencies": []}


def test_a_bad_agency_is_one_error_line_naming_the_field_not_the_value(tmp_path: Path) -> None:
    wrong = EDUCATION[:17] + "0"
    done = _run(
        tmp_path, "agencies", "add", wrong, "--name", "机构", "--template", "degree-certificate"
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "code" in done.stderr
    assert "check character" in done.stderr
    assert wrong not in done.stderr
    assert "Traceback" not in done.stderr
    unknown = _run(tmp_path, "agencies", "retire", MARKET)
    assert unknown.returncode == 2
    assert "no agency" in unknown.stderr
    assert MARKET not in unknown.stderr
    template = _run(tmp_path, "agencies", "add", MARKET, "--name", "机构", "--template", "nope")
    assert template.returncode == 2
    assert "templates" in template.stderr


def test_clients_are_given_and_changed_their_agencies(tmp_path: Path) -> None:
    for code, template in ((EDUCATION, "degree-certificate"), (MARKET, "business-licence")):
        _json(tmp_path, "agencies", "add", code, "--name", "机构", "--template", template)
    base = ["clients", "create", "--name", "sys", "--org", "330000", "--role", "issuer"]
    created = _json(tmp_path, *base, "--id", "sys-1", "--agencies", f"{EDUCATION},{MARKET}")
    assert created["agencies"] == [EDUCATION, MARKET]
    none = _json(tmp_path, *base, "--id", "sys-2")
    assert none["agencies"] == []
    opened = _json(tmp_path, "clients", "update", "sys-2", "--all-agencies")
    assert opened["agencies"] is None
    narrowed = _json(tmp_path, "clients", "update", "sys-1", "--agencies", MARKET)
    assert narrowed["agencies"] == [MARKET]
    cleared = _run(tmp_path, "clients", "update", "sys-1", "--agencies", "")
    assert cleared.returncode == 0, cleared.stderr
    assert "issues for none" in cleared.stdout
    listed = _run(tmp_path, "clients", "list")
    assert "sys-1" in listed.stdout
    assert "issues for none" in listed.stdout
    assert "issues for every agency of the province" in listed.stdout
    both = _run(tmp_path, "clients", "update", "sys-1", "--agencies", MARKET, "--all-agencies")
    assert both.returncode == 2
    unregistered = _run(tmp_path, *base, "--id", "sys-3", "--agencies", "11330000TB0000003K")
    assert unregistered.returncode == 2
    assert "agencies" in unregistered.stderr
    assert "11330000TB0000003K" not in unregistered.stderr
