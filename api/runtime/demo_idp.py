"""The demo's identity provider: ``make run`` signs staff in without a real one.

DEMO ONLY. With ``TONGBAN_DEMO`` and no ``oidc_issuer`` set, the supervisor
starts ``idp/server.mjs`` (oidc-provider) on a free loopback port, registers
this service as its client (a fresh secret each start), and one machine
client for client-credentials tokens, with four staff accounts per demo
province (clerk/verifier, issuer, auditor, operator), each in a group of its
province only. The accounts and the machine client are written to
``<data dir>/demo/<division>/staff.json`` (mode 0600); the banner is not
changed (one log line names the file). The provider stops with the service.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from api.province.clients import Role
from api.runtime.demo import DEMO_PROVINCES
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
    config = {
        "port": 0,
        "resource": resource,
        "apiScopes": scopes,
        "accounts": _accounts(),
        "clients": [
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": [base.rstrip("/") + "/signin/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
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
    group_roles = ";".join(f"{division}-{role.value}s={role.value}" for _, _, role in STAFF)
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
    _write_staff(settings, base, idp.issuer, resource, machine_id, machine_secret)
    log.info(
        "demo staff sign-in at %s/signin; accounts in %s", base, staff_path(settings, division)
    )
    return updated, idp


def _write_staff(
    settings: Settings, base: str, issuer: str, resource: str, machine: str, secret: str
) -> None:
    division = settings.division_code
    staff = {
        "signIn": base.rstrip("/") + "/signin",
        "identityProvider": issuer,
        "note": "DEMO ONLY: choose an account on the provider's page; no password.",
        "accounts": {f"{division}-{suffix}": role.value for suffix, _name, role in STAFF},
        "machineClient": {
            "clientId": machine,
            "clientSecret": secret,
            "tokenEndpoint": issuer + "/token",
            "resource": resource,
            "scopes": [f"tongban:{role.value}" for _, _, role in STAFF],
        },
    }
    path = staff_path(settings, division)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a fresh secret each start
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(staff, handle, indent=2, ensure_ascii=False)
