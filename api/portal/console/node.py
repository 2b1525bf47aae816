"""The auditor's own chain node: the setting the in-browser proof check reads the chain through.

The check on an event's page (``auditproof.js``, docs/consoles.md "Browser
proof") proves something only when the JSON-RPC node and the AuditAnchor
address are the auditor's choice, not values the audited province's server
writes into its page. The auditor enters them in a form on the audit console
(``POST /console/audit/node``, CSRF-checked, recording nothing: it names
nobody); they are kept in a cookie of this browser (``console_node``: path
``/console``, ``HttpOnly``, ``SameSite=Strict``), checked again on every read.
Nothing is prefilled from the province's configuration.

The page's CSP then allows ``connect-src`` to that node's origin, built from the
parsed URL (scheme, host, port), never from the text as typed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request

from api.portal.console.forms import FormError

__all__ = [
    "COOKIE",
    "AuditorNode",
    "connect_policy",
    "encode_node",
    "node_from_cookie",
    "node_from_fields",
]

COOKIE = "console_node"
"""The cookie holding the auditor's node setting (base64url of compact JSON)."""

_URL_CAP = 512
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*$")
_IPV6 = re.compile(r"^[0-9a-f:.]{2,45}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_DIGITS = re.compile(r"^[0-9]{1,16}$")
_MAX_CHAIN_ID = 2**53 - 1
_MAX_CONFIRMATIONS = 10_000


@dataclass(frozen=True)
class AuditorNode:
    """The node the auditor named, the chain it serves, and the AuditAnchor they trust."""

    rpc_url: str
    chain_id: int
    anchor_address: str
    confirmations: int

    @property
    def origin(self) -> str:
        """The node's origin (``scheme://host[:port]``), rebuilt from the checked URL."""
        parts = urlsplit(self.rpc_url)
        port = f":{parts.port}" if parts.port is not None else ""
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        return f"{parts.scheme}://{host.lower()}{port}"


def _rpc_url(value: str) -> str:
    value = value.strip()
    if not value or len(value) > _URL_CAP or any(c.isspace() or ord(c) < 0x21 for c in value):
        raise FormError("rpc_url")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise FormError("rpc_url") from None
    host = parts.hostname or ""
    shaped = _IPV6.fullmatch(host) if ":" in host else _NAME.fullmatch(host)
    bracketed = f"[{host}]" if ":" in host else host
    netloc = bracketed if port is None else f"{bracketed}:{port}"
    if (
        parts.scheme not in ("http", "https")
        or not shaped
        or parts.netloc.lower() != netloc
        or parts.fragment
        or port == 0
    ):
        raise FormError("rpc_url")
    return value


def _count(value: str, field: str, low: int, high: int) -> int:
    value = value.strip()
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise FormError(field)
    return int(value)


def node_from_fields(fields: dict[str, str]) -> AuditorNode:
    """The node setting of a submitted form; ``FormError`` names the first bad field."""
    rpc_url = _rpc_url(fields.get("rpc_url", ""))
    chain_id = _count(fields.get("chain_id", ""), "chain_id", 1, _MAX_CHAIN_ID)
    address = fields.get("anchor_address", "").strip()
    if not _ADDRESS.fullmatch(address):
        raise FormError("anchor_address")
    confirmations = _count(
        fields.get("confirmations", "") or "1", "confirmations", 1, _MAX_CONFIRMATIONS
    )
    return AuditorNode(rpc_url, chain_id, address.lower(), confirmations)


def encode_node(node: AuditorNode) -> str:
    """The cookie value of ``node``."""
    document = {
        "rpcUrl": node.rpc_url,
        "chainId": node.chain_id,
        "anchorAddress": node.anchor_address,
        "confirmations": node.confirmations,
    }
    raw = json.dumps(document, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def node_from_cookie(request: Request) -> AuditorNode | None:
    """The auditor's node as this browser keeps it, checked again; None when unset or bad."""
    value = request.cookies.get(COOKIE)
    if not value or len(value) > 2 * _URL_CAP:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        document = json.loads(raw)
        fields = {
            "rpc_url": str(document["rpcUrl"]),
            "chain_id": str(document["chainId"]),
            "anchor_address": str(document["anchorAddress"]),
            "confirmations": str(document["confirmations"]),
        }
        return node_from_fields(fields)
    except (binascii.Error, ValueError, TypeError, KeyError):
        return None  # FormError is a ValueError: a cookie that fails a rule is ignored


def connect_policy(policy: str, node: AuditorNode | None) -> str:
    """``policy`` with ``connect-src`` widened to the node's origin (unchanged without one)."""
    if node is None:
        return policy
    return policy.replace("connect-src 'self'", f"connect-src 'self' {node.origin}", 1)
