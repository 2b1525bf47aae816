"""Unified sign-in (统一身份认证) for staff pages: OpenID Connect, sessions, CSRF (docs/signin.md).

The interface pages use (issue #17): ``StaffSession``, ``staff_session``,
``require_staff``, ``check_csrf``; the routes ``GET /signin``,
``GET /signin/callback`` and ``POST /signout`` are registered by
``install_signin``.
"""

from api.http.signin.access import AccessTokens, install_access_tokens
from api.http.signin.config import SigninConfig, parse_role_map
from api.http.signin.provider import Provider
from api.http.signin.routes import install_signin
from api.http.signin.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    Signin,
    StaffSession,
    check_csrf,
    require_staff,
    staff_session,
)
from api.http.signin.store import SigninStore

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "AccessTokens",
    "Provider",
    "Signin",
    "SigninConfig",
    "SigninStore",
    "StaffSession",
    "check_csrf",
    "install_access_tokens",
    "install_signin",
    "parse_role_map",
    "require_staff",
    "staff_session",
]
