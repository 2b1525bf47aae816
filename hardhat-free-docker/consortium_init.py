"""One-shot set-up steps of the compose file (run inside the Tongban image).

``permissions``: create (or load) each province's EVM operator account and
write Besu's ``permissions_config.toml``: the committed template's
``nodes-allowlist`` plus those accounts as the ``accounts-allowlist``. It runs
before the validators start, since Besu reads the file at start-up.

``consortium``: the first province deploys the contracts (``tongban chain
deploy``), the addresses go into ``join.toml`` on the shared deployment
volume (the TOML settings file the other provinces start with), and the first
province, sole governor of this demo consortium, admits each joining province
with its operator account as admin (``tongban governance propose
admit-issuer``). An issuer the registry already knows is left alone, so a
rerun (compose runs the step on every ``up``) sends nothing.

A province is ``DIVISION=DATA_DIR``; its EVM keystore passphrase comes from
``PROVINCE_<DIVISION>_EVM_KEY_PASSPHRASE`` (never from the command line).
Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

OPERATOR_KEYSTORE = Path("keys") / "evm-operator.json"
_PROVINCE = re.compile(r"^(?P<division>[1-9][0-9]{5})=(?P<path>/.+)$")
_JOIN = re.compile(
    r"^(?P<division>[1-9][0-9]{5}):(?P<issuer>[1-9][0-9]{0,9}):(?P<name>[A-Za-z0-9 ._-]{1,64})$"
)


class InitError(Exception):
    """A step cannot go on; the message says which and why."""


def parse_province(text: str) -> tuple[int, Path]:
    """``DIVISION=DATA_DIR`` as (division code, absolute data directory)."""
    match = _PROVINCE.match(text)
    if match is None:
        raise InitError("a province is DIVISION=/absolute/data/dir (a 6-digit division code)")
    return int(match["division"]), Path(match["path"])


def parse_join(text: str) -> tuple[int, int, str]:
    """``DIVISION:ISSUER_ID:NAME`` of a joining province."""
    match = _JOIN.match(text)
    if match is None:
        raise InitError("--join is DIVISION:ISSUER_ID:NAME (name: letters, digits, ' ._-')")
    return int(match["division"]), int(match["issuer"]), match["name"]


def passphrase(division: int, environ: dict[str, str]) -> str:
    """The EVM keystore passphrase of province ``division`` from the environment."""
    name = f"PROVINCE_{division}_EVM_KEY_PASSPHRASE"
    value = environ.get(name, "")
    if not value:
        raise InitError(f"{name} is not set")
    return value


def operator_address(data_dir: Path, secret: str) -> str:
    """The province's EVM operator account, created in its data directory if missing."""
    from ledger.chain.node.accounts import load_or_create_keystore

    try:
        account, _created = load_or_create_keystore(data_dir / OPERATOR_KEYSTORE, secret)
    except ValueError:
        raise InitError(
            f"cannot unlock {data_dir / OPERATOR_KEYSTORE}: wrong passphrase?"
        ) from None
    return str(account.address)


def permissions_document(template: str, accounts: list[str]) -> str:
    """The template's ``nodes-allowlist`` with ``accounts`` as the ``accounts-allowlist``."""
    try:
        nodes = tomllib.loads(template).get("nodes-allowlist")
    except tomllib.TOMLDecodeError as exc:
        raise InitError(f"the permissions template is not TOML: {exc}") from None
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, str) for n in nodes):
        raise InitError("the permissions template has no nodes-allowlist of enode URLs")
    return (
        "# Written by consortium_init.py permissions: do not edit (rerun it).\n"
        f"accounts-allowlist={json.dumps(sorted(set(accounts)))}\n"
        f"nodes-allowlist={json.dumps(nodes)}\n"
    )


