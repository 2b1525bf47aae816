"""The tamper corpus: valid credentials and presentations, and 10,000 mutations of them.

``setup_scene`` issues Zhejiang's credentials on the test chain (some revoked,
suspended, signed by a compromised key, or "anchored" under another issuer's
root) and syncs Guangdong's index; ``mutations`` then yields the corpus, one
``Mutation`` at a time, each with the checks allowed to catch it. Consumers:
``tests/credentials/verify/test_tamper.py`` (the verifier rejects each by the
right check) and ``tests/api/client/test_wallet_agreement.py`` (the wallet's
offline check agrees with the verifier).

The generator is lazy and some cases depend on the verifier's state (a
presentation's challenge is issued when the case is made), so verify each case
before asking for the next.
"""

from __future__ import annotations

import base64
import copy
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import base58

from credentials.anchor_proof import AnchorProof
from credentials.credential import with_anchor_proof
from credentials.cryptosuite import create_proof
from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.jcs import canonicalize
from credentials.reasons import Reason
from credentials.verify import Verifier
from ledger.audit.events import Caller, EventInput
from ledger.chain.node.client import checksum
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import IssuingProvince, VerifyingProvince, degree_request

SEED = 20260501
TOTAL = 10_000
YEAR_MS = 365 * 24 * 3600 * 1000

PLAN = [
    ("credential-random", 3500),
    ("presentation-random", 1500),
    ("presentation-resigned-random", 500),
    ("credential-proof-byte", 400),
    ("presentation-proof-byte", 100),
    ("audit-path", 500),
    ("swapped-issuer", 500),
    ("anchor-other-contract-or-chain", 500),
    ("validity-period", 500),
    ("revoked-or-suspended", 400),
    ("key-compromised", 300),
    ("root-of-another-issuer", 300),
    ("challenge-replayed-or-expired", 300),
    ("disclosure-not-in-sd", 700),
]
"""Categories of mutation and how many of each (they add up to ``TOTAL``)."""

Json = Any
Path_ = tuple[str | int, ...]


class MemoryAccessLog:
    """An access log that validates and keeps events in memory (the matrix's audit sink)."""

    def __init__(self) -> None:
        self.events: list[tuple[Caller, EventInput]] = []

    def append(self, caller: Caller, event: EventInput) -> None:
        event.validate()
        self.events.append((caller, event))


# -------------------------------------------------------------------- mutations


def _locations(value: Json, prefix: Path_ = ()) -> list[Path_]:
    found: list[Path_] = [prefix]
    if isinstance(value, dict):
        for key, member in value.items():
            found.extend(_locations(member, (*prefix, key)))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            found.extend(_locations(member, (*prefix, index)))
    return found


def _get(value: Json, path: Path_) -> Json:
    for step in path:
        value = value[step]
    return value


def _other_value(rng: random.Random, value: Json) -> Json:
    if isinstance(value, bool):
        return rng.choice([not value, None, 0, "true"])
    if isinstance(value, int):
        return rng.choice([value + 1, value - 1, -value - 1, str(value), 0.5, None])
    if isinstance(value, float):
        return rng.choice([value + 1, int(value) + 7, str(value)])
    if isinstance(value, str):
        if not value:
            return rng.choice(["x", 0, None])
        i = rng.randrange(len(value))
        choices = [
            value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1 :],
            value + rng.choice("aZ0-~é"),
            value[:i] + value[i + 1 :],
            value.upper() if value.upper() != value else value.lower(),
            "",
            rng.choice([0, None, True, [value], {"v": value}]),
        ]
        return rng.choice(choices)
    if isinstance(value, list):
        return rng.choice(
            [
                [],
                value[:-1] if value else [1],
                [*value, copy.deepcopy(value[-1])] if value else [None],
                {},
                "list",
            ]
        )
    if isinstance(value, dict):
        return rng.choice([{}, [], None, "object"])
    return rng.choice([0, "", [], {}])


def _is_derivation(source: Json, mutated: Json) -> bool:
    """Whether ``mutated`` only drops disclosures of ``source`` (what a holder may do)."""
    if not isinstance(mutated, dict) or not isinstance(source, dict):
        return False
    rest = {k: v for k, v in mutated.items() if k != "disclosures"}
    if rest != {k: v for k, v in source.items() if k != "disclosures"}:
        return False
    kept = mutated.get("disclosures", [])
    original = source.get("disclosures", [])
    if not isinstance(kept, list):
        return False
    if "disclosures" in mutated and not kept:
        return True
    position = 0
    for item in kept:
        while position < len(original) and original[position] != item:
            position += 1
        if position == len(original):
            return False
        position += 1
    return True


