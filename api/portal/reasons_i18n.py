"""Every reason code of the checklist in words, Chinese and English (``REASON_WORDS``).

The page shows the words and the code beside them; a test holds that every
``credentials.reasons.Reason`` has both languages here.
"""

# Chinese text is written with its own full-width punctuation, on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from credentials.reasons import Reason

__all__ = ["REASON_WORDS", "reason_words"]

_R = Reason
REASON_WORDS: dict[Reason, tuple[str, str]] = {
    _R.OK: ("通过", "passed"),
    _R.NOT_APPLICABLE: ("不适用", "not applicable"),
    _R.PREREQUISITE_FAILED: ("前一项检查未通过，本项未做", "not run: an earlier check failed"),
    _R.INDEX_UNAVAILABLE: ("链上索引暂不可用", "the chain index is unavailable"),
    _R.INTERNAL_ERROR: ("核验服务内部错误", "internal error of the verifier"),
    _R.INPUT_TOO_LARGE: ("内容过大", "the input is too large"),
    _R.INPUT_NOT_UTF8: ("内容不是 UTF-8 文本", "the input is not UTF-8 text"),
    _R.INPUT_NOT_JSON: ("内容不是 JSON", "the input is not JSON"),
    _R.INPUT_DUPLICATE_KEY: ("JSON 中有重复的键", "a JSON key appears twice"),
    _R.INPUT_NUMBER_OUT_OF_RANGE: ("数字超出允许范围", "a number is out of range"),
    _R.INPUT_TOO_DEEP: ("JSON 嵌套过深", "the JSON is nested too deeply"),
    _R.INPUT_ARRAY_TOO_LONG: ("JSON 数组过长", "a JSON array is too long"),
    _R.INPUT_INVALID_STRING: ("含有无效的字符串", "a string is invalid"),
    _R.INPUT_INVALID_TYPE: ("某项的数据类型不对", "a member has the wrong type"),
    _R.STRUCTURE_INVALID: ("证照结构不符合规范", "the structure is not a valid credential"),
    _R.CONTEXT_INVALID: ("@context 不正确", "the @context is wrong"),
    _R.TYPE_INVALID: ("类型（type）不正确", "the type is wrong"),
    _R.ID_INVALID: ("标识（id）不正确", "the id is invalid"),
    _R.ISSUER_INVALID: ("签发者不正确", "the issuer is invalid"),
    _R.DATES_INVALID: ("日期不正确", "the dates are invalid"),
    _R.SCHEMA_UNKNOWN: ("证照模板未知", "the credential schema is unknown"),
    _R.SCHEMA_VIOLATION: ("内容不符合证照模板", "the content breaks its schema"),
    _R.SUBJECT_INVALID: ("持证主体信息不正确", "the credential subject is invalid"),
    _R.SD_INVALID: ("选择性披露信息不正确", "the selective disclosure data is invalid"),
    _R.DISCLOSURE_MALFORMED: ("披露项格式错误", "a disclosure is malformed"),
    _R.PROOF_SET_INVALID: ("签名集合不正确", "the proof set is invalid"),
    _R.PROOF_MALFORMED: ("签名格式错误", "the proof is malformed"),
    _R.TOO_MANY_CREDENTIALS: ("出示的证照过多", "too many credentials"),
    _R.PRESENTATION_MALFORMED: ("出示件格式错误", "the presentation is malformed"),
    _R.CRYPTOSUITE_UNSUPPORTED: ("不支持的签名算法套件", "the cryptosuite is not supported"),
    _R.PROOF_PURPOSE_MISMATCH: ("签名用途不符", "the proof purpose does not match"),
    _R.ISSUER_CHAIN_MISMATCH: ("签发者与链不符", "the issuer belongs to another chain"),
    _R.VERIFICATION_METHOD_NOT_ISSUER: (
        "签名密钥不属于签发者",
        "the signing key is not the issuer's",
    ),
    _R.VERIFICATION_METHOD_UNKNOWN: ("签名密钥未知", "the signing key is unknown"),
    _R.PROOF_VALUE_MALFORMED: ("签名值格式错误", "the signature value is malformed"),
    _R.SIGNATURE_INVALID: ("签名无效（内容可能被改动）", "the signature is invalid (altered?)"),
    _R.ISSUER_UNKNOWN: ("签发者未在联盟链登记", "the issuer is not registered"),
    _R.KEY_NOT_YET_VALID_AT_ANCHOR: (
        "上链时签名密钥尚未生效",
        "the key was not yet valid when anchored",
    ),
    _R.KEY_RETIRED_AT_ANCHOR: ("上链时签名密钥已停用", "the key was retired when anchored"),
    _R.KEY_COMPROMISED_AT_ANCHOR: (
        "签名密钥已被声明泄露",
        "the key was declared compromised",
    ),
    _R.ANCHOR_TIME_UNKNOWN: ("上链时间无法确定", "the anchoring time is unknown"),
    _R.ANCHOR_PROOF_MISSING: ("缺少上链证明", "the anchor proof is missing"),
    _R.ANCHOR_PROOF_MALFORMED: ("上链证明格式错误", "the anchor proof is malformed"),
    _R.ANCHOR_CHAIN_MISMATCH: ("上链证明指向另一条链", "the anchor proof names another chain"),
    _R.ANCHOR_CONTRACT_MISMATCH: (
        "上链证明指向另一合约",
        "the anchor proof names another contract",
    ),
    _R.ANCHOR_ISSUER_MISMATCH: ("上链证明的签发者不符", "the anchor proof names another issuer"),
    _R.ANCHOR_PATH_INVALID: ("默克尔路径无效", "the Merkle path is invalid"),
    _R.ANCHOR_ROOT_MISMATCH: ("默克尔根不符", "the Merkle root does not match"),
    _R.ROOT_NOT_ANCHORED: ("该默克尔根未上链", "the root is not anchored"),
    _R.ANCHOR_NOT_YET_INDEXED: ("上链区块尚未同步", "the anchor block is not indexed yet"),
    _R.ANCHOR_TREE_SIZE_MISMATCH: ("默克尔树大小不符", "the tree size does not match"),
    _R.ANCHOR_BLOCK_MISMATCH: ("上链区块不符", "the anchor block does not match"),
    _R.REVOKED: ("证照已被撤销", "the credential is revoked"),
    _R.SUSPENDED: ("证照已被暂停使用", "the credential is suspended"),
    _R.NOT_YET_VALID: ("证照尚未生效", "the credential is not yet valid"),
    _R.EXPIRED: ("证照已过有效期", "the credential has expired"),
    _R.HOLDER_INVALID: ("持证人标识无效", "the holder is invalid"),
    _R.HOLDER_PROOF_PURPOSE_MISMATCH: (
        "持证人签名用途不符",
        "the holder proof purpose does not match",
    ),
    _R.HOLDER_VERIFICATION_METHOD_INVALID: (
        "持证人签名密钥无效",
        "the holder's key is invalid",
    ),
    _R.HOLDER_SIGNATURE_INVALID: ("持证人签名无效", "the holder's signature is invalid"),
    _R.HOLDER_BINDING_MISMATCH: ("出示人不是持证人", "the presenter is not the holder"),
    _R.DOMAIN_MISMATCH: ("出示对象不是本核验方", "presented to another verifier"),
    _R.CHALLENGE_UNKNOWN: ("随机挑战未知", "the challenge is unknown"),
    _R.CHALLENGE_USED: ("随机挑战已被使用（可能是重放）", "the challenge was used (replay?)"),
    _R.CHALLENGE_EXPIRED: ("随机挑战已过期", "the challenge has expired"),
    _R.CHALLENGE_WRONG_AUDIENCE: ("随机挑战不是发给本核验方的", "the challenge is for another"),
    _R.DISCLOSURE_NOT_IN_SD: ("披露项不在签发时的承诺中", "a disclosure was not committed"),
    _R.DISCLOSURE_DUPLICATE: ("披露项重复", "a disclosure appears twice"),
    _R.DISCLOSURE_POINTER_INVALID: ("披露项位置无效", "a disclosure pointer is invalid"),
    _R.DISCLOSURE_SALT_TOO_SHORT: ("披露项盐值过短", "a disclosure salt is too short"),
    _R.CHALLENGE_NOT_ISSUED: ("随机挑战不是本核验方签发的", "the challenge was not issued here"),
    _R.CHALLENGE_MISMATCH: ("随机挑战与要求的不符", "the challenge is not the one asked"),
    _R.ISSUER_NOT_IN_REGISTRY: ("签发者不在联盟登记中", "the issuer is not in the registry"),
    _R.DOCUMENT_INVALID: ("文档无效", "the document is invalid"),
    _R.DOCUMENT_LIMIT: ("文档超出处理上限", "the document exceeds a limit"),
    _R.PROOF_MISSING: ("缺少签名", "the proof is missing"),
    _R.PROOF_TYPE_UNSUPPORTED: ("不支持的签名类型", "the proof type is not supported"),
    _R.PROOF_CHAIN_UNSUPPORTED: ("不支持签名链", "proof chains are not supported"),
    _R.PROOF_SET_TOO_LARGE: ("签名过多", "the proof set is too large"),
    _R.PROOF_CREATED_IN_FUTURE: ("签名时间晚于当前时间", "the proof was created in the future"),
    _R.PROOF_EXPIRED: ("签名已过期", "the proof has expired"),
    _R.PROOF_CONTEXT_MISMATCH: ("签名的 @context 不符", "the proof context does not match"),
    _R.VERIFICATION_METHOD_UNRESOLVABLE: ("无法解析签名密钥", "the key cannot be resolved"),
    _R.VERIFICATION_METHOD_NOT_AUTHORIZED: ("签名密钥未获授权", "the key is not authorized"),
    _R.VERIFICATION_METHOD_KEY_MISMATCH: ("签名密钥不一致", "the key does not match"),
    _R.CONTEXT_NOT_ALLOWED: ("不允许的 @context", "the context is not allowed"),
    _R.JSONLD_INVALID: ("JSON-LD 无效", "the JSON-LD is invalid"),
    _R.JSONLD_UNDEFINED_TERM: ("JSON-LD 含未定义的术语", "a JSON-LD term is undefined"),
    _R.JSONLD_RELATIVE_IRI: ("JSON-LD 含相对 IRI", "a JSON-LD IRI is relative"),
    _R.CANONICALIZATION_UNSUPPORTED_LITERAL: (
        "规范化不支持的字面量",
        "a literal cannot be canonicalized",
    ),
    _R.CANONICALIZATION_LIMIT: ("规范化超出处理上限", "canonicalization exceeded its limit"),
    _R.STATUS_TYPE_UNSUPPORTED: ("不支持的状态机制", "the status mechanism is not supported"),
    _R.STATUS_RETRIEVAL_ERROR: ("无法获取状态列表", "the status list could not be fetched"),
    _R.STATUS_VERIFICATION_ERROR: ("状态列表校验失败", "the status list failed to verify"),
    _R.STATUS_LIST_LENGTH_ERROR: ("状态列表长度错误", "the status list has a wrong length"),
    _R.MALFORMED_VALUE_ERROR: ("状态值格式错误", "a status value is malformed"),
    _R.RANGE_ERROR: ("状态索引越界", "a status index is out of range"),
    _R.STATUS_LIST_NOT_FETCHED: ("未获取状态列表", "the status list was not fetched"),
    _R.FILE_NOT_NAMED: ("证照未指明证照文件", "the credential names no certificate file"),
    _R.FILE_DIGEST_MISMATCH: ("文件内容与证照不符（SM3）", "the file's SM3 digest differs"),
    _R.FILE_SIZE_MISMATCH: ("文件大小与证照不符", "the file's size differs"),
    _R.FILE_MEDIA_TYPE_MISMATCH: ("文件类型与证照不符", "the file's type differs"),
    _R.ZHENGZHAO_MALFORMED: ("电子证照信息格式错误", "the zhengzhao member is malformed"),
    _R.ZHENGZHAO_IDENTIFIER_INVALID: ("证照标识无效", "the certificate identifier is invalid"),
    _R.ZHENGZHAO_TYPE_CODE_MISMATCH: ("证照类型代码不符", "the certificate type code differs"),
    _R.ZHENGZHAO_AGENCY_MISMATCH: ("发证机构不符", "the issuing agency differs"),
    _R.ZHENGZHAO_TRUST_GRADE_INVALID: ("可信等级无效", "the trust grade is invalid"),
    _R.ZHENGZHAO_TEMPLATE_MISMATCH: ("证照模板不符", "the certificate template differs"),
    _R.PURPOSE_MISMATCH: ("用证事由与出示时的不符", "the purpose differs from the presented"),
    _R.PURPOSE_OF_USE_MALFORMED: ("用证事由格式错误", "the purpose of use is malformed"),
}
"""``Reason`` -> (中文, English)."""


def reason_words(code: str, lang: str) -> str:
    """The words for reason ``code`` in ``lang`` (``zh`` or ``en``); an unknown code as is."""
    try:
        zh, en = REASON_WORDS[Reason(code)]
    except (ValueError, KeyError):
        return code
    return en if lang == "en" else zh
