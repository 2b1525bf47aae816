"""Credentials test data, and two provinces on the test chain: Zhejiang issues, Guangdong verifies.

Each province has its own store (SQLite under the test's directory, or the
``Database`` a test passes: ``db=any_db`` builds it on either engine) and its
own configuration; they share only the chain (the session-wide consortium of
``tests/conftest.py``). Zhejiang's registered key ``key-1`` is the SM2
generator G, i.e. private scalar 1, so tests can sign as Zhejiang without
touching the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credentials.credential import IssueRequest
from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.issuance import BatchAnchorer, CredentialIssuer, IssuerConfig
from credentials.verify import VerificationRequest, Verifier, VerifierConfig
from ledger.audit.events import Caller
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.index import ChainIndex
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto import sm4
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.challenges import Challenges
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import GD, ZJ, World

ZJ_KEY = Sm2PrivateKey.from_bytes((1).to_bytes(32, "big"))
"""Zhejiang's registered ``key-1`` (the consortium fixture registers G = 1·G)."""

VERIFIER_CALLER = Caller("verifier-app", "gd-service-center")

DEGREE_CLAIMS: dict[str, Any] = {
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
}

CLAIMS_BY_TEMPLATE: dict[str, dict[str, Any]] = {
    "degree-certificate": DEGREE_CLAIMS,
    "business-licence": {
        "unifiedSocialCreditCode": "91330100MA2AXXXX0X".replace("X", "7"),
        "enterpriseName": "杭州通办科技有限公司",
        "enterpriseType": "有限责任公司",
        "legalRepresentative": "李四",
        "registeredCapital": "100万元人民币",
        "establishmentDate": "2019-03-15",
        "businessScope": "软件开发、信息技术咨询服务",
        "registeredAddress": "浙江省杭州市西湖区文三路1号",
        "registrationAuthority": "杭州市西湖区市场监督管理局",
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
        "dateOfBirth": "1990-03-07",
        "ethnicity": "汉族",
        "citizenIdNumber": "11010519491231002X",
        "householdAddress": "浙江省杭州市西湖区文三路1号",
        "issuingAuthority": "杭州市公安局西湖区分局文新派出所",
        "certificateNumber": "ZM330106-2026-000123",
    },
}


def request(n: int = 0, *, purpose: str = "cross-province.enrolment") -> VerificationRequest:
    """A verification request as Guangdong's service would make it."""
    return VerificationRequest(VERIFIER_CALLER, purpose, "prc.pipl.art13", f"req-{n}")


def degree_request(who: Holder, **overrides: Any) -> IssueRequest:
    """A degree certificate for ``who``; keyword overrides replace request fields."""
    fields: dict[str, Any] = {
        "template": "degree-certificate",
        "holder": who.did,
        "claims": dict(DEGREE_CLAIMS),
    }
    fields.update(overrides)
    return IssueRequest(**fields)


@dataclass
class IssuingProvince:
    """Zhejiang: its store, issuer, anchorer and outbox processor."""

    world: World
    db: Database
    config: IssuerConfig
    issuer: CredentialIssuer
    anchorer: BatchAnchorer
    sender: NonceManager
    processor: OutboxProcessor

    def anchor_all(self) -> None:
        """Seal whatever is pending and drive the outbox until everything is final."""
        self.anchorer.seal_due(force=True)
        self.processor.run_until_final(timeout=60, poll=0.01)


@dataclass
class VerifyingProvince:
    """Guangdong: its own store, chain index, challenges, audit log and verifier."""

    db: Database
    index: ChainIndex
    challenges: Challenges
    audit: AuditLog
    verifier: Verifier
    config: VerifierConfig
    closers: list[Any] = field(default_factory=list)

    def sync(self) -> None:
        """Bring the chain index up to the head."""
        self.index.sync()


def make_issuing_province(
    world: World,
    path: Path,
    *,
    confirmations: int = 1,
    batch_size: int = 1000,
    db: Database | None = None,
) -> IssuingProvince:
    """Zhejiang's issuing side in ``db``, else in its own SQLite store under ``path``."""
    if db is None:
        db = SqliteDatabase(path / "zj.sqlite")
    chain_id = world.client.chain_id
    config = IssuerConfig(
        chain_id=chain_id,
        issuer_id=ZJ,
        credential_anchor=world.addresses.credential_anchor,
        batch_size=batch_size,
        batch_max_wait_ms=60_000,
    )
    signer = LocalSigner(f"{issuer_did(chain_id, ZJ)}#key-1", ZJ_KEY)
    issuer = CredentialIssuer(db, config, signer, data_key=sm4.generate_key())
    anchorer = BatchAnchorer(db, config, world.credential)
    account = world.accounts.zj_writer
    sender = NonceManager(world.client, account, OutboxJournal(db, account.address))
    processor = OutboxProcessor(db, sender, confirmations=confirmations)
    anchorer.register(processor)
    return IssuingProvince(world, db, config, issuer, anchorer, sender, processor)


def make_verifying_province(
    world: World, path: Path, *, db: Database | None = None
) -> VerifyingProvince:
    """Guangdong's verifying side in ``db``, else in its own SQLite store under ``path``."""
    if db is None:
        db = SqliteDatabase(path / "gd.sqlite")
    chain_id = world.client.chain_id
    config = VerifierConfig(
        chain_id=chain_id,
        registry=world.addresses.registry,
        credential_anchor=world.addresses.credential_anchor,
        did=issuer_did(chain_id, GD),
    )
    index = ChainIndex(db, chain_id, config.registry, config.credential_anchor, client=world.client)
    challenges = Challenges(db)
    audit = AuditLog(
        db, GD, LocalSigner("audit-gd", Sm2PrivateKey.generate()), PseudonymKeys.generate()
    )
    verifier = Verifier(config, index, challenges, audit)
    return VerifyingProvince(db, index, challenges, audit, verifier, config)