def random_mutation(
    rng: random.Random, document: Json, *, credential: bool
) -> tuple[Json, Path_, str]:
    """One random structural mutation; returns (document, path, kind)."""
    while True:
        mutated = copy.deepcopy(document)
        path = rng.choice(_locations(mutated))
        kind = rng.choice(["replace", "replace", "delete", "add", "reorder", "retype"])
        if not path:
            if kind in ("replace", "retype"):
                return rng.choice([[], "x", None, 1]), path, kind
            continue
        parent = _get(mutated, path[:-1])
        leaf = path[-1]
        target = parent[leaf]
        if kind == "replace":
            parent[leaf] = _other_value(rng, target)
        elif kind == "retype":
            parent[leaf] = rng.choice([None, 0, "", [], {}, True, 1.5])
        elif kind == "delete":
            del parent[leaf]
        elif kind == "add":
            if isinstance(target, dict):
                target[rng.choice(["extra", "id", "type", "_sd", "proof", "x-y"])] = rng.choice(
                    ["x", 1, [], {}]
                )
            elif isinstance(target, list):
                target.insert(
                    rng.randrange(len(target) + 1),
                    rng.choice(["x", 1, [], {}, copy.deepcopy(target[0]) if target else None]),
                )
            else:
                continue
        elif kind == "reorder":
            if not isinstance(target, list) or len(target) < 2:
                continue
            i, j = rng.sample(range(len(target)), 2)
            target[i], target[j] = target[j], target[i]
        if canonicalize(mutated) == canonicalize(document):
            continue  # no change as JSON: not a mutation
        if credential and _is_derivation(document, mutated):
            continue  # dropping disclosures is selective disclosure, not tampering
        return mutated, path, kind


def credential_area(path: Path_) -> set[int]:
    """Checks that may catch a mutation at ``path`` inside a credential (relative path)."""
    if not path:
        return {0}
    if path[0] == "anchor":
        return {0, 3}
    if path[0] == "proof":
        return {0, 1}
    if path[0] == "disclosures":
        return {0, 7}
    return {0, 1}


def _flip_proof_value(rng: random.Random, value: str) -> str:
    raw = bytearray(base58.b58decode(value[1:]))
    index = rng.randrange(len(raw))
    raw[index] ^= 1 << rng.randrange(8)
    return "z" + base58.b58encode(bytes(raw)).decode()


def _flip_hex(rng: random.Random, text: str) -> str:
    raw = bytearray(bytes.fromhex(text))
    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return raw.hex()


def _new_salt() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def world_address(rng: random.Random) -> str:
    """A random well-formed contract address."""
    return checksum("0x" + bytes(rng.randrange(256) for _ in range(20)).hex())


# ------------------------------------------------------------------------ setup


@dataclass
class Scene:
    """The valid documents the corpus mutates, and the verifier that issues challenges."""

    verifier: Verifier
    log: MemoryAccessLog
    holder: Holder
    base: dict[str, Any]
    credentials: list[dict[str, Any]]
    revoked: dict[str, Any]
    suspended: dict[str, Any]
    compromised: dict[str, Any]
    foreign_root: dict[str, Any]
    foreign_root_gd: dict[str, Any]
    domain: str

    def present(
        self, credentials: list[tuple[dict[str, Any], list[str]]], challenge: str | None = None
    ) -> dict[str, Any]:
        if challenge is None:
            challenge = self.verifier.issue_challenge().value
        return self.holder.present(credentials, challenge=challenge, domain=self.domain)

    def resign(self, presentation: dict[str, Any], challenge: str | None = None) -> dict[str, Any]:
        """The holder (as attacker) signs a modified presentation over a fresh challenge."""
        body = {k: v for k, v in presentation.items() if k != "proof"}
        value = challenge if challenge is not None else self.verifier.issue_challenge().value
        proof = create_proof(
            body,
            self.holder.signer,
            verification_method=self.holder.verification_method,
            proof_purpose="authentication",
            created=presentation["proof"]["created"],
            challenge=value,
            domain=self.domain,
        )
        return {**body, "proof": proof}


