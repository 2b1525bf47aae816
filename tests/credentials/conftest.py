"""Fixtures of the credentials tests: Zhejiang issues, Guangdong verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credentials.holder import Holder
from tests.helpers.contracts import World
from tests.helpers.credentials import (
    IssuingProvince,
    VerifyingProvince,
    make_issuing_province,
    make_verifying_province,
)


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[IssuingProvince]:
    """Zhejiang, issuing (confirmations 1)."""
    province = make_issuing_province(world, tmp_path)
    yield province
    province.db.close()


@pytest.fixture
def guangdong(world: World, tmp_path: Path) -> Iterator[VerifyingProvince]:
    """Guangdong, verifying, with its own store."""
    province = make_verifying_province(world, tmp_path)
    yield province
    province.audit.close()
    province.db.close()


@pytest.fixture
def holder() -> Holder:
    """A citizen with a fresh SM2 key."""
    return Holder.generate()
