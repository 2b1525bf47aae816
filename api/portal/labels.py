"""The portal's words in Chinese (default) and English: page text, checks, verdicts, claims.

``text(lang)`` is the page catalogue of one language; ``CLAIM_LABELS`` the
certificate face's label of every claim of every template (a test holds that
each template claim has both languages); ``CHECK_TITLES`` the numbered checks.
"""

# Chinese text is written with its own full-width punctuation, on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from collections.abc import Mapping

from credentials.reasons import Check

__all__ = [
    "CHECK_TITLES",
    "CLAIM_LABELS",
    "LANGUAGES",
    "PAGE_TEXT",
    "claim_label",
    "pick_language",
    "text",
]

LANGUAGES = ("zh", "en")
"""Supported languages; the first is the default."""

PAGE_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "app": "通办 · 电子证照核验",
        "skip": "跳到主要内容",
        "switch": "English",
        "signed_in_as": "当前用户",
        "signout": "退出登录",
        "verify_title": "核验电子证照",
        "verify_intro": "粘贴或拖入证照、出示件（JSON），或上传纸质证照二维码的图片或 PDF。",
        "document_label": "证照或出示件（JSON）",
        "document_hint": "可直接粘贴；也可把文件拖到此处。",
        "upload_label": "或上传文件（JSON、二维码图片 PNG/JPEG，或 PDF）",
        "certificate_label": "证照文件（可选，OFD/PDF）：核对是否为证照所指的文件",
        "purpose_label": "用证事由",
        "purpose_choose": "请选择用证事由",
        "basis_label": "法律依据",
        "basis_hint": "法律依据代码，例如 prc.pipl.art13",
        "submit": "核验",
        "scan": "用摄像头扫码",
        "scan_stop": "停止扫码",
        "scan_looking": "请将纸质证照上的二维码对准摄像头。",
        "scan_found": "已读到二维码。请选择用证事由，然后点击“核验”。",
        "scan_timeout": "60 秒内未读到二维码，摄像头已关闭。可以再扫一次，或上传二维码的照片。",
        "scan_refused": "无法打开摄像头（未获允许或没有摄像头）。可以上传二维码的照片。",
        "scan_failed": "扫码已中断。请刷新页面后再试，或上传二维码的照片。",
        "result_title": "核验结果",
        "verdict": "结论",
        "verdict_valid": "有效：全部检查通过",
        "verdict_invalid": "无效：有检查未通过",
        "verdict_error": "无法判定：请稍后重试",
        "verdict_unregistered": "签发者不在联盟登记中：签名无误，但不是联盟成员签发",
        "checks": "逐项检查",
        "check_status_VALID": "通过",
        "check_status_INVALID": "未通过",
        "check_status_ERROR": "无法判定",
        "check_status_SKIPPED": "未做",
        "code": "代码",
        "face": "照面信息",
        "no_claims": "未披露任何信息。",
        "certificate": "证照信息",
        "identifier": "证照标识",
        "type_name": "证照类型",
        "agency": "颁发机构",
        "jurisdiction": "管辖属地",
        "issuer": "签发方",
        "trust_grade": "信任等级",
        "usage_note": "使用说明",
        "anchored": "上链",
        "anchored_block": "区块",
        "not_anchored": "未见上链证明",
        "index_height": "核验时链上索引高度",
        "file": "证照文件核对",
        "file_match": "一致：文件与证照所指的相同",
        "file_mismatch": "不一致",
        "file_none": "未提交证照文件",
        "again": "再核验一份",
        "nav_ask": "请出示：请市民用电子钱包出示证照",
        "paper": "纸质证照（二维码）",
        "audited": "本次核验已记入审计日志，用证事由：",
        "error_title": "无法核验",
        "error_no_input": "请粘贴证照，或上传文件。",
        "error_both_inputs": "请只提供一份证照：粘贴或上传，二选一。",
        "error_not_json": "内容不是 JSON，也不是可识别的二维码图片。",
        "error_no_qr": "图片中未找到通办二维码（TB1:）。",
        "error_many_qr": "图片中有多个不同的通办二维码，请只拍一个。",
        "error_bad_image": "无法读取该图片或 PDF。",
        "error_not_tb1": "二维码内容不是有效的 TB1 证照。",
        "error_malformed": "这不是证照或出示件：",
        "error_purpose": "用证事由或法律依据无效。",
        "error_file_with_presentation": "证照文件只能与单份证照一起核对，不能与出示件一起核对。",
        "error_unavailable": "核验服务暂时无法给出结论（链上索引或审计日志不可用），请稍后重试。",
        "error_csrf": "表单已失效或不是本页提交的，请重新填写后提交。",
        "error_too_large": "提交的内容或文件过大。",
        "error_bad_form": "提交的表单不完整或格式不对，请在本页重新提交。",
        "page_forbidden_title": "无权访问此页",
        "page_forbidden": "您已登录，但您的角色不能使用此页。如需使用，请联系本单位的管理员。",
        "page_not_found_title": "找不到此页",
        "page_not_found": "没有这个页面，或它不属于您当前的登录会话。",
        "page_home": "回到核验页",
        "nav_console_audit": "审计控制台",
        "nav_console_operator": "运维控制台",
        "lang_name": "中文",
    },
    "en": {
        "html_lang": "en",
        "app": "Tongban · certificate verification",
        "skip": "Skip to main content",
        "switch": "中文",
        "signed_in_as": "Signed in as",
        "signout": "Sign out",
        "verify_title": "Verify an electronic certificate",
        "verify_intro": "Paste or drop a credential or presentation (JSON), or upload "
        "an image or PDF of a printed certificate's QR code.",
        "document_label": "Credential or presentation (JSON)",
        "document_hint": "Paste it here, or drop a file onto this box.",
        "upload_label": "Or upload a file (JSON, a QR image PNG/JPEG, or a PDF)",
        "certificate_label": "Certificate file (optional, OFD/PDF): is it the file the "
        "credential names?",
        "purpose_label": "Purpose of use",
        "purpose_choose": "Choose the purpose of use",
        "basis_label": "Legal basis",
        "basis_hint": "A legal basis code, e.g. prc.pipl.art13",
        "submit": "Verify",
        "scan": "Scan with the camera",
        "scan_stop": "Stop scanning",
        "scan_looking": "Hold the QR code of the printed certificate up to the camera.",
        "scan_found": "QR code read. Choose the purpose of use, then press Verify.",
        "scan_timeout": "No QR code was read within 60 seconds; the camera is off. "
        "Scan again, or upload a photo of the QR code.",
        "scan_refused": "The camera could not be opened (not allowed, or no camera). "
        "Upload a photo of the QR code instead.",
        "scan_failed": "Scanning stopped. Reload the page and try again, "
        "or upload a photo of the QR code.",
        "result_title": "Verification result",
        "verdict": "Verdict",
        "verdict_valid": "Valid: every check passed",
        "verdict_invalid": "Invalid: a check failed",
        "verdict_error": "Undecided: try again later",
        "verdict_unregistered": "Issuer not in the consortium: the signature holds, but "
        "no member issued it",
        "checks": "Checks",
        "check_status_VALID": "passed",
        "check_status_INVALID": "failed",
        "check_status_ERROR": "undecided",
        "check_status_SKIPPED": "not run",
        "code": "code",
        "face": "Certificate face",
        "no_claims": "Nothing disclosed.",
        "certificate": "Certificate",
        "identifier": "Certificate identifier (证照标识)",
        "type_name": "Certificate type",
        "agency": "Issuing agency",
        "jurisdiction": "Jurisdiction",
        "issuer": "Issuer",
        "trust_grade": "Trust grade",
        "usage_note": "Usage note",
        "anchored": "Anchored",
        "anchored_block": "block",
        "not_anchored": "No anchor proof seen",
        "index_height": "Chain index height at verification",
        "file": "Certificate file check",
        "file_match": "Match: the file is the one the credential names",
        "file_mismatch": "Mismatch",
        "file_none": "No certificate file given",
        "again": "Verify another",
        "nav_ask": "Ask the citizen to present from their wallet",
        "paper": "Printed certificate (QR)",
        "audited": "This verification is in the audit log, purpose: ",
        "error_title": "Cannot verify",
        "error_no_input": "Paste a credential or upload a file.",
        "error_both_inputs": "Give one credential only: paste or upload, not both.",
        "error_not_json": "This is neither JSON nor a readable QR image.",
        "error_no_qr": "No Tongban QR code (TB1:) found in the image.",
        "error_many_qr": "The image shows several different Tongban QR codes: show one.",
        "error_bad_image": "The image or PDF cannot be read.",
        "error_not_tb1": "The QR code is not a valid TB1 certificate.",
        "error_malformed": "This is not a credential or presentation: ",
        "error_purpose": "The purpose or legal basis is invalid.",
        "error_file_with_presentation": "A certificate file is checked with a single credential, "
        "not with a presentation.",
        "error_unavailable": "The verifier cannot give a verdict now (chain index or audit log "
        "unavailable): try again later.",
        "error_csrf": "The form has expired or was not sent from this page: fill it in again.",
        "error_too_large": "The text or a file is too large.",
        "error_bad_form": "The form arrived incomplete or malformed: send it again from this page.",
        "page_forbidden_title": "Not allowed",
        "page_forbidden": "You are signed in, but your roles do not allow this page. Ask your "
        "organisation's administrator if you need it.",
        "page_not_found_title": "Page not found",
        "page_not_found": "There is no such page, or it belongs to another signed-in session.",
        "page_home": "Back to the verifier page",
        "nav_console_audit": "Audit console",
        "nav_console_operator": "Operator console",
        "lang_name": "English",
    },
}
"""Page text by language, by key (both languages have the same keys)."""