def setup_scene(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, world: World, holder: Holder
) -> Scene:
    """Issue, anchor, revoke and suspend Zhejiang's credentials; sync Guangdong's index."""
    issuer = zhejiang.issuer
    ten_years = "2036-01-01T00:00:00Z"
    batch = issuer.issue_many([degree_request(holder, valid_until=ten_years) for _ in range(13)])
    revoked, suspended = batch[11], batch[12]
    # A second key, compromised from its own batch's anchoring time.
    key2 = Sm2PrivateKey.generate()
    world.registry.add_key(world.zj_admin, ZJ, "key-2", key2.public_key.compressed())
    zhejiang.anchor_all()
    signer2 = LocalSigner(f"{zhejiang.config.did}#key-2", key2)
    compromised = issuer.issue(degree_request(holder, valid_until=ten_years), signer=signer2)
    zhejiang.anchor_all()
    anchored_at = issuer.anchoring_status(compromised.digest).block_time
    assert anchored_at is not None
    world.registry.mark_key_compromised(world.zj_admin, ZJ, "key-2", anchored_at)
    issuer.revoke([revoked.digest])
    issuer.suspend([suspended.digest])
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    # A Zhejiang credential whose digest Guangdong's writer anchored as its own root.
    stray = issuer.issue(degree_request(holder, valid_until=ten_years))
    root = SM3_TREE.hash_leaf(stray.digest)
    gd_anchor = world.credential.anchor(world.gd_writer, GD, root, 1)
    stray_document = issuer.credential(stray.digest, require_anchor=False)

    def with_proof(issuer_id: int) -> dict[str, Any]:
        proof = AnchorProof(
            world.client.chain_id,
            world.addresses.credential_anchor,
            issuer_id,
            root,
            0,
            1,
            (),
            gd_anchor.block_number,
        )
        return with_anchor_proof(stray_document, proof.to_json())

    guangdong.sync()
    log = MemoryAccessLog()
    verifier = Verifier(guangdong.config, guangdong.index, guangdong.challenges, log)
    return Scene(
        verifier=verifier,
        log=log,
        holder=holder,
        base=issuer.credential(batch[0].digest),
        credentials=[issuer.credential(c.digest) for c in batch[:11]],
        revoked=issuer.credential(revoked.digest),
        suspended=issuer.credential(suspended.digest),
        compromised=issuer.credential(compromised.digest),
        foreign_root=with_proof(ZJ),
        foreign_root_gd=with_proof(GD),
        domain=guangdong.config.did,
    )


# -------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Mutation:
    """One case of the corpus: a document the verifier must reject, and by which check.

    ``allowed``: the checks that may be the lowest-numbered failure; ``reasons``: the
    reason codes it may have (None: any). ``now_ms``: the verification time (None:
    now). ``replayed``: the document is first submitted once, and VALID; the case is
    its second submission. ``what``: where and how it was mutated, for messages.
    """

    category: str
    document: Json
    presentation: bool
    allowed: frozenset[int]
    reasons: frozenset[str] | None = None
    now_ms: int | None = None
    replayed: bool = False
    what: object = None


def _case(
    category: str,
    document: Json,
    allowed: set[int],
    reasons: set[str] | None = None,
    *,
    presentation: bool = False,
    now_ms: int | None = None,
    replayed: bool = False,
    what: object = None,
) -> Mutation:
    return Mutation(
        category,
        document,
        presentation,
        frozenset(allowed),
        None if reasons is None else frozenset(reasons),
        now_ms,
        replayed,
        what,
    )


