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


@pytest.fixture(scope="session")
def portal_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalWorld]:
    """The running two-province world; everything it started is stopped at the end."""
    with ExitStack() as stack:
        yield open_portal_world(tmp_path_factory.mktemp("portal-world"), stack)


# Playwright's sync API keeps its event loop marked as the main thread's running loop
# between calls, and needs it so. With a world that outlives one test, a later test in
# this process calling asyncio.run() would be refused ("cannot be called from a running
# event loop"): the mark is lifted after each test here and put back before the next
# test that uses the world.
PLAYWRIGHT_LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None]:
    """Before a test that uses the world, mark Playwright's loop as running again."""
    loop = item.config.stash.get(PLAYWRIGHT_LOOP, None)
    uses_world = "portal_world" in getattr(item, "fixturenames", ())
    if loop is not None and not loop.is_closed() and uses_world:
        asyncio._set_running_loop(loop)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """After each test here, leave no event loop marked as running on the main thread."""
    try:
        return (yield)
    finally:
        loop = asyncio._get_running_loop()
        if loop is not None:
            item.config.stash[PLAYWRIGHT_LOOP] = loop
            asyncio._set_running_loop(None)
