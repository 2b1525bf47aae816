"""Signed, anchored credentials of every template for the paper tests (offline, no chain).

Each sample carries every claim, a 证照标识 member, a certificate file entry, the
two status entries on a realistic province host, and an anchor member for a
batch of ``2**levels`` leaves whose random audit path leads from the credential's
own leaf to the root (so the Merkle check passes offline).
"""

from __future__ import annotations

import secrets
from typing import Any

from credentials.credential import IssueRequest, issue_credential, with_anchor_proof
from credentials.did import issuer_did
from credentials.file_binding import CertificateFile
from credentials.holder import Holder
from credentials.status_list import list_url, status_entries
from credentials.templates import get_template
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import Agency, zhengzhao_member
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof

CHAIN_ID = 31337
ISSUER_ID = 1
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PUBLIC_BASE = "https://tongban.zjzwfw.gov.cn"
ISSUER_KEY = Sm2PrivateKey.from_bytes((1).to_bytes(32, "big"))
AGENCY = Agency("11330000TB0000002G", "浙江省市场监督管理局")

CLAIMS: dict[str, dict[str, Any]] = {
    "degree-certificate": {
        "holderName": "张三",
        "gender": "male",
        "dateOfBirth": "2000-01-02",
        "degreeLevel": "bachelor",
        "degreeName": "工学学士",
        "fieldOfStudy": "计算机科学与技术",
        "awardingInstitution": "浙江大学",
        "conferralDate": "2022-06-30",
        "certificateNumber": "1033512022000123",
        "studyMode": "full-time",
    },
    "business-licence": {
        "unifiedSocialCreditCode": "91330100MA2A777707",
        "enterpriseName": "杭州通办科技有限公司",
        "enterpriseType": "有限责任公司",
        "legalRepresentative": "李四",
        "registeredCapital": "100万元人民币",
        "establishmentDate": "2019-03-15",
        "businessScope": "软件开发、信息技术咨询服务",
        "registeredAddress": "浙江省杭州市西湖区文三路1号",
        "registrationAuthority": "杭州市西湖区市场监督管理局",
        "operatingPeriodEnd": "2049-03-14",
    },
    "birth-medical-certificate": {
        "childName": "王小明",
        "childGender": "male",
        "dateOfBirth": "2024-02-29",
        "placeOfBirth": "浙江省杭州市上城区",
        "birthWeightGrams": 3250,
        "birthLengthCm": 50.5,
        "motherName": "赵丽",
        "fatherName": "王强",
        "issuingInstitution": "浙江大学医学院附属妇产科医院",
        "certificateNumber": "R330012345",
    },
    "marriage-certificate": {
        "holderName": "陈一",
        "holderDateOfBirth": "1995-05-05",
        "holderNationality": "CHN",
        "spouseName": "林二",
        "spouseDateOfBirth": "1996-06-06",
        "spouseNationality": "CHN",
        "registrationDate": "2023-05-20",
        "registrationAuthority": "杭州市西湖区民政局",
        "certificateNumber": "J330106-2023-001234",
    },
    "resident-certificate": {
        "holderName": "周五",
        "gender": "female",
        "dateOfBirth": "1990-10-01",
        "ethnicity": "汉族",
        "citizenIdNumber": "11010519491231002X",
        "householdAddress": "浙江省杭州市拱墅区湖墅南路1号",
        "issuingAuthority": "杭州市公安局拱墅区分局",
        "certificateNumber": "ZJ2026000123",
    },
}


def sample(
    template: str, *, levels: int = 20, with_file: bool = True, with_agency: bool = True
) -> dict[str, Any]:
    """A signed credential of ``template`` anchored in a batch of ``2**levels`` leaves.

    ``with_agency`` False: issued for no agency, so without a ``zhengzhao`` member.
    """
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ISSUER_ID)}#key-1", ISSUER_KEY)
    national = get_template(template).national if with_agency else None
    member = None
    if national is not None:
        identifier = ZhengzhaoId(national.type_code, AGENCY.code, "20260001234", 1)
        member = zhengzhao_member(national, AGENCY, str(identifier), "330000")
    known = set(get_template(template).claims)
    request = IssueRequest(
        template=template,
        holder=Holder.generate().did,
        claims={k: v for k, v in CLAIMS[template].items() if k in known},
        valid_from="2026-05-01T00:00:00Z",
        valid_until="2036-04-30T23:59:59Z",
        credential_status=tuple(
            status_entries(lambda p: list_url(PUBLIC_BASE, 1, p), secrets.randbelow(131_072))
        ),
        agency=AGENCY if member is not None else None,
        zhengzhao=member,
        related_file=(
            CertificateFile(secrets.token_bytes(32), "application/pdf", 48_213)
            if with_file
            else None
        ),
    )
    signed = issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ISSUER_ID, now_ms=1_777_593_600_000
    )
    tree_size = 1 << levels
    leaf_index = secrets.randbelow(tree_size)
    path = [secrets.token_bytes(32) for _ in range(levels)]
    hasher = TreeHasher()
    root = root_from_inclusion_proof(
        hasher, leaf_index, tree_size, hasher.hash_leaf(signed.digest), path
    )
    anchor = {
        "type": "TongbanAnchorProof2026",
        "chainId": CHAIN_ID,
        "contract": CONTRACT,
        "issuerId": ISSUER_ID,
        "root": root.hex(),
        "leafIndex": leaf_index,
        "treeSize": tree_size,
        "auditPath": [p.hex() for p in path],
        "blockNumber": 18_345_678,
    }
    return with_anchor_proof(signed.document, anchor)
