"""The demo's identity provider: ``make run`` signs staff in without a real one.

DEMO ONLY. With ``TONGBAN_DEMO`` and no ``oidc_issuer`` set, the supervisor
starts ``idp/server.mjs`` (oidc-provider) on a free loopback port, registers
this service as its client (a fresh secret each start), and one machine
client for client-credentials tokens, with four staff accounts per demo
province (clerk/verifier, issuer, auditor, operator), each in a group of its
province only. The accounts and the machine client are written to
``<data dir>/demo/<division>/staff.json`` (mode 0600); the banner is not
changed (one log line names the file). The provider stops with the service.

The demo's second province (started by hand from ``demo/440000/tongban.toml``)
signs its staff in at the same provider: it is registered as a client too, and
its sign-in settings are appended to that file at each start (a fresh secret
each time; the file is made 0600). It needs a fixed ``http_port`` (its
redirect URI is built from it); with port 0 it gets no sign-in, and a log line
says so.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from api.province.clients import Role
from api.runtime.demo import DEMO_PROVINCES, DemoProvince, second_province_config
from api.runtime.idp import IdpProcess, start_idp
from api.runtime.parts import status_lists_base
from api.runtime.settings import Settings, SettingsError

log = logging.getLogger(__name__)

STAFF = (
    ("clerk", "窗口核验员", Role.VERIFIER),
    ("issuer", "签发员", Role.ISSUER),
    ("auditor", "审计员", Role.AUDITOR),
    ("operator", "运维员", Role.OPERATOR),
)
"""Account suffix, display name, and the Tongban role its group maps to."""


def staff_path(settings: Settings, division: int) -> Path:
    """Where the demo staff accounts of ``division`` are written."""
    return settings.data_dir / "demo" / str(division) / "staff.json"


def _accounts() -> dict[str, dict[str, Any]]:
    accounts: dict[str, dict[str, Any]] = {}
    for province in DEMO_PROVINCES:
        for suffix, name, role in STAFF:
            accounts[f"{province.division_code}-{suffix}"] = {
                "name": f"{name} {province.division_code}",
                "groups": [f"{province.division_code}-{role.value}s"],
            }
    return accounts


SIGNIN_BLOCK = "# -- demo staff sign-in (rewritten at each start of the first province) --\n"


def _group_roles(division: int) -> str:
    return ";".join(f"{division}-{role.value}s={role.value}" for _, _, role in STAFF)


def _code_flow_client(client_id: str, secret: str, base: str) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uris": [base.rstrip("/") + "/signin/callback"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


def _second_provinces(settings: Settings) -> list[tuple[DemoProvince, str]]:
    """The other demo provinces with the base URL each will serve on (fixed ports only)."""
    found = []
    for province in DEMO_PROVINCES:
        if province.division_code == settings.division_code:
            continue
        if not settings.http_port:
            log.info(
                "the demo's province %s gets no staff sign-in: http_port 0 leaves its "
                "redirect URI unknown",
                province.division_code,
            )
            continue
        port = settings.http_port + province.http_port_offset
        found.append((province, f"http://127.0.0.1:{port}"))
    return found


def _append_signin(config: Path, issuer: str, client_id: str, secret: str, division: int) -> None:
    """Replace the sign-in block of the second province's TOML file (which holds a secret)."""
    kept = config.read_text("utf-8").split(SIGNIN_BLOCK)[0] if config.exists() else ""
    block = (
        f"{SIGNIN_BLOCK}"
        f'oidc_issuer = "{issuer}"\n'
        f'oidc_client_id = "{client_id}"\n'
        f'oidc_client_secret = "{secret}"\n'
        f'oidc_group_roles = "{_group_roles(division)}"\n'
    )
    config.parent.mkdir(parents=True, exist_ok=True)
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(kept + block, "utf-8")


def start_demo_idp(settings: Settings) -> tuple[Settings, IdpProcess]:
    """Start the demo provider; ``settings`` with the sign-in settings that use it."""
    base = status_lists_base(settings)
    if base is None:
        raise SettingsError("the demo sign-in needs public_url or a loopback http_host")
    division = settings.division_code
    client_id, secret = f"tongban-{division}", secrets.token_urlsafe(32)
    machine_id, machine_secret = f"demo-machine-{division}", secrets.token_urlsafe(32)
    resource = f"urn:tongban:{division}"
    scopes = [f"tongban:{role.value}" for _, _, role in STAFF]
    others = _second_provinces(settings)
    other_secrets = [secrets.token_urlsafe(32) for _ in others]
    config = {
        "port": 0,
        "resource": resource,
        "apiScopes": scopes,
        "accounts": _accounts(),
        "clients": [
            _code_flow_client(client_id, secret, base),
            *(
                _code_flow_client(f"tongban-{other.division_code}", other_secret, other_base)
                for (other, other_base), other_secret in zip(others, other_secrets, strict=True)
            ),
            {
                "client_id": machine_id,
                "client_secret": machine_secret,
                "grant_types": ["client_credentials"],
                "response_types": [],
                "redirect_uris": [],
                "scope": " ".join(scopes),
            },
        ],
    }
    directory = settings.data_dir / "demo" / "idp"
    directory.mkdir(parents=True, exist_ok=True)
    idp = start_idp(config, directory / "config.json", directory / "idp.log")
    group_roles = _group_roles(division)
    scope_roles = ";".join(f"tongban:{role.value}={role.value}" for _, _, role in STAFF)
    updated = settings.model_copy(
        update={
            "oidc_issuer": idp.issuer,
            "oidc_client_id": client_id,
            "oidc_client_secret": secret,
            "oidc_group_roles": group_roles,
            "oidc_api_audience": resource,
            "oidc_scope_roles": scope_roles,
        }
    )
    _write_staff(settings, division, base, idp.issuer, (resource, machine_id, machine_secret))
    for (other, other_base), other_secret in zip(others, other_secrets, strict=True):
        other_id = f"tongban-{other.division_code}"
        _append_signin(
            second_province_config(settings),
            idp.issuer,
            other_id,
            other_secret,
            other.division_code,
        )
        _write_staff(settings, other.division_code, other_base, idp.issuer, None)
    log.info(
        "demo staff sign-in at %s/signin; accounts in %s", base, staff_path(settings, division)
    )
    return updated, idp


def _write_staff(
    settings: Settings,
    division: int,
    base: str,
    issuer: str,
    machine: tuple[str, str, str] | None,
) -> None:
    """Write ``division``'s staff.json; ``machine``: (resource, client id, secret) or None."""
    staff: dict[str, Any] = {
        "signIn": base.rstrip("/") + "/signin",
        "identityProvider": issuer,
        "note": "DEMO ONLY: choose an account on the provider's page; no password.",
        "accounts": {f"{division}-{suffix}": role.value for suffix, _name, role in STAFF},
    }
    if machine is not None:
        resource, machine_id, secret = machine
        staff["machineClient"] = {
            "clientId": machine_id,
            "clientSecret": secret,
            "tokenEndpoint": issuer + "/token",
            "resource": resource,
            "scopes": [f"tongban:{role.value}" for _, _, role in STAFF],
        }
    path = staff_path(settings, division)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a fresh secret each start
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(staff, handle, indent=2, ensure_ascii=False)
