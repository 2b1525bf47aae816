"""The runtime's citizen wiring: the directory file and the CORS origins, checked at start-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.runtime.citizen_web import citizen_web
from api.runtime.settings import Settings, SettingsError
from tests.api.province.directory_fixtures import signed


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_the_directory_is_kept_as_signed_and_its_wallet_origins_are_allowed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "directory.json"
    path.write_bytes(json.dumps(signed(), ensure_ascii=False, indent=1).encode())
    web = citizen_web(
        _settings(
            tmp_path,
            consortium_directory=path,
            citizen_cors_origins=("https://wallet.other.example",),
        )
    )
    assert web.directory == path.read_bytes()
    assert web.origins == ("https://wallet.other.example", "https://wallet.zj.tongban.example")


def test_no_directory_and_no_origins_allow_nobody(tmp_path: Path) -> None:
    web = citizen_web(_settings(tmp_path))
    assert (web.directory, web.origins) == (None, ())


@pytest.mark.parametrize("origin", ["*", "https://wallet.example/", "wallet.example", "null"])
def test_an_origin_that_is_not_one_is_refused(tmp_path: Path, origin: str) -> None:
    with pytest.raises(SettingsError, match="not an origin"):
        citizen_web(_settings(tmp_path, citizen_cors_origins=(origin,)))


def test_a_missing_or_malformed_directory_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    with pytest.raises(SettingsError, match="cannot be read"):
        citizen_web(_settings(tmp_path, consortium_directory=missing))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SettingsError, match="it is not JSON"):
        citizen_web(_settings(tmp_path, consortium_directory=broken))
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**signed(), "threshold": 9}))
    with pytest.raises(SettingsError, match="threshold is more than"):
        citizen_web(_settings(tmp_path, consortium_directory=wrong))
