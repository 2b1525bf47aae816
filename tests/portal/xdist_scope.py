"""One pytest-xdist scope for every test that uses ``portal_world``, so a run starts one world.

``make test`` runs ``pytest -n 2 --dist loadfile``: each file is a unit of work and
each worker process that runs a browser file starts its own ``portal_world`` (a
session fixture is per process). This scheduler keeps ``--dist loadfile`` for every
other file and hands the browser files (``tests/portal/test_browser*.py``,
``tests/portal/test_world.py``) to one worker as one unit.

A controller-side hook: it takes effect only from a conftest the controller loads
(``tests/conftest.py``: ``from tests.portal.xdist_scope import
pytest_xdist_make_scheduler``) or as a plugin (``PYTHONPATH=. pytest -p tests.portal.xdist_scope``).
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]  # no py.typed

WORLD_SCOPE = "tests/portal/<portal_world>"
WORLD_FILES = ("tests/portal/test_browser", "tests/portal/test_world.py")


class PortalWorldScheduling(LoadFileScheduling):  # type: ignore[misc]  # untyped base
    """``--dist loadfile``, with the files that share ``portal_world`` as one scope."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(WORLD_FILES):
            return WORLD_SCOPE
        scope: str = super()._split_scope(nodeid)
        return scope


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> PortalWorldScheduling | None:
    """Under ``--dist loadfile``, the scheduler above; any other mode is left as it is."""
    if config.getoption("dist") != "loadfile":
        return None
    return PortalWorldScheduling(config, log)
