"""The words of the ask pages (``api.portal.ask``), in Chinese and English."""

# ruff: noqa: RUF001 - Chinese text uses full-width punctuation

from __future__ import annotations

__all__ = ["ASK_TEXT"]

ASK_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "ask_title": "请出示",
        "ask_intro": "请市民用电子钱包出示证照：选择要查看的信息项和用证事由，生成二维码和链接。",
        "claims_label": "要查看的信息项",
        "claims_hint": "信息项名称，以逗号分隔，例如 registeredCapital,legalRepresentative",
        "ask_submit": "生成出示请求",
        "wait_title": "等待市民出示",
        "wait_intro": "请市民用电子钱包扫描二维码，或打开下面的链接。市民出示后，结果显示在本页。",
        "qr_alt": "出示请求的二维码",
        "link": "出示请求链接",
        "claims_asked": "请求的信息项",
        "expires": "有效期至",
        "waiting": "尚未收到出示。",
        "refresh": "刷新",
        "expired": "本出示请求已过期，请重新生成。",
        "ask_again": "再发起一次出示请求",
        "error_claims": "信息项名称有误：请用逗号分隔的英文名称。",
        "nav_ask": "请出示",
    },
    "en": {
        "ask_title": "Ask the citizen",
        "ask_intro": "Ask the citizen to present from their wallet: choose the claims "
        "and the purpose, then show the QR code and link.",
        "claims_label": "Claims to see",
        "claims_hint": "Claim names separated by commas, e.g. "
        "registeredCapital,legalRepresentative",
        "ask_submit": "Create the request",
        "wait_title": "Waiting for the citizen",
        "wait_intro": "The citizen scans the QR code with their wallet or opens the link. "
        "The result appears on this page.",
        "qr_alt": "QR code of the presentation request",
        "link": "Presentation request link",
        "claims_asked": "Claims asked for",
        "expires": "Valid until",
        "waiting": "No presentation yet.",
        "refresh": "Refresh",
        "expired": "This request has expired; create a new one.",
        "ask_again": "Ask again",
        "error_claims": "Claim names are wrong: give names separated by commas.",
        "nav_ask": "Ask the citizen",
    },
}
"""The words of the ask pages (beside ``api.portal.labels.PAGE_TEXT``), zh and en."""
