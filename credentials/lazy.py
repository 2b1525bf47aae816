"""Package exports loaded on first use (PEP 562), so importing a package stays cheap.

A wallet imports ``credentials`` for a few names; loading every export eagerly
would pull in the issuance side (web3) it never uses.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], names: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each of ``exports`` from its module."""
    namespace = sys.modules[package].__dict__

    def exported(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def names_and_exports() -> list[str]:
        return sorted(set(namespace) | set(names))

    return exported, names_and_exports
