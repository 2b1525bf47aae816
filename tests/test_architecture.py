"""The layout rules of docs/architecture.md, checked on the source tree.

- Imports point down only: ``ledger`` imports neither ``credentials`` nor ``api``;
  ``credentials`` never imports ``api`` (and ``credentials.zhengzhao`` no HTTP
  library either); inside ``api/`` each folder imports only the folders its rule
  allows (``IMPORT_RULES``).
- No module over ``MAX_MODULE_LINES`` lines outside tests and generated files.
- ``api/`` holds folders, plus only ``__init__.py`` and ``errors.py``.

Every import counts: at module level, inside functions and under
``TYPE_CHECKING``, since each one is a dependency a reader must follow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "credentials", "ledger")
MAX_MODULE_LINES = 600
SIZE_CHECKED = (*PACKAGES, "scripts", "tools", "contracts")

# HTTP client and server libraries (and the standard library's), by top-level module.
HTTP_LIBRARIES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "httptools",
    "httpx",
    "requests",
    "aiohttp",
    "multipart",
    "python_multipart",
    "http",
    "urllib.request",
)

# (importing package prefix, forbidden imported prefixes). The longest matching
# importer prefix applies, so ``api.http`` is judged by its own rule, not ``api``'s.
IMPORT_RULES: dict[str, tuple[str, ...]] = {
    "ledger": ("credentials", "api"),
    "credentials": ("api",),
    "credentials.paper": ("api",),
    "credentials.zhengzhao": ("api", *HTTP_LIBRARIES),
    "api.errors": ("api.http", "api.province", "api.runtime", "api.cli", "api.client"),
    "api.http": ("api.cli", "api.client"),
    "api.province": ("api.http", "api.runtime", "api.cli", "api.client"),
    "api.runtime": ("api.cli", "api.client"),
    "api.cli": ("api.http",),
    "api.paper": ("api.http", "api.province", "api.runtime", "api.cli", "api.client"),
    "api.portal": ("api.runtime", "api.cli", "api.client"),
    "api.client": ("api.http", "api.cli", "api.runtime", "api.province"),
}
API_ROOT_FILES = {"__init__.py", "errors.py", "py.typed"}


@dataclass(frozen=True)
class Violation:
    """One import that breaks a rule."""

    module: str
    line: int
    imported: str
    rule: str


def module_name(path: Path) -> str:
    """``api/http/app.py`` -> ``api.http.app``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(
    source: str, module: str, *, is_package: bool = False
) -> list[tuple[int, str]]:
    """Every module ``source`` imports, absolute, with its line (relative imports resolved)."""
    found: list[tuple[int, str]] = []
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]  # "." is the package
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from api import http`` imports the module api.http.
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def rule_for(module: str) -> str | None:
    """The most specific rule that governs ``module``."""
    matching = [prefix for prefix in IMPORT_RULES if _within(module, prefix)]
    return max(matching, key=len) if matching else None


def violations(source: str, module: str, *, is_package: bool = False) -> list[Violation]:
    """The imports in ``source`` (the text of ``module``) that its rule forbids."""
    rule = rule_for(module)
    if rule is None:
        return []
    return [
        Violation(module, line, imported, rule)
        for line, imported in imported_modules(source, module, is_package=is_package)
        if any(_within(imported, forbidden) for forbidden in IMPORT_RULES[rule])
    ]


def python_files(*roots: str) -> list[Path]:
    """The Python source files under ``roots`` (no virtualenv, no node_modules)."""
    return sorted(p for root in roots for p in (REPO / root).rglob("*.py") if p.is_file())


def test_imports_point_down_only() -> None:
    found = [
        v
        for path in python_files(*PACKAGES)
        for v in violations(
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
    ]
    assert found == [], "\n".join(
        f"{v.module}:{v.line} imports {v.imported} (rule {v.rule})" for v in found
    )


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("ledger.audit.log", "from credentials.verify import Verifier\n"),
        ("ledger.chain.outbox", "def f():\n    import api.errors\n"),
        ("credentials.holder", "from api.client.wallet import Wallet\n"),
        ("api.http.app", "from api.cli import main\n"),
        ("api.http.routes.audit", "from api.client.remote import RemoteApi\n"),
        ("api.client.wallet", "from api.province.keys import ProvinceKeys\n"),
        ("api.client.history", "from api import runtime\n"),
        (
            "api.province.keys",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from api.http.context import ProvinceContext\n",
        ),
        ("api.province.access", "from ..http import deps\n"),
        ("api.cli.audit", "from api.http.problems import Problem\n"),
        ("api.errors", "from api.http import problems\n"),
        ("credentials.paper.codec", "from api.paper.render import render_certificate\n"),
        ("credentials.zhengzhao.agencies", "from api.province.clients import ApiClient\n"),
        ("credentials.zhengzhao.serials", "from fastapi import HTTPException\n"),
        ("credentials.zhengzhao.profile", "import http.client\n"),
        ("credentials.zhengzhao.identifier", "from starlette.requests import Request\n"),
        ("credentials.zhengzhao.division", "def f():\n    import urllib.request\n"),
        ("api.paper.render", "from api.http.problems import Problem\n"),
        ("api.paper.render", "from api.cli.paper import app\n"),
        ("api.paper.render", "from api.province.keys import ProvinceKeys\n"),
        ("api.portal.pages", "from api.runtime.settings import Settings\n"),
        ("api.portal.verify_form", "from api.client.remote import RemoteApi\n"),
        ("api.http.signin.routes", "from api.cli.common import print_text\n"),
    ],
)
def test_a_forbidden_import_is_found(module: str, source: str) -> None:
    assert violations(source, module), f"{module} should not be allowed: {source!r}"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        (
            "credentials.verify.offline",
            "from ledger.merkle.verify import root_from_inclusion_proof\n",
        ),
        ("api.cli.wallet", "from api.client.wallet import Wallet\n"),
        ("api.runtime.worker", "from api.http.app import create_app\n"),
        ("api.http.deps", "from api.province.clients import Role\n"),
        ("api.client.remote", "from api.errors import ProblemCode\n"),
        ("api.paper.render", "from credentials.paper.codec import encode\n"),
        ("api.paper.render", "from ledger.clock import now_ms\n"),
        ("api.http.routes.paper", "from api.paper.render import render_certificate\n"),
        ("api.cli.paper", "from api.paper.render import render_certificate\n"),
        ("credentials.paper.codec", "from credentials.zhengzhao.profile import MEMBER\n"),
        ("credentials.zhengzhao.agencies", "from ledger.store.database import Database\n"),
        ("credentials.zhengzhao.division", "import urllib.parse\n"),
        ("credentials.zhengzhao.profile", "import httpsig\n"),
        ("api.portal.staff", "from api.http.signin import require_staff\n"),
        ("api.portal.verify_form", "from api.province.audited import record_access\n"),
        ("api.http.app", "from api.portal import router\n"),
    ],
)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(source, module) == []


def test_no_module_is_over_the_size_limit() -> None:
    too_long = {
        str(path.relative_to(REPO)): lines
        for path in python_files(*SIZE_CHECKED)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_api_root_holds_only_folders_init_and_errors() -> None:
    stray = sorted(
        p.name for p in (REPO / "api").iterdir() if p.is_file() and p.name not in API_ROOT_FILES
    )
    assert stray == []


def test_every_package_folder_has_an_init() -> None:
    missing = sorted(
        str(d.relative_to(REPO))
        for root in PACKAGES
        for d in [REPO / root, *(REPO / root).rglob("*")]
        if d.is_dir() and any(d.glob("*.py")) and not (d / "__init__.py").exists()
    )
    assert missing == []
