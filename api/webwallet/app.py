"""The citizen's wallet at an origin of its own (issue #18, docs/wallet.md).

``wallet_app(config)`` is a small ASGI app with only the wallet's routes:
``GET /wallet`` (the one-page shell, Chinese first, ``?lang=en``),
``GET /wallet/static/{name}`` (content-hashed files: ``wallet-app.<hash>.js``, the
committed bundles ``wallet.js`` and ``checks.js``, ``wallet.<hash>.css``, icons),
``GET /wallet/manifest.webmanifest``; everything else is 404. Every answer, 404s
included, carries ``wallet_headers`` (strict CSP with Trusted Types, no framing,
isolated from other origins).

``by_socket(api, wallet, wallet_port)`` serves both apps on one uvicorn server: a
request that arrived on the wallet's listening socket (ASGI ``scope["server"]``)
goes to the wallet, every other to the API, so the API's origin has no ``/wallet``
and the wallet's origin has no API route. ``api.runtime.worker`` wires it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, Router

from api.portal.labels import claim_label
from api.webwallet import STATIC_DIR
from api.webwallet.text import WALLET_TEXT, wallet_language
from credentials.purposes import PURPOSES
from credentials.templates import TEMPLATES
from ledger.crypto.sm3 import sm3_hex

__all__ = [
    "WalletConfig",
    "by_socket",
    "wallet_app",
    "wallet_config",
    "wallet_headers",
    "wallet_policy",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

_HERE = Path(__file__).resolve().parent
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The files the wallet's pages use; the bundles keep their names inside wallet-app.js.
_SERVED = (
    "wallet-app.js",
    "wallet-offer.js",
    "wallet.js",
    "checks.js",
    "timeline.js",
    "wallet-status.js",
    "wallet-timeline.js",
    "wallet.css",
    "wallet-icon.svg",
)
_IMPORT = re.compile(r'from "\./([a-z-]+\.js)"')
_STATIC_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
_PAGE_CACHE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class WalletConfig:
    """What the wallet's pages need: the origins its script may talk to."""

    api_origin: str
    """The province API's origin (``scheme://host:port``): connect-src, the default verifier."""
    connect_origins: tuple[str, ...] = ()
    """Further origins the wallet may fetch from (other provinces' verifiers)."""
    chain_rpc_url: str = ""
    """A consortium chain JSON-RPC node the page reads keys and anchors from ("": none)."""
    audit_anchor: str = ""
    """AuditAnchor's address on that chain (the registry's address is read from it)."""


def wallet_config(
    api_origin: str, directory: bytes | None, chain_rpc_url: str = "", audit_anchor: str = ""
) -> WalletConfig:
    """The wallet's config for a served province.

    Every ``apiBaseUrl`` origin of the consortium ``directory`` (the bytes served at
    ``/.well-known/tongban-directory.json``) may be fetched from (status lists, the
    timeline), and the chain node the page reads keys and anchors from. The directory was
    checked for its form at start-up.
    """
    origins: list[str] = []
    if directory is not None:
        for province in json.loads(directory).get("provinces", []):
            origins.append(_origin_of(str(province["apiBaseUrl"])))
    return WalletConfig(api_origin, tuple(origins), chain_rpc_url, audit_anchor)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def wallet_policy(config: WalletConfig) -> str:
    """The wallet's Content-Security-Policy.

    ``manifest-src 'self'`` is the one addition to the brief's policy: under
    ``default-src 'none'`` the browser would not load the web app manifest.
    """
    rpc = (_origin_of(config.chain_rpc_url),) if config.chain_rpc_url else ()
    origins = ("'self'", config.api_origin, *config.connect_origins, *rpc)
    connect = " ".join(dict.fromkeys(origins))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; manifest-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; "
        "require-trusted-types-for 'script'; trusted-types 'none'"
    )


def wallet_headers(config: WalletConfig) -> dict[str, str]:
    """The headers of every answer on the wallet's origin."""
    return {
        "Content-Security-Policy": wallet_policy(config),
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Permissions-Policy": "camera=(self)",
    }


