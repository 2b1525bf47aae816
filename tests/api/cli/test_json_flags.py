"""Every ``tongban`` command has ``--json``, a flag, and prints camelCase member names.

The flag tests walk the click tree of the real app, so a command added later
without ``--json`` fails here. No command is exempt: even ``serve``, which
runs until stopped, prints its description as JSON. The ``wallet`` commands
are held to the same rule.

The camelCase tests run each command's ``--json`` path in process (typer's
``CliRunner``) against a province served on the test chain, and check every
member name in what it prints, except inside members that are data: a
credential (W3C names such as ``@context``), the claims of a request (the
template's claim names) and ``keys respond``'s replacements (digests).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from api.cli.main import build_app
from api.province.clients import Role
from credentials.holder import Holder
from ledger.chain.node.accounts import save_keystore
from tests.helpers.admin_province import admin_province, drive
from tests.helpers.contracts import GD, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import PERSONAL, ServedProvince

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
OPTION_ROW = re.compile(r"^[\s│|]*--json(\s|$)")

DATA_MEMBERS = frozenset({"credential", "replacements"})
"""Members whose value is data with names of its own, not names this project chose."""

GOVERNOR_PASSPHRASE = "governor-test-passphrase"


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    # typer parses with its own copy of click, so groups are told apart by duck typing.
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in sorted(subcommands.items()):
        yield from _leaves(sub, (*path, name))


app = build_app([])  # every command, as `tongban --help` sees them
LEAVES = dict(_leaves(typer.main.get_command(app)))


def _json_option(command: Any) -> Any:
    found = [p for p in command.params if "--json" in getattr(p, "opts", ())]
    assert len(found) == 1, "no --json option"
    return found[0]


def test_the_walk_sees_every_command_group() -> None:
    groups = {path[0] for path in LEAVES if len(path) > 1}
    assert groups == {
        "agencies",
        "audit",
        "chain",
        "clients",
        "directory",
        "document",
        "governance",
        "keys",
        "offers",
        "wallet",
        "zhengzhao",
    }
    assert {("issue",), ("verify",), ("revoke",), ("templates",), ("serve",)} <= set(LEAVES)


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_every_leaf_command_has_a_json_flag(path: tuple[str, ...]) -> None:
    command = LEAVES[path]
    option = _json_option(command)
    assert option.is_flag
    assert option.secondary_opts == []  # no --no-json
    assert option.default is False
    context = command.make_context(path[-1], [], resilient_parsing=True)
    record = option.get_help_record(context)
    assert record is not None
    assert record[0] == "--json"


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_help_shows_json_as_a_flag(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    # The option's own row in the options panel (help texts may mention --json too).
    lines = [line for line in result.output.splitlines() if OPTION_ROW.match(line)]
    assert len(lines) == 1, result.output
    help_text = _json_option(LEAVES[path]).help
    # The option's help follows the name directly: no <bool>, BOOLEAN or other placeholder.
    assert re.search(r"--json\s+" + re.escape(help_text.split()[0]), lines[0]), lines[0]
    assert "<bool>" not in lines[0]
    assert "BOOLEAN" not in lines[0]
    # --help is a flag too (typer 0.29 would show `--help <bool>`: api/cli/main.py).
    [help_row] = [line for line in result.output.splitlines() if "--help " in line]
    assert re.search(r"--help\s+Show this message", help_row), help_row


# -- camelCase ------------------------------------------------------------------------------


def _names(document: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(place, name)`` of every member name in ``document``, skipping data members."""
    if isinstance(document, list):
        for number, item in enumerate(document):
            yield from _names(item, f"{where}[{number}]")
    elif isinstance(document, dict):
        for name, value in document.items():
            yield where, name
            if name in DATA_MEMBERS or (name == "claims" and isinstance(value, dict)):
                continue
            yield from _names(value, f"{where}.{name}")


def test_the_name_walk_skips_data_but_nothing_else() -> None:
    document = {
        "credential": {"@context": []},
        "claims": {"holder_name": 1},
        "templates": [{"claims": [{"min_length": 1}]}],
    }
    assert [name for _, name in _names(document)] == [
        "credential",
        "claims",
        "templates",
        "claims",
        "min_length",
    ]


def _assert_camel(documents: Sequence[dict[str, Any]]) -> None:
    assert documents, "the command printed nothing"
    for document in documents:
        bad = [
            f"{where or '.'} {name}" for where, name in _names(document) if not CAMEL.match(name)
        ]
        assert not bad, bad


