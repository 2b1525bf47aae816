"""hardhat-free-docker: the compose file and Dockerfile, checked without a Docker engine.

No Docker engine runs on this project's machines, so nothing here starts a
container. The compose file is validated against the Compose Specification's
JSON schema (copied with provenance into tests/vectors/compose-spec/), and
everything it refers to is checked against the repository and the code read
at test time: files, ports, volumes, health checks, settings, the Besu
genesis and permissioning files. ``consortium_init.py``'s steps that need no
chain run for real, and the consortium step runs against a real anvil node.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import yaml  # type: ignore[import-untyped]

from api.runtime.settings import CLIENT_ENV, CONFIG_ENV, ENV_PREFIX, Settings
from ledger.chain.contracts.registry import IssuerRegistry, IssuerStatus
from ledger.chain.genesis import decode_qbft_extra_data, enode_id, node_address
from ledger.chain.node.accounts import load_keystore
from ledger.chain.node.client import ChainClient
from tests.helpers.processes import TONGBAN, tongban_env

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "hardhat-free-docker"
COMPOSE_TEXT = (DOCKER / "compose.yaml").read_text("utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (DOCKER / "Dockerfile").read_text("utf-8")
SCHEMA = json.loads((ROOT / "tests/vectors/compose-spec/compose-spec.json").read_text("utf-8"))
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _profiles(name: str) -> set[str]:
    return set(SERVICES[name].get("profiles", []))


def _volumes(service: dict[str, Any]) -> list[tuple[str, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts.append((str(volume.get("source", "")), str(volume["target"])))
        else:
            source, _, rest = str(volume).partition(":")
            mounts.append((source, rest.split(":")[0]))
    return mounts


def _published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of each published port."""
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((port.get("host_ip", ""), int(port["published"]), int(port["target"])))
            continue
        parts = str(port).split(":")
        if len(parts) == 3:
            ports.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            ports.append(("", int(parts[0]), int(parts[1])))
        else:
            ports.append(("", 0, int(parts[0])))
    return ports


