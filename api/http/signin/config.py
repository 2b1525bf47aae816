"""What the relying party is configured with: the provider, the client, the role map."""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from api.province.clients import Role

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")
"""Asymmetric only: ``none`` and every HS* are refused (alg confusion)."""

SIGNED_OUT_PATH = "/signed-out"
"""Where sign-out lands: the provider's ``post_logout_redirect_uri`` or directly."""


@dataclass(frozen=True)
class SigninConfig:
    """The province's OpenID Connect relying party and JWT access-token settings.

    ``group_roles`` maps a value of the ID token's ``groups_claim`` to Tongban
    roles; ``scope_roles`` maps a scope of a client-credentials access token.
    ``subject_key`` keys the digest that stands for a staff member in the audit
    log (``staff:<digest>``): the provider's ``sub`` never appears there itself.
    """

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    organisation: str
    subject_key: bytes
    group_roles: Mapping[str, frozenset[Role]]
    groups_claim: str = "groups"
    api_audience: str | None = None
    scope_roles: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    secure_cookies: bool = True
    idle_seconds: int = 900
    absolute_seconds: int = 28_800
    login_seconds: int = 600
    leeway_seconds: int = 30
    algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        """Refuse an algorithm outside the asymmetric allow-list."""
        unsafe = [a for a in self.algorithms if a not in ALLOWED_ALGORITHMS]
        if unsafe:
            raise ValueError(f"signin algorithms not allowed: {unsafe}")

    @property
    def signed_out_uri(self) -> str:
        """The signed-out page beside the redirect URI: RP-Initiated Logout's return address."""
        return urllib.parse.urljoin(self.redirect_uri, SIGNED_OUT_PATH)

    def actor(self, subject: str) -> str:
        """The audit log's actor for the provider's ``subject``: a keyed digest."""
        digest = hmac.new(self.subject_key, subject.encode(), hashlib.sha256).digest()
        # Letters only (a-p per nibble): the audit log refuses long digit runs in an actor.
        letters = "".join(chr(97 + (b >> 4)) + chr(97 + (b & 15)) for b in digest[:16])
        return f"staff:{letters}"

    def roles_for_groups(self, groups: object) -> frozenset[Role]:
        """The Tongban roles of an ID token's groups claim (unknown groups give none)."""
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list):
            return frozenset()
        found: set[Role] = set()
        for group in groups:
            if isinstance(group, str):
                found.update(self.group_roles.get(group, frozenset()))
        return frozenset(found)

    def roles_for_scope(self, scope: object) -> frozenset[Role]:
        """The Tongban roles of an access token's space-separated ``scope``."""
        if not isinstance(scope, str):
            return frozenset()
        found: set[Role] = set()
        for item in scope.split():
            found.update(self.scope_roles.get(item, frozenset()))
        return frozenset(found)


def parse_role_map(text: str) -> dict[str, frozenset[Role]]:
    """``"group=role,role;group2=role"`` as a mapping; raises ValueError naming a bad part."""
    mapping: dict[str, frozenset[Role]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, roles = part.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"role map entry {part!r} is not NAME=ROLE[,ROLE]")
        try:
            mapped = frozenset(Role(r.strip()) for r in roles.split(",") if r.strip())
        except ValueError as exc:
            raise ValueError(f"role map entry {part!r} names an unknown role") from exc
        mapping[name.strip()] = mapped
    return mapping