class Cli:
    """``tongban`` in process, with a clean environment and the logging left alone."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # load_cli_settings configures logging: not this test process's.
        monkeypatch.setattr("api.runtime.logs.configure_logging", lambda *_: None)
        self.runner = CliRunner()
        self.clean: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("TONGBAN_")
        }

    def json(
        self, *args: str, env: Mapping[str, str] | None = None, exit_codes: Sequence[int] = (0,)
    ) -> list[dict[str, Any]]:
        """Run ``tongban ARGS --json``; each line of its standard output, checked camelCase."""
        result = self.runner.invoke(app, [*args, "--json"], env={**self.clean, **(env or {})})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code in exit_codes, (args, result.output)
        documents = [json.loads(line) for line in result.stdout.splitlines()]
        _assert_camel(documents)
        return documents


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(monkeypatch)


def test_templates_and_clients_print_camel_case(cli: Cli, tmp_path: Path) -> None:
    entries = cli.json("templates")
    assert {"schemaId", "exampleRequest"} <= set(entries[0])
    (example,) = cli.json("templates", "--example", "degree-certificate")
    assert set(example) >= {"template", "holder", "claims"}

    data = ["--data-dir", str(tmp_path)]
    base = ["--name", "ops", "--org", "330000", "--role", "operator"]
    (created,) = cli.json("clients", "create", *base, "--id", "ops-1", *data)
    assert set(created) == {
        "clientId",
        "name",
        "organisation",
        "roles",
        "createdAt",
        "revokedAt",
        "active",
        "agencies",
        "token",
    }
    cli.json("clients", "create", *base, "--id", "ops-2", *data)
    (revoked,) = cli.json("clients", "revoke", "ops-2", *data)
    assert revoked["active"] is False
    (listed,) = cli.json("clients", "list", *data)
    assert [c["clientId"] for c in listed["clients"]] == ["ops-1", "ops-2"]


def _client(province: ServedProvince, role: Role) -> dict[str, str]:
    url = f"http://127.0.0.1:{province.server.port}"
    return {"TONGBAN_API_URL": url, "TONGBAN_API_TOKEN": province.tokens[role]}


def test_province_commands_print_camel_case(cli: Cli, world: World, tmp_path: Path) -> None:
    with admin_province(world, tmp_path) as province:
        issuer = _client(province, Role.ISSUER)
        claims = tmp_path / "claims.json"
        claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False), "utf-8")
        request = ["--template", "degree-certificate", "--claims", str(claims)]
        holder = ["--holder", Holder.generate().did]
        (answer,) = cli.json("issue", *request, *holder, env=issuer)
        assert set(answer) == {"digest", "credential", "anchoring"}
        out_dir = tmp_path / "issued"
        (filed,) = cli.json("issue", *request, *holder, "--out", str(out_dir), env=issuer)
        assert set(filed) == {"digest", "file", "anchoring"}
        province.anchor_all()

        read = province.request(
            "GET", f"/credentials/{answer['digest']}", Role.ISSUER, headers=PERSONAL
        )
        credential = tmp_path / "credential.json"
        credential.write_text(json.dumps(read.json()["credential"], ensure_ascii=False))
        (result,) = cli.json("verify", str(credential), env=_client(province, Role.VERIFIER))
        assert result["verdict"] == "VALID", result

        prefix = filed["digest"][:8]
        revoke = ["revoke", prefix, "--issued", str(out_dir), "--reason", "superseded"]
        (revoked,) = cli.json(*revoke, env=issuer)
        assert [r["count"] for r in revoked["requests"]] == [1]

        province.parts.checkpoints.maybe_checkpoint(force=True)
        province.anchor_all()
        export = tmp_path / "export.jsonl"
        auditor = _client(province, Role.AUDITOR)
        (exported,) = cli.json("audit", "export", "--out", str(export), env=auditor)
        assert set(exported) == {"file", "lines", "bytes"}
        chain = ["--chain", world.client.url, "--chain-id", str(world.client.chain_id)]
        contracts = ["--audit-anchor", world.audit.address, "--registry", world.registry.address]
        verify_export = ["audit", "verify", str(export), "--data-dir", str(tmp_path), *chain]
        (report,) = cli.json(*verify_export, *contracts)
        assert report["valid"] is True, report

        operator = _client(province, Role.OPERATOR)
        (issuer_keys,) = cli.json("keys", "list", env=operator)
        assert issuer_keys["activeKeyId"] == "key-1"
        (rotated,) = cli.json("keys", "rotate", "--key-id", "key-2", env=operator)
        drive(province)
        operation_id = str(rotated["operation"]["operationId"])
        (operation,) = cli.json("keys", "operation", operation_id, env=operator)
        assert operation["state"] == "final"
        since = str(world.now() - 3600)  # before the credentials were anchored
        cli.json("keys", "compromise", "key-1", "--from", since, env=operator)
        drive(province)
        (response,) = cli.json("keys", "respond", "key-1", env=operator)
        assert response["replacements"], response
        cli.json("keys", "retire", "key-2", env=operator)


def test_governance_commands_print_camel_case(cli: Cli, world: World, tmp_path: Path) -> None:
    keystores = []
    for number in (1, 2):
        keystore = tmp_path / f"governor-{number}.json"
        save_keystore(world.accounts.governors[number], keystore, GOVERNOR_PASSPHRASE)
        keystores.append(str(keystore))
    chain = ["--data-dir", str(tmp_path / "cli"), "--chain", world.client.url]
    chain += ["--chain-id", str(world.client.chain_id), "--registry", world.addresses.registry]
    env = {"TONGBAN_GOVERNOR_KEY_PASSPHRASE": GOVERNOR_PASSPHRASE}
    propose = ["governance", "propose", "suspend-issuer", "--issuer-id", str(GD)]
    (proposed,) = cli.json(*propose, "--keystore", keystores[0], *chain, env=env)
    proposal_id = str(proposed["proposalId"])
    (shown,) = cli.json("governance", "show", proposal_id, "--keystore", keystores[1], *chain)
    assert shown["approvedByThisGovernor"] is False
    approve = ["governance", "approve", proposal_id, "--keystore", keystores[1]]
    (approved,) = cli.json(*approve, *chain, env=env)
    assert approved["executed"] is True
    (listed,) = cli.json("governance", "list", *chain)
    assert listed["proposals"][0]["proposalId"] == proposed["proposalId"]