def _depends(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


# ---- the Compose specification ----


def test_compose_file_is_valid_against_the_compose_specification_schema() -> None:
    validator = jsonschema_rs.validator_for(SCHEMA)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_the_schema_check_can_fail() -> None:
    validator = jsonschema_rs.validator_for(SCHEMA)
    broken = {"services": {"x": {"image": "a", "helthcheck": {}}}}
    assert not validator.is_valid(broken)


def test_both_profiles_run_two_provinces_and_their_databases() -> None:
    for profile, chain in (("quickstart", "ganache"), ("besu", "validator-")):
        provinces = [n for n, s in SERVICES.items() if profile in _profiles(n) and s.get("ports")]
        assert len(provinces) == 2, profile
        divisions = {_environment(SERVICES[n])["TONGBAN_DIVISION_CODE"] for n in provinces}
        assert divisions == {"330000", "440000"}
        for name in provinces:
            env = _environment(SERVICES[name])
            assert chain in env["TONGBAN_CHAIN"]
            assert env["TONGBAN_DATABASE_URL"].startswith("postgresql://")
            database = urlsplit(env["TONGBAN_DATABASE_URL"]).hostname
            assert database in SERVICES
            assert SERVICES[database]["image"].startswith("postgres:")
            assert database in _depends(SERVICES[name])


# ---- settings ----


def _known_settings() -> set[str]:
    return {ENV_PREFIX + f.upper() for f in Settings.model_fields} | {CONFIG_ENV} | CLIENT_ENV


def test_every_tongban_variable_in_the_compose_file_is_a_setting_read_now() -> None:
    used = set(re.findall(r"\bTONGBAN_[A-Z0-9_]+\b", COMPOSE_TEXT))
    unknown = sorted(used - _known_settings())
    assert unknown == []
    assert "TONGBAN_DATABASE_URL" in used
    assert "TONGBAN_ALLOW_PLAIN_HTTP" in used


def test_every_tongban_variable_in_the_dockerfile_is_a_setting() -> None:
    used = set(re.findall(r"\bTONGBAN_[A-Z0-9_]+\b", DOCKERFILE))
    assert used
    assert sorted(used - _known_settings()) == []


def test_plain_http_is_allowed_only_with_a_comment_saying_why() -> None:
    lines = COMPOSE_TEXT.splitlines()
    settings = [i for i, line in enumerate(lines) if "TONGBAN_ALLOW_PLAIN_HTTP:" in line]
    assert settings
    for index in settings:
        above = lines[max(0, index - 6) : index]
        assert any(line.strip().startswith("#") for line in above), lines[index]


def test_each_province_publishes_the_port_its_public_url_names() -> None:
    for name, service in SERVICES.items():
        env = _environment(service)
        if "TONGBAN_PUBLIC_URL" not in env:
            continue
        (_host_ip, host_port, container_port) = _published(service)[0]
        assert urlsplit(env["TONGBAN_PUBLIC_URL"]).port == host_port, name
        assert str(container_port) == env["TONGBAN_HTTP_PORT"], name


def test_the_besu_provinces_take_their_passphrases_from_the_environment_or_stop() -> None:
    for name in (n for n in SERVICES if "besu" in _profiles(n)):
        for key, value in _environment(SERVICES[name]).items():
            if "PASSPHRASE" in key:
                match = INTERPOLATION.fullmatch(value)
                assert match is not None, (name, key)
                assert ":?" in value, (name, key)


def _secret(value: str) -> str:
    """A literal, or the name of the variable a ``${NAME:?...}`` takes it from."""
    match = INTERPOLATION.fullmatch(value)
    return f"${match[1]}" if match else value


def test_each_province_unlocks_the_account_its_set_up_steps_created() -> None:
    default = Settings.model_fields["evm_key_passphrase"].default.get_secret_value()
    for name, service in SERVICES.items():
        env = _environment(service)
        if "TONGBAN_DIVISION_CODE" not in env:
            continue
        division = env["TONGBAN_DIVISION_CODE"]
        own = _secret(env.get("TONGBAN_EVM_KEY_PASSPHRASE", default))
        steps = [
            n
            for n, s in SERVICES.items()
            if s.get("restart") == "no" and _profiles(n) & _profiles(name)
        ]
        assert steps, name
        for step in steps:
            given = _environment(SERVICES[step])[f"PROVINCE_{division}_EVM_KEY_PASSPHRASE"]
            assert _secret(given) == own, (name, step)


# ---- files, ports, volumes, health ----


def test_every_bind_mounted_file_exists_in_the_repository() -> None:
    sources = [
        (name, source)
        for name, service in SERVICES.items()
        for source, _target in _volumes(service)
        if source.startswith((".", "/"))
    ]
    assert sources
    for name, source in sources:
        assert (DOCKER / source).resolve().exists(), (name, source)
        assert (DOCKER / source).resolve().is_relative_to(ROOT), (name, source)


def test_every_env_file_and_build_context_exists() -> None:
    for name, service in SERVICES.items():
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            assert (DOCKER / path).exists(), (name, path)
        build = service.get("build")
        if build is not None:
            context = DOCKER / build["context"]
            assert (context / build["dockerfile"]).is_file(), name
    for config in (COMPOSE.get("configs") or {}).values():
        assert (DOCKER / config["file"]).exists()


def test_named_volumes_are_declared_and_every_declared_volume_is_used() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    used = {
        source
        for service in SERVICES.values()
        for source, _target in _volumes(service)
        if source and not source.startswith((".", "/"))
    }
    assert used - declared == set()
    assert declared - used == set()


def test_published_ports_are_unique_and_bound_to_loopback() -> None:
    published = [(n, p) for n, s in SERVICES.items() for p in _published(s)]
    assert published
    hosts = [host_port for _name, (_ip, host_port, _c) in published]
    assert len(hosts) == len(set(hosts))
    for name, (host_ip, host_port, _container) in published:
        assert host_ip == "127.0.0.1", name
        assert host_port > 0, name


def test_dependencies_exist_share_a_profile_and_are_healthy_or_finished() -> None:
    for name, service in SERVICES.items():
        for target, condition in _depends(service).items():
            assert target in SERVICES, (name, target)
            if _profiles(target):
                assert _profiles(target) & _profiles(name), (name, target)
            if condition == "service_healthy":
                check = SERVICES[target].get("healthcheck") or {}
                assert check.get("test"), (name, target)
                assert not check.get("disable"), (name, target)
            if condition == "service_completed_successfully":
                assert SERVICES[target].get("restart") == "no", (name, target)


def test_long_running_services_have_a_health_check() -> None:
    for name, service in SERVICES.items():
        if service.get("restart") == "no":
            continue
        check = service.get("healthcheck")
        image_check = service.get("build") is not None and "HEALTHCHECK" in DOCKERFILE
        assert (check and check.get("test")) or image_check, name


# ---- the Dockerfile ----


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    rows = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def test_dockerfile_base_images_are_pinned_by_tag_never_latest() -> None:
    stages: set[str] = set()
    images = []
    for keyword, rest in _instructions():
        if keyword == "FROM":
            parts = rest.split()
            if len(parts) == 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
            images.append(parts[0])
    assert images
    for image in images:
        if image in stages:
            continue
        if "@sha256:" in image:
            continue
        _name, _, tag = image.partition(":")
        assert tag, image
        assert tag != "latest", image
    assert SERVICES["validator-330000"]["image"] == "hyperledger/besu:25.11.0"
    assert SERVICES["postgres-330000"]["image"] == "postgres:15-bookworm"


def test_dockerfile_runs_as_a_non_root_user_with_a_health_check() -> None:
    rows = _instructions()
    users = [rest for keyword, rest in rows if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0", "0:0")
    assert any(keyword == "HEALTHCHECK" for keyword, _ in rows)


def test_dockerfile_installs_only_pinned_dependencies() -> None:
    runs = [rest for keyword, rest in _instructions() if keyword == "RUN"]
    pip = [r for r in runs if "pip install" in r]
    assert pip
    assert all("-c constraints.txt" in r for r in pip)
    npm = [r for r in runs if "npm " in r]
    assert npm
    assert all("npm ci" in r for r in npm)


def test_dockerfile_copies_only_files_that_exist() -> None:
    for keyword, rest in _instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        sources = [s for s in rest.split() if not s.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source


# ---- the besu profile ----


def _validators() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in SERVICES.items() if s.get("image", "").startswith("hyperledger/besu")}


def _mounted(service: dict[str, Any], target: str) -> Path:
    (source,) = [s for s, t in _volumes(service) if t == target]
    return (DOCKER / source).resolve()


def test_four_validators_each_in_the_genesis_and_the_nodes_allowlist_at_its_address() -> None:
    validators = _validators()
    assert len(validators) == 4
    genesis_files = {_mounted(s, "/config/genesis.json") for s in validators.values()}
    assert genesis_files == {DOCKER / "besu" / "genesis.json"}
    genesis = json.loads((DOCKER / "besu" / "genesis.json").read_text("utf-8"))
    in_genesis = set(decode_qbft_extra_data(bytes.fromhex(genesis["extraData"][2:])).validators)
    template = tomllib.loads((DOCKER / "besu" / "permissions_config.toml").read_text("utf-8"))
    allowlist = set(template["nodes-allowlist"])
    subnet = COMPOSE["networks"]["besu"]["ipam"]["config"][0]
    addresses = set()
    for name, service in validators.items():
        key = bytes.fromhex(_mounted(service, "/config/key").read_text().strip()[2:])
        addresses.add(node_address(key))
        ip = service["networks"]["besu"]["ipv4_address"]
        assert f"enode://{enode_id(key)}@{ip}:30303" in allowlist, name
        assert ip.startswith(subnet["subnet"].rsplit(".", 1)[0] + "."), name
        last = int(ip.rsplit(".", 1)[1])
        assert not last >= int(subnet["ip_range"].split(".")[3].split("/")[0]), name
        command = " ".join(service["command"])
        assert "--permissions-nodes-config-file-enabled=true" in command
        assert "--permissions-accounts-config-file-enabled=true" in command
        assert "--min-gas-price=0" in command
    assert addresses == in_genesis


def test_the_besu_chain_id_is_the_one_every_besu_service_uses() -> None:
    genesis = json.loads((DOCKER / "besu" / "genesis.json").read_text("utf-8"))
    chain_id = str(genesis["config"]["chainId"])
    assert genesis["config"]["shanghaiTime"] == 0
    for name in (n for n in SERVICES if "besu" in _profiles(n)):
        env = _environment(SERVICES[name])
        if "TONGBAN_CHAIN_ID" in env:
            assert env["TONGBAN_CHAIN_ID"] == chain_id, name
        for arg in SERVICES[name].get("command") or []:
            if str(arg).startswith("--chain-id="):
                assert str(arg).split("=", 1)[1] == chain_id, name


# ---- consortium_init.py, the steps that need no chain ----

INIT = DOCKER / "consortium_init.py"


def _init(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(INIT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_permissions_step_creates_the_accounts_and_allowlists_them(tmp_path: Path) -> None:
    out = tmp_path / "permissions_config.toml"
    env = {
        "PROVINCE_330000_EVM_KEY_PASSPHRASE": "first-test-passphrase",
        "PROVINCE_440000_EVM_KEY_PASSPHRASE": "second-test-passphrase",
    }
    args = [
        "permissions",
        f"--template={DOCKER / 'besu' / 'permissions_config.toml'}",
        f"--out={out}",
        f"--province=330000={tmp_path / '330000'}",
        f"--province=440000={tmp_path / '440000'}",
    ]
    first = _init(*args, env=env)
    assert first.returncode == 0, first.stderr
    written = tomllib.loads(out.read_text("utf-8"))
    accounts = {
        load_keystore(tmp_path / d / "keys" / "evm-operator.json", env[p]).address
        for d, p in (
            ("330000", "PROVINCE_330000_EVM_KEY_PASSPHRASE"),
            ("440000", "PROVINCE_440000_EVM_KEY_PASSPHRASE"),
        )
    }
    assert set(written["accounts-allowlist"]) == accounts
    template = tomllib.loads((DOCKER / "besu" / "permissions_config.toml").read_text("utf-8"))
    assert written["nodes-allowlist"] == template["nodes-allowlist"]
    again = _init(*args, env=env)  # a rerun keeps the same accounts
    assert again.returncode == 0
    assert set(tomllib.loads(out.read_text("utf-8"))["accounts-allowlist"]) == accounts


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--province=330000=/tmp/x"], {}, "PROVINCE_330000_EVM_KEY_PASSPHRASE is not set"),
        (["--province=33=/tmp/x"], {}, "a province is DIVISION=/absolute/data/dir"),
    ],
)
def test_permissions_step_bad_input_is_one_error_line(
    args: list[str], env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    clean = {"PROVINCE_330000_EVM_KEY_PASSPHRASE": ""} | env
    template = f"--template={DOCKER / 'besu' / 'permissions_config.toml'}"
    result = _init("permissions", template, f"--out={tmp_path / 'p.toml'}", *args, env=clean)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {expected}")
    assert not (tmp_path / "p.toml").exists()


def test_join_config_names_the_three_contracts_as_settings() -> None:
    sys.path.insert(0, str(DOCKER))
    try:
        import consortium_init  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(DOCKER))
    contracts = {
        "IssuerRegistry": {"address": "0x" + "11" * 20},
        "CredentialAnchor": {"address": "0x" + "22" * 20},
        "AuditAnchor": {"address": "0x" + "33" * 20},
    }
    document = tomllib.loads(consortium_init.join_document(contracts))
    assert document == {
        "registry": "0x" + "11" * 20,
        "credential_anchor": "0x" + "22" * 20,
        "audit_anchor": "0x" + "33" * 20,
    }
    assert set(document) <= set(Settings.model_fields)
    with pytest.raises(consortium_init.InitError, match="AuditAnchor"):
        consortium_init.join_document({k: v for k, v in contracts.items() if k != "AuditAnchor"})


def test_consortium_step_deploys_writes_join_toml_and_admits_the_second_province(
    anvil: ChainClient, tmp_path: Path
) -> None:
    """The quick start's set-up step, run against a real (anvil) node instead of ganache."""
    env = {
        "PROVINCE_330000_EVM_KEY_PASSPHRASE": "first-test-passphrase",
        "PROVINCE_440000_EVM_KEY_PASSPHRASE": "second-test-passphrase",
    }
    (tmp_path / "deployment").mkdir()
    args = [
        "consortium",
        f"--chain={anvil.url}",
        f"--chain-id={anvil.chain_id}",
        f"--first=330000={tmp_path / '330000'}",
        "--join=440000:2:Guangdong",
        f"--data-root={tmp_path}",
        f"--deployment-dir={tmp_path / 'deployment'}",
    ]
    first = _init(*args, env=env)
    assert first.returncode == 0, first.stderr
    join = tomllib.loads((tmp_path / "deployment" / "join.toml").read_text("utf-8"))
    assert set(join) == {"registry", "credential_anchor", "audit_anchor"}
    for address in join.values():
        assert anvil.code(address)
    second_account = load_keystore(
        tmp_path / "440000" / "keys" / "evm-operator.json", "second-test-passphrase"
    ).address
    registry = IssuerRegistry(anvil, join["registry"])
    assert registry.issuer_status(2) is IssuerStatus.ACTIVE
    assert registry.issuer(2).admin.lower() == second_account.lower()
    first_account = load_keystore(
        tmp_path / "330000" / "keys" / "evm-operator.json", "first-test-passphrase"
    ).address
    sent = anvil.nonce(first_account)
    again = _init(*args, env=env)  # compose reruns it on every `up`
    assert again.returncode == 0, again.stderr
    assert anvil.nonce(first_account) == sent  # nothing deployed or proposed twice
    rerun_join = tomllib.loads((tmp_path / "deployment" / "join.toml").read_text("utf-8"))
    assert rerun_join == join
    # join.toml is a settings file the second province starts with: it joins, deploys nothing.
    joined = subprocess.run(
        [TONGBAN, "chain", "deploy", "--json"],
        capture_output=True,
        text=True,
        env=tongban_env(
            TONGBAN_CONFIG=str(tmp_path / "deployment" / "join.toml"),
            TONGBAN_DATA_DIR=str(tmp_path / "440000"),
            TONGBAN_CHAIN=anvil.url,
            TONGBAN_CHAIN_ID=str(anvil.chain_id),
            TONGBAN_EVM_KEY_PASSPHRASE="second-test-passphrase",
        ),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert joined.returncode == 0, joined.stderr
    described = json.loads(joined.stdout.splitlines()[-1])
    assert described["operatorAccount"].lower() == second_account.lower()
    assert described["contracts"]["IssuerRegistry"]["address"] == join["registry"]