def join_document(contracts: dict[str, Any]) -> str:
    """``join.toml``: the three addresses a joining province starts with."""
    names = {
        "registry": "IssuerRegistry",
        "credential_anchor": "CredentialAnchor",
        "audit_anchor": "AuditAnchor",
    }
    lines = ["# Written by consortium_init.py consortium: the consortium's contracts."]
    for setting, contract in names.items():
        address = contracts.get(contract, {}).get("address")
        if not isinstance(address, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", address):
            raise InitError(f"the deployment has no {contract} address")
        lines.append(f'{setting} = "{address}"')
    return "\n".join(lines) + "\n"


def _tongban(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    # The console script installed with this interpreter, else the one on PATH.
    beside = Path(sys.executable).with_name("tongban")
    program = str(beside) if beside.is_file() else "tongban"
    result = subprocess.run(
        [program, *args, "--json"], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise InitError(f"tongban {' '.join(args[:2])} failed: {last}")
    try:
        document: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise InitError(f"tongban {' '.join(args[:2])} printed no JSON line") from None
    return document


def _admitted(chain: str, chain_id: int, registry: str, issuer_id: int) -> bool:
    from ledger.chain.contracts.registry import IssuerRegistry, IssuerStatus
    from ledger.chain.errors import ChainError
    from ledger.chain.node.client import ChainClient

    try:
        status = IssuerRegistry(ChainClient(chain, chain_id), registry).issuer_status(issuer_id)
    except ChainError as exc:
        raise InitError(f"cannot read issuer {issuer_id} from the registry: {exc}") from None
    return status is not IssuerStatus.NONE


def _clean_env(environ: dict[str, str], **settings: str) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if not k.startswith("TONGBAN_")}
    env.update(settings)
    return env


def run_permissions(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """Create the operator accounts and write the Besu permissions file."""
    accounts = []
    for text in args.province:
        division, data_dir = parse_province(text)
        accounts.append(operator_address(data_dir, passphrase(division, environ)))
    document = permissions_document(Path(args.template).read_text("utf-8"), accounts)
    Path(args.out).write_text(document, "utf-8")
    print(json.dumps({"accountsAllowlist": sorted(set(accounts)), "out": args.out}))  # noqa: T201


def run_consortium(args: argparse.Namespace, environ: dict[str, str]) -> None:
    """Deploy with the first province, write join.toml, admit the joining provinces."""
    division, data_dir = parse_province(args.first)
    chain = {"TONGBAN_CHAIN": args.chain, "TONGBAN_CHAIN_ID": str(args.chain_id)}
    first_secret = passphrase(division, environ)
    env = _clean_env(
        environ, TONGBAN_DATA_DIR=str(data_dir), TONGBAN_EVM_KEY_PASSPHRASE=first_secret, **chain
    )
    deployed = _tongban(["chain", "deploy"], env)
    deployment_dir = Path(args.deployment_dir)
    (deployment_dir / "join.toml").write_text(join_document(deployed["contracts"]), "utf-8")
    registry = deployed["contracts"]["IssuerRegistry"]["address"]
    for text in args.join:
        join_division, issuer_id, name = parse_join(text)
        if _admitted(args.chain, args.chain_id, registry, issuer_id):
            continue
        join_dir = Path(args.data_root) / str(join_division)
        admin = operator_address(join_dir, passphrase(join_division, environ))
        governor_env = _clean_env(
            environ,
            TONGBAN_DATA_DIR=str(deployment_dir / "governor"),
            TONGBAN_GOVERNOR_KEY_PASSPHRASE=first_secret,
            **chain,
        )
        _tongban(
            [
                "governance",
                "propose",
                "admit-issuer",
                "--issuer-id",
                str(issuer_id),
                "--division-code",
                str(join_division),
                "--name",
                name,
                "--admin",
                admin,
                "--keystore",
                str(data_dir / OPERATOR_KEYSTORE),
                "--registry",
                registry,
            ],
            governor_env,
        )
    print(json.dumps({"registry": registry, "joinConfig": str(deployment_dir / "join.toml")}))  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    """Run one step; 0 on success, 2 with one ``error:`` line on failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    steps = parser.add_subparsers(dest="step", required=True)
    permissions = steps.add_parser("permissions", help="accounts and permissions_config.toml")
    permissions.add_argument("--template", required=True)
    permissions.add_argument("--out", required=True)
    permissions.add_argument("--province", action="append", required=True)
    consortium = steps.add_parser("consortium", help="deploy, join.toml, admissions")
    consortium.add_argument("--chain", required=True)
    consortium.add_argument("--chain-id", type=int, required=True)
    consortium.add_argument("--first", required=True)
    consortium.add_argument("--join", action="append", default=[])
    consortium.add_argument("--data-root", required=True)
    consortium.add_argument("--deployment-dir", required=True)
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    try:
        if args.step == "permissions":
            run_permissions(args, environ)
        else:
            run_consortium(args, environ)
    except (InitError, OSError) as exc:
        message = str(exc) if isinstance(exc, InitError) else f"{exc.strerror}: {exc.filename}"
        print(f"error: {message}", file=sys.stderr)  # noqa: T201
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
