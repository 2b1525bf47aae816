"""The words of the sign-in pages (``api.portal.signin_pages``), in Chinese and English.

One entry per ``RefusalKind``: a title, what happened, and what to do; the
signed-out page's words.
"""

# ruff: noqa: RUF001 - Chinese text uses full-width punctuation

from __future__ import annotations

__all__ = ["SIGNIN_TEXT"]

SIGNIN_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "no-role_title": "此账号没有通办角色",
        "no-role_what": "统一身份认证已确认您的身份，"
        "但您的账号不属于任何对应通办角色的用户组，因此未能登录。",
        "no-role_do": "请联系本单位的管理员为您的账号分配角色，"
        "然后重新登录；也可以换一个账号登录。",
        "not-started_title": "登录已失效",
        "not-started_what": "这次登录已超时、已经用过，或是在另一个浏览器中开始的。",
        "not-started_do": "请重新登录。",
        "provider-refused_title": "统一身份认证未完成登录",
        "provider-refused_what": "统一身份认证拒绝了这次登录，或登录被取消。",
        "provider-refused_do": "请重新登录；如果仍不成功，请联系本单位的管理员。",
        "untrusted_title": "登录未通过安全检查",
        "untrusted_what": "统一身份认证的回应未通过通办的安全检查，没有建立登录会话。",
        "untrusted_do": "请重新登录；如果反复出现，请把下面的请求编号告诉管理员。",
        "unavailable_title": "统一身份认证暂不可用",
        "unavailable_what": "通办暂时无法连接统一身份认证。",
        "unavailable_do": "请稍后重新登录；如果持续不可用，请联系本单位的管理员。",
        "refusal_code": "请求编号",
        "signin_again": "重新登录",
        "signin_other": "换一个账号登录",
        "signed_out_title": "已退出登录",
        "signed_out_what": "您已退出通办，登录会话已在服务器上结束。",
        "signed_out_do": "在共用电脑上，请同时关闭浏览器。",
    },
    "en": {
        "no-role_title": "This account has no Tongban role",
        "no-role_what": "The identity provider confirmed who you are, but your account is in no "
        "group that maps to a Tongban role, so you are not signed in.",
        "no-role_do": "Ask your administrator to give your account a role, then sign in again; "
        "or sign in with another account.",
        "not-started_title": "The sign-in has lapsed",
        "not-started_what": "This sign-in timed out, was used already, or was started in "
        "another browser.",
        "not-started_do": "Please sign in again.",
        "provider-refused_title": "The identity provider did not sign you in",
        "provider-refused_what": "The identity provider refused this sign-in, or it was cancelled.",
        "provider-refused_do": "Please sign in again; if it still fails, ask your administrator.",
        "untrusted_title": "The sign-in failed a security check",
        "untrusted_what": "The identity provider's answer failed one of Tongban's security "
        "checks; no session was opened.",
        "untrusted_do": "Please sign in again; if this keeps happening, tell your administrator "
        "the request id below.",
        "unavailable_title": "The identity provider is unavailable",
        "unavailable_what": "Tongban cannot reach the identity provider at the moment.",
        "unavailable_do": "Please sign in again later; if it stays unavailable, ask your "
        "administrator.",
        "refusal_code": "Request id",
        "signin_again": "Sign in again",
        "signin_other": "Sign in with another account",
        "signed_out_title": "Signed out",
        "signed_out_what": "You have signed out of Tongban; your session has ended on the server.",
        "signed_out_do": "On a shared computer, also close the browser.",
    },
}
