"""One real identity provider and one province app with sign-in for this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.http.signin.portal import SigninWorld


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigninWorld]:
    """The provider (oidc-provider on loopback) and the app, started once."""
    started = SigninWorld(tmp_path_factory.mktemp("signin"))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(autouse=True)
def _clock(world: SigninWorld) -> Iterator[None]:
    world.clock_offset = 0.0
    yield
    world.clock_offset = 0.0