@dataclass(frozen=True)
class _Static:
    name: str
    data: bytes
    media_type: str


def _is_page_module(name: str) -> bool:
    return name.startswith("wallet-") and name.endswith(".js")


def _static_files() -> dict[str, _Static]:
    sources = {name: (STATIC_DIR / name).read_bytes() for name in _SERVED}
    files: dict[str, _Static] = {}
    # The bundles first, then the page's modules (which import them), the shell last (it
    # imports them all): each by the hashed names of those before it.
    for name in sorted(_SERVED, key=lambda n: (n == "wallet-app.js", _is_page_module(n))):
        data = sources[name]
        if _is_page_module(name):
            text = _IMPORT.sub(lambda m: f'from "./{files[m.group(1)].name}"', data.decode())
            data = text.encode()
        stem, suffix = name.rsplit(".", 1)
        served = f"{stem}.{sm3_hex(data)[:16]}.{suffix}"
        files[name] = _Static(served, data, _TYPES["." + suffix])
    return files


STATIC_FILES = _static_files()
"""The wallet's static files by source name, each with its content-hashed served name."""
_BY_SERVED = {f.name: f for f in STATIC_FILES.values()}

_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals["asset"] = lambda name: f"/wallet/static/{STATIC_FILES[name].name}"


def _manifest() -> bytes:
    icon = f"/wallet/static/{STATIC_FILES['wallet-icon.svg'].name}"
    document = {
        "name": "通办 证照钱包 Tongban wallet",
        "short_name": "证照钱包",
        "lang": "zh-CN",
        "start_url": "/wallet",
        "scope": "/wallet",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b3d6e",
        "icons": [{"src": icon, "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


_MANIFEST = _manifest()


def _page_words(lang: str) -> dict[str, str]:
    """The page's words, with every known claim's and purpose's label (one place: the portal's)."""
    claims = {name for template in TEMPLATES.values() for name in template.claims}
    words = dict(WALLET_TEXT[lang])
    words.update({f"claim:{name}": claim_label(name, lang) for name in sorted(claims)})
    for purpose in PURPOSES.values():
        words[f"purpose:{purpose.code}"] = purpose.en if lang == "en" else purpose.zh
    return words


def wallet_app(config: WalletConfig) -> Asgi:
    """The wallet's ASGI app: its routes only, ``wallet_headers`` on every answer."""
    headers = wallet_headers(config)

    async def shell(request: Request) -> Response:
        lang = wallet_language(request.query_params.get("lang"))
        html = _ENV.get_template("wallet.html").render(
            t=WALLET_TEXT[lang],
            lang=lang,
            other="en" if lang == "zh" else "zh",
            api_origin=config.api_origin,
            chain_rpc_url=config.chain_rpc_url,
            audit_anchor=config.audit_anchor,
            words=json.dumps(_page_words(lang), ensure_ascii=False),
        )
        return HTMLResponse(html, headers=_PAGE_CACHE)

    async def static(request: Request) -> Response:
        found = _BY_SERVED.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(found.data, media_type=found.media_type, headers=_STATIC_CACHE)

    async def manifest(request: Request) -> Response:
        return Response(_MANIFEST, media_type="application/manifest+json")

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("not found", status_code=404)(scope, receive, send)

    router = Router(
        routes=[
            Route("/wallet", shell, methods=["GET"]),
            Route("/wallet/static/{name}", static, methods=["GET"]),
            Route("/wallet/manifest.webmanifest", manifest, methods=["GET"]),
        ],
        default=not_found,
    )
    encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *encoded]
            await send(message)

        await router(scope, receive, send_with_headers)

    return app


def by_socket(api: Asgi, wallet: Asgi, wallet_port: int) -> Asgi:
    """One ASGI app: requests that arrived on port ``wallet_port`` to ``wallet``, others to ``api``.

    The port is the listening socket's own (``scope["server"]``), not the Host
    header, which the client chooses.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] == "http" and server is not None and server[1] == wallet_port:
            await wallet(scope, receive, send)
        else:
            await api(scope, receive, send)

    return app
