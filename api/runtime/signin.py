"""Staff sign-in from the settings: ``staff_signin(settings, context)`` for each HTTP worker.

The key that turns a provider ``sub`` into the audit log's actor
(``staff:<keyed digest>``) is one random file in the data directory, made once
(mode 0600) and read by every worker, so one staff member is one actor across
workers and restarts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from api.http.context import ProvinceContext
from api.http.signin import (
    AccessTokens,
    Provider,
    Signin,
    SigninConfig,
    SigninStore,
    parse_role_map,
)
from api.runtime.parts import status_lists_base
from api.runtime.settings import Settings, SettingsError

ACTOR_KEY_FILE = "staff-actor.key"


def actor_key(data_dir: Path) -> bytes:
    """The data directory's staff actor key, created on first use (exclusive create)."""
    path = data_dir / ACTOR_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise SettingsError(f"{path} is not a 32-byte key") from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def check_signin_settings(settings: Settings) -> None:
    """Raise the ``SettingsError`` a worker would end with (nothing is written)."""
    if settings.http_port == 0:
        # Port 0 picks a free port when the supervisor binds, before any worker builds
        # its redirect URI from it (as for the status list URLs): any port stands in here.
        settings = settings.model_copy(update={"http_port": 1})
    signin_config(settings, b"\0" * 32)
    access_tokens(settings)


def signin_config(settings: Settings, subject_key: bytes) -> SigninConfig | None:
    """The relying party's configuration; None when ``oidc_issuer`` is unset."""
    if settings.oidc_issuer is None:
        return None
    if settings.oidc_client_id is None or settings.oidc_client_secret is None:
        raise SettingsError("oidc_issuer needs oidc_client_id and oidc_client_secret")
    base = status_lists_base(settings)
    if base is None:
        raise SettingsError("staff sign-in needs public_url (its redirect URI is built from it)")
    try:
        group_roles = parse_role_map(settings.oidc_group_roles)
    except ValueError as exc:
        raise SettingsError(f"oidc_group_roles: {exc}") from None
    if not group_roles:
        raise SettingsError("oidc_group_roles maps no group to a role: nobody could sign in")
    return SigninConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_uri=base.rstrip("/") + "/signin/callback",
        organisation=str(settings.division_code),
        subject_key=subject_key,
        group_roles=group_roles,
        groups_claim=settings.oidc_groups_claim,
        # __Host- cookies need Secure, which browsers honour only over https.
        secure_cookies=base.startswith("https://"),
        idle_seconds=settings.staff_session_idle_seconds,
        absolute_seconds=settings.staff_session_max_seconds,
    )


def staff_signin(settings: Settings, context: ProvinceContext) -> Signin | None:
    """The sign-in parts of one worker over ``context``'s store and audit log (None: off)."""
    if settings.oidc_issuer is None:
        return None
    config = signin_config(settings, actor_key(settings.data_dir))
    if config is None:
        return None
    return Signin(config, SigninStore(context.db), context.audit_log, Provider(config.issuer))


def access_tokens(settings: Settings) -> AccessTokens | None:
    """The JWT access-token check of ``oidc_api_audience`` (None: unset, opaque tokens only)."""
    if settings.oidc_api_audience is None:
        return None
    if settings.oidc_issuer is None:
        raise SettingsError("oidc_api_audience needs oidc_issuer (the tokens' issuer)")
    try:
        scope_roles = parse_role_map(settings.oidc_scope_roles)
    except ValueError as exc:
        raise SettingsError(f"oidc_scope_roles: {exc}") from None
    return AccessTokens(
        Provider(settings.oidc_issuer),
        settings.oidc_api_audience,
        str(settings.division_code),
        scope_roles,
    )
