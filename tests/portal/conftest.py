"""The browser tests' shared world: ``portal_world``, started once per test process.

Two provinces on one chain of their own, one OpenID provider, one Chromium
(``tests/portal/world.py``). Under ``pytest -n`` each worker that runs a test
asking for it starts its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from contextlib import ExitStack

import pytest

from tests.portal.world import PortalWorld, open_portal_world

# Playwright's sync API keeps its event loop marked as the main thread's running loop
# between calls, and needs it so. With a world that outlives one test, a later test in
# this process calling asyncio.run() would be refused ("cannot be called from a running
# event loop"): the mark is lifted after each test here, and put back before each test
# that uses the world and before the world stops (perhaps in another test's teardown).
PLAYWRIGHT_LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()


def _mark_playwright_loop(config: pytest.Config) -> None:
    loop = config.stash.get(PLAYWRIGHT_LOOP, None)
    if loop is not None and not loop.is_closed():
        asyncio._set_running_loop(loop)


@pytest.fixture(scope="session")
def portal_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PortalWorld]:
    """The running two-province world; everything it started is stopped at the end."""
    try:
        with ExitStack() as stack:
            world = open_portal_world(tmp_path_factory.mktemp("portal-world"), stack)
            loop = asyncio._get_running_loop()
            assert loop is not None, "Playwright's sync API runs its own loop"
            request.config.stash[PLAYWRIGHT_LOOP] = loop
            stack.callback(_mark_playwright_loop, request.config)  # unwound first
            yield world
    finally:
        asyncio._set_running_loop(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None]:
    """Before a test that uses the world, mark Playwright's loop as running again."""
    if "portal_world" in getattr(item, "fixturenames", ()):
        _mark_playwright_loop(item.config)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """After each test here, leave no event loop marked as running on the main thread."""
    try:
        return (yield)
    finally:
        asyncio._set_running_loop(None)
