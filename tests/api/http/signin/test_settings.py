"""Staff sign-in settings: what ``tongban serve`` refuses, and the staff actor key."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.http.signin import parse_role_map
from api.province.clients import Role
from api.runtime.settings import Settings, SettingsError
from api.runtime.signin import actor_key, check_signin_settings, signin_config

GOOD = {
    "oidc_issuer": "https://idp.example.gov.cn",
    "oidc_client_id": "tongban",
    "oidc_client_secret": "secret-" + "x" * 30,
    "oidc_group_roles": "counter=verifier;audit=auditor,verifier",
    "public_url": "https://zj.example.gov.cn",
}


def _settings(tmp_path: Path, **changes: str) -> Settings:
    values: dict[str, object] = {**GOOD, "data_dir": tmp_path}
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def test_role_map_is_parsed_and_unknown_roles_refused() -> None:
    assert parse_role_map("a=verifier; b=auditor,issuer") == {
        "a": frozenset({Role.VERIFIER}),
        "b": frozenset({Role.AUDITOR, Role.ISSUER}),
    }
    with pytest.raises(ValueError, match="unknown role"):
        parse_role_map("a=king")
    with pytest.raises(ValueError, match="NAME=ROLE"):
        parse_role_map("verifier")


def test_sign_in_is_off_without_an_issuer(tmp_path: Path) -> None:
    assert signin_config(Settings(data_dir=tmp_path), b"k" * 32) is None


def test_https_public_url_gives_secure_host_cookies_and_the_callback(tmp_path: Path) -> None:
    config = signin_config(_settings(tmp_path), b"k" * 32)
    assert config is not None
    assert config.secure_cookies
    assert config.redirect_uri == "https://zj.example.gov.cn/signin/callback"
    plain = signin_config(_settings(tmp_path, public_url="http://127.0.0.1:8000"), b"k" * 32)
    assert plain is not None
    assert not plain.secure_cookies


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"oidc_client_secret": None}, "oidc_client_id and oidc_client_secret"),
        ({"oidc_group_roles": ""}, "maps no group"),
        ({"oidc_group_roles": "x=nobody"}, "oidc_group_roles"),
    ],
)
def test_incomplete_settings_are_refused_at_start_up(
    tmp_path: Path, change: dict[str, str | None], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        check_signin_settings(_settings(tmp_path, **change))  # type: ignore[arg-type]


def test_actor_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = actor_key(tmp_path)
    assert actor_key(tmp_path) == first
    assert (tmp_path / "staff-actor.key").stat().st_mode & 0o777 == 0o600


def test_actor_is_a_keyed_digest_without_long_digit_runs(tmp_path: Path) -> None:
    config = signin_config(_settings(tmp_path), b"k" * 32)
    assert config is not None
    actor = config.actor("123456789012345678")
    assert actor.startswith("staff:")
    assert not any(c.isdigit() for c in actor)
    assert actor != config.actor("123456789012345679")