CHECK_TITLES: dict[Check, tuple[str, str]] = {
    Check.PARSE: ("格式与模板", "format and schema"),
    Check.ISSUER_PROOF: ("签发者签名（SM2）", "issuer signature (SM2)"),
    Check.ISSUER_KEY: ("签发者登记与密钥", "issuer registration and key"),
    Check.ANCHOR: ("上链存证（默克尔证明）", "anchored on chain (Merkle proof)"),
    Check.STATUS: ("状态（撤销、暂停）", "status (revoked, suspended)"),
    Check.VALIDITY: ("有效期", "validity period"),
    Check.PRESENTATION: ("出示人与持证人", "presenter and holder"),
    Check.DISCLOSURES: ("选择性披露", "selective disclosures"),
}
"""The numbered checks' titles (中文, English)."""

CLAIM_LABELS: dict[str, tuple[str, str]] = {
    "id": ("持证人标识", "Holder"),
    "holderName": ("姓名", "Name"),
    "gender": ("性别", "Sex"),
    "dateOfBirth": ("出生日期", "Date of birth"),
    "degreeLevel": ("学位级别", "Degree level"),
    "degreeName": ("学位名称", "Degree"),
    "fieldOfStudy": ("学科专业", "Field of study"),
    "awardingInstitution": ("授予单位", "Awarding institution"),
    "conferralDate": ("授予日期", "Conferral date"),
    "certificateNumber": ("证书编号", "Certificate number"),
    "studyMode": ("学习形式", "Mode of study"),
    "unifiedSocialCreditCode": ("统一社会信用代码", "Unified social credit code"),
    "enterpriseName": ("名称", "Enterprise name"),
    "enterpriseType": ("类型", "Enterprise type"),
    "legalRepresentative": ("法定代表人", "Legal representative"),
    "registeredCapital": ("注册资本", "Registered capital"),
    "establishmentDate": ("成立日期", "Established"),
    "businessScope": ("经营范围", "Business scope"),
    "registeredAddress": ("住所", "Registered address"),
    "registrationAuthority": ("登记机关", "Registration authority"),
    "operatingPeriodEnd": ("营业期限至", "Operating period ends"),
    "childName": ("新生儿姓名", "Child's name"),
    "childGender": ("新生儿性别", "Child's sex"),
    "placeOfBirth": ("出生地点", "Place of birth"),
    "birthWeightGrams": ("出生体重（克）", "Birth weight (g)"),
    "birthLengthCm": ("出生身长（厘米）", "Birth length (cm)"),
    "motherName": ("母亲姓名", "Mother's name"),
    "fatherName": ("父亲姓名", "Father's name"),
    "issuingInstitution": ("签发机构", "Issuing institution"),
    "holderDateOfBirth": ("持证人出生日期", "Holder's date of birth"),
    "holderNationality": ("持证人国籍", "Holder's nationality"),
    "spouseName": ("配偶姓名", "Spouse's name"),
    "spouseDateOfBirth": ("配偶出生日期", "Spouse's date of birth"),
    "spouseNationality": ("配偶国籍", "Spouse's nationality"),
    "registrationDate": ("登记日期", "Registration date"),
    "ethnicity": ("民族", "Ethnicity"),
    "citizenIdNumber": ("公民身份号码", "Citizen ID number"),
    "householdAddress": ("户籍地址", "Household address"),
    "issuingAuthority": ("出具机关", "Issuing authority"),
}
"""The certificate face's label of each claim (中文, English)."""


def text(lang: str) -> Mapping[str, str]:
    """The page catalogue of ``lang`` (the default language for an unknown one)."""
    return PAGE_TEXT.get(lang, PAGE_TEXT[LANGUAGES[0]])


def claim_label(name: str, lang: str) -> str:
    """The face label of claim ``name`` in ``lang``; an unlisted claim shows its own name."""
    labels = CLAIM_LABELS.get(name)
    if labels is None:
        return name
    return labels[1] if lang == "en" else labels[0]


def pick_language(query: str | None, cookie: str | None) -> str:
    """``?lang=`` first, then the ``lang`` cookie, else Chinese."""
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return str(choice)
    return LANGUAGES[0]