def mutations(scene: Scene, rng: random.Random) -> Iterator[Mutation]:
    """The ``TOTAL`` cases of ``PLAN``, in order, drawn from ``rng``."""
    verifier = scene.verifier
    # One signed presentation serves every mutation that breaks the holder signature:
    # its challenge is only consumed by a presentation whose signature verifies.
    signed = scene.present([(scene.base, ["degreeLevel", "awardingInstitution", "holderName"])])

    for category, count in PLAN:
        for _ in range(count):
            if category == "credential-random":
                source = rng.choice(scene.credentials)
                mutated, path, kind = random_mutation(rng, source, credential=True)
                yield _case(category, mutated, credential_area(path), what=(path, kind))
            elif category == "presentation-random":
                mutated, path, kind = random_mutation(rng, signed, credential=False)
                allowed = {0, 6}
                if (
                    len(path) >= 2
                    and path[0] == "verifiableCredential"
                    and isinstance(path[1], int)
                ):
                    allowed |= credential_area(path[2:])
                yield _case(category, mutated, allowed, presentation=True, what=(path, kind))
            elif category == "presentation-resigned-random":
                mutated, path, kind = random_mutation(
                    rng, signed["verifiableCredential"][0], credential=True
                )
                forged = scene.resign({**signed, "verifiableCredential": [mutated]})
                allowed = credential_area(path) | {0}
                yield _case(category, forged, allowed, presentation=True, what=(path, kind))
            elif category == "credential-proof-byte":
                mutated = copy.deepcopy(rng.choice(scene.credentials))
                proof = mutated["proof"]
                proof["proofValue"] = _flip_proof_value(rng, proof["proofValue"])
                yield _case(category, mutated, {1}, {Reason.SIGNATURE_INVALID})
            elif category == "presentation-proof-byte":
                mutated = copy.deepcopy(signed)
                mutated["proof"]["proofValue"] = _flip_proof_value(
                    rng, mutated["proof"]["proofValue"]
                )
                yield _case(
                    category,
                    mutated,
                    {6},
                    {Reason.HOLDER_SIGNATURE_INVALID},
                    presentation=True,
                )
            elif category == "audit-path":
                mutated = copy.deepcopy(rng.choice(scene.credentials))
                anchor = mutated["anchor"]
                path_ = anchor["auditPath"]
                choice = rng.randrange(4)
                if choice == 0 or len(path_) < 2:
                    i = rng.randrange(len(path_))
                    path_[i] = _flip_hex(rng, path_[i])
                elif choice == 1:
                    i, j = rng.sample(range(len(path_)), 2)
                    path_[i], path_[j] = path_[j], path_[i]
                    if path_[i] == path_[j]:
                        path_[i] = _flip_hex(rng, path_[i])
                elif choice == 2:
                    path_.pop(rng.randrange(len(path_)))
                else:
                    path_.insert(rng.randrange(len(path_) + 1), secrets.token_hex(32))
                yield _case(category, mutated, {3})
            elif category == "swapped-issuer":
                mutated = copy.deepcopy(rng.choice(scene.credentials))
                chain = verifier.config.chain_id
                variant = rng.randrange(3)
                if variant == 0:
                    mutated["issuer"] = issuer_did(chain, GD)
                elif variant == 1:
                    mutated["issuer"] = issuer_did(chain, GD)
                    mutated["proof"]["verificationMethod"] = f"{issuer_did(chain, GD)}#key-1"
                else:
                    mutated["issuer"] = issuer_did(chain + 1, ZJ)
                yield _case(category, mutated, {1})
            elif category == "anchor-other-contract-or-chain":
                mutated = copy.deepcopy(rng.choice(scene.credentials))
                anchor = mutated["anchor"]
                if rng.random() < 0.5:
                    anchor["chainId"] = anchor["chainId"] + rng.randrange(1, 10_000)
                    reason = Reason.ANCHOR_CHAIN_MISMATCH
                else:
                    anchor["contract"] = rng.choice(
                        [world_address(rng), verifier.config.registry, anchor["contract"].lower()]
                    )
                    reason = Reason.ANCHOR_CONTRACT_MISMATCH
                yield _case(category, mutated, {3}, {reason})
            elif category == "validity-period":
                document = rng.choice(scene.credentials)
                if rng.random() < 0.5:
                    at = 2_082_758_400_000 + rng.randrange(1, 50 * YEAR_MS)  # after 2036-01-01
                    reason = Reason.EXPIRED
                else:
                    at = rng.randrange(0, 1_700_000_000_000)  # before issuance
                    reason = Reason.NOT_YET_VALID
                yield _case(category, document, {5}, {reason}, now_ms=at)
            elif category == "revoked-or-suspended":
                if rng.random() < 0.5:
                    yield _case(category, scene.revoked, {4}, {Reason.REVOKED})
                else:
                    yield _case(category, scene.suspended, {4}, {Reason.SUSPENDED})
            elif category == "key-compromised":
                yield _case(category, scene.compromised, {2}, {Reason.KEY_COMPROMISED_AT_ANCHOR})
            elif category == "root-of-another-issuer":
                if rng.random() < 0.5:
                    yield _case(category, scene.foreign_root, {3}, {Reason.ROOT_NOT_ANCHORED})
                else:
                    yield _case(
                        category, scene.foreign_root_gd, {3}, {Reason.ANCHOR_ISSUER_MISMATCH}
                    )
            elif category == "challenge-replayed-or-expired":
                if rng.random() < 0.3:
                    fresh = scene.present([(scene.base, ["degreeName"])])
                    yield _case(
                        category,
                        fresh,
                        {6},
                        {Reason.CHALLENGE_USED},
                        presentation=True,
                        replayed=True,
                    )
                else:
                    fresh = scene.present([(scene.base, ["degreeName"])])
                    late = (
                        verifier.clock()
                        + verifier.config.challenge_ttl_ms
                        + rng.randrange(1, 10**7)
                    )
                    yield _case(
                        category,
                        fresh,
                        {6},
                        {Reason.CHALLENGE_EXPIRED},
                        presentation=True,
                        now_ms=late,
                    )
            elif category == "disclosure-not-in-sd":
                credential = copy.deepcopy(rng.choice(scene.credentials))
                item = rng.choice(credential["disclosures"])
                if rng.random() < 0.5:
                    item[0] = _new_salt()
                elif item[1].endswith(("Name", "Institution", "fieldOfStudy")):
                    item[2] = item[2] + "x"
                else:
                    item[0] = _new_salt()
                if rng.random() < 0.5:
                    yield _case(category, credential, {7}, {Reason.DISCLOSURE_NOT_IN_SD})
                else:
                    forged = scene.present(
                        [(credential, [p[1].rsplit("/", 1)[1] for p in credential["disclosures"]])]
                    )
                    yield _case(
                        category,
                        forged,
                        {7},
                        {Reason.DISCLOSURE_NOT_IN_SD},
                        presentation=True,
                    )
            else:
                raise AssertionError(category)
