"""Settings: environment over TOML over defaults; unknown or invalid settings are errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.runtime.settings import (
    DEMO_EVM_PASSPHRASE,
    EMBEDDED_CHAIN_ID,
    SettingsError,
    load_settings,
)


def test_defaults_describe_the_embedded_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("TONGBAN_")]:
        monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.chain == "embedded"
    assert settings.chain_id == EMBEDDED_CHAIN_ID
    assert settings.uses_demo_passphrase
    assert settings.evm_key_passphrase.get_secret_value() == DEMO_EVM_PASSPHRASE


def test_environment_overrides_toml_and_code_overrides_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "tongban.toml"
    config.write_text('chain = "http://127.0.0.1:8545"\nchain_id = 7\nblock_time = 2.5\n')
    monkeypatch.setenv("TONGBAN_CHAIN_ID", "8")
    settings = load_settings(config)
    assert settings.chain == "http://127.0.0.1:8545"
    assert settings.chain_id == 8
    assert settings.block_time == 2.5
    assert load_settings(config, chain_id=9).chain_id == 9
    monkeypatch.setenv("TONGBAN_CONFIG", str(config))
    assert load_settings().block_time == 2.5


def test_unknown_environment_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_CHAINID", "5")
    with pytest.raises(SettingsError, match="unknown setting TONGBAN_CHAINID"):
        load_settings()


def test_unknown_toml_setting_is_named(tmp_path: Path) -> None:
    config = tmp_path / "tongban.toml"
    config.write_text("chian = 'embedded'\n")
    with pytest.raises(SettingsError, match="unknown setting 'chian'"):
        load_settings(config)


def test_missing_and_broken_toml_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("chain = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken)


@pytest.mark.parametrize(
    ("name", "value", "setting"),
    [
        ("TONGBAN_CHAIN", "ftp://node", "TONGBAN_CHAIN"),
        ("TONGBAN_CHAIN_ID", "zero", "TONGBAN_CHAIN_ID"),
        ("TONGBAN_CHAIN_ID", "-5", "TONGBAN_CHAIN_ID"),
        ("TONGBAN_RPC_TIMEOUT", "-1", "TONGBAN_RPC_TIMEOUT"),
        ("TONGBAN_LOG_FORMAT", "xml", "TONGBAN_LOG_FORMAT"),
    ],
)
def test_invalid_values_name_the_setting_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, setting: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"invalid setting {setting}:")
    assert value not in message


def test_a_passphrase_never_appears_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_EVM_KEY_PASSPHRASE", "s3cret-value")
    monkeypatch.setenv("TONGBAN_CHAIN_ID", "x")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "s3cret-value" not in str(caught.value)
    monkeypatch.delenv("TONGBAN_CHAIN_ID")
    assert "s3cret-value" not in repr(load_settings())
