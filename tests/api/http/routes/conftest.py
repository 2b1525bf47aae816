"""Fixtures for the route tests: a served province, with or without the test chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.contracts import World
from tests.helpers.server import Province, running_province


@pytest.fixture
def province(tmp_path: Path) -> Iterator[Province]:
    """A served province without a chain (no anchorer: checkpoint routes answer 503)."""
    with running_province(tmp_path) as served:
        yield served


@pytest.fixture
def anchored_province(tmp_path: Path, world: World) -> Iterator[Province]:
    """A served province whose checkpoints are anchored on the test chain."""
    with running_province(tmp_path, world) as served:
        yield served
