"""A citizen's wallet: the holder key and the credentials issued to it, in one directory.

Layout (directories mode 0700, files 0600)::

    <wallet>/wallet.json                  {"format": "tongban-wallet/v1", "holder": "did:key:z..."}
    <wallet>/keys/<sm3 of "holder">.json  the holder's SM2 key (``ledger.crypto.keystore``:
                                          scrypt + SM4-GCM under the passphrase)
    <wallet>/credentials/<digest>.sealed  one credential each, SM4-GCM sealed

Credentials hold personal data, so they are sealed too: the storage key is
``HMAC-SM3(holder private scalar, "tongban-wallet/v1/storage")[:16]`` (one scrypt
run unlocks both), and each blob's associated data is ``"tongban-wallet/v1" + LF +
digest``, so a sealed file renamed to another digest does not open. Opening a
wallet checks the passphrase and that ``wallet.json`` names the key's DID. The
secrets stay behind ``api.client.vault.WalletKeys``: in this process
(``Wallet.open``) or in the wallet agent (``Wallet.with_keys`` and
``api.client.agent_client.AgentKeys``).

``receive`` keeps only a credential issued to this wallet's DID that passes the
verifier's checks that need no chain, run by the same functions
(``credentials.verify.check_offline``): the structure and schema, the issuer
proof's form and issuer, the anchor proof's path (if any) from the credential
digest to its root, every disclosure hashing to a digest in ``_sd``; given the
issuer's key, the issuer's signature too. A refusal carries the verifier's reason
code. None of this replaces verification (``POST /credentials/verify``): the
wallet has no chain.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.client.errors import SealedEntryError, WalletError
from api.client.remote import RemoteApi, RemoteApiError
from api.client.vault import LocalKeys, Selection, WalletKeys
from credentials.anchor_proof import AnchorProof, anchor_proof_of
from credentials.disclosure import reveal
from credentials.ijson import CREDENTIAL_LIMITS
from credentials.reasons import Check, Reason
from credentials.times import format_ms, now_ms
from credentials.vcdm import issuer_of
from credentials.verify.outcome import Failed, OfflineFailure, Passed
from ledger.crypto import multikey
from ledger.crypto.errors import CryptoError
from ledger.crypto.keystore import DEFAULT_SCRYPT, ScryptParams
from ledger.crypto.sm2 import Sm2PublicKey

# credentials.did imports the chain client (web3) at module level, and
# credentials.credential and credentials.verify.offline import credentials.did: they
# are imported where a credential is checked (receive, fetch-proofs), so that the
# commands an unlocked wallet answers from its agent (did, list, present) start in a
# fraction of a second.
if TYPE_CHECKING:
    from credentials.verify.offline import TrustedChain
    from credentials.verify.parse import ParsedCredential

__all__ = [
    "FORMAT",
    "KnownStatus",
    "ProofFetch",
    "Received",
    "StoredCredential",
    "Wallet",
    "WalletError",
    "check_anchor_proof",
    "check_credential",
    "fetch_anchor_proofs",
    "issuer_key",
    "read_holder",
]

FORMAT = "tongban-wallet/v1"
"""The ``format`` of ``wallet.json``."""

_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)
_PREFIX = re.compile(r"[0-9a-f]{8,64}", re.ASCII)
_MAX_SEALED = 2 * CREDENTIAL_LIMITS.max_bytes + 4096


@dataclass(frozen=True)
class KnownStatus:
    """A credential's status as its issuing province last reported it (``wallet status``)."""

    state: str
    """``none`` (active), ``suspended`` or ``revoked``: the chain's status, as of ``checked_at``."""
    reason: str
    block_number: int | None
    checked_at: str

    @property
    def usable(self) -> bool:
        """Not revoked nor suspended when last checked."""
        return self.state == "none"

    def to_json(self) -> dict[str, Any]:
        """CamelCase JSON, as stored and as ``wallet list --json`` shows it."""
        return {
            "status": self.state,
            "reason": self.reason,
            "blockNumber": self.block_number,
            "checkedAt": self.checked_at,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> KnownStatus:
        """The inverse of ``to_json``."""
        block = document.get("blockNumber")
        return cls(
            str(document["status"]),
            str(document["reason"]),
            None if block is None else int(block),
            str(document["checkedAt"]),
        )

    def describe(self) -> str:
        """``revoked (issued_in_error, block 42)``: for messages; no personal data."""
        block = "" if self.block_number is None else f", block {self.block_number}"
        return f"{self.state} ({self.reason}{block})"


@dataclass(frozen=True)
class StoredCredential:
    """A credential in the wallet, under its digest."""

    digest: str
    credential: dict[str, Any]
    received_at: str
    status: KnownStatus | None = None
    """What its issuer last said of it; None until ``wallet status`` asked."""

    @property
    def credential_type(self) -> str:
        """The credential's own type (e.g. ``DegreeCertificate``)."""
        types = [t for t in self.credential.get("type", []) if t != "VerifiableCredential"]
        return str(types[0]) if types else "VerifiableCredential"

    @property
    def issuer(self) -> str:
        """The issuer's DID (``issuer`` is a URL or an object with an ``id``)."""
        return issuer_of(self.credential)

    @property
    def anchored(self) -> bool:
        """Whether the credential carries its anchor proof."""
        return anchor_proof_of(self.credential) is not None

    def claims(self) -> dict[str, Any]:
        """Every claim, clear and disclosable, with its value (personal data)."""
        subject = reveal(
            self.credential["credentialSubject"], self.credential.get("disclosures", [])
        )
        return {k: v for k, v in subject.items() if k != "id"}

    def claim_names(self) -> list[str]:
        """The names of the claims (no values): what a presentation can disclose or shows."""
        return sorted(self.claims())

    def summary(self, *, show_claims: bool = False) -> dict[str, Any]:
        """What ``wallet list`` shows; claim values only when ``show_claims``."""
        summary: dict[str, Any] = {
            "digest": self.digest,
            "type": self.credential_type,
            "issuer": self.issuer,
            "anchored": self.anchored,
            "validFrom": self.credential.get("validFrom"),
            "validUntil": self.credential.get("validUntil"),
            "receivedAt": self.received_at,
            "status": None if self.status is None else self.status.to_json(),
            "claims": self.claims() if show_claims else self.claim_names(),
        }
        return summary


@dataclass(frozen=True)
class Received:
    """The outcome of ``Wallet.receive``: the stored credential and whether it changed."""

    stored: StoredCredential
    new: bool
    updated: bool


def _reject(message: str) -> WalletError:
    return WalletError(f"refused: {message}")


# The wallet's own words for the faults a citizen meets most; the reason code (in
# every refusal's message and ``reason``) is the verifier's, from the same check.
_WORDING: dict[Reason, str] = {
    Reason.PROOF_SET_INVALID: "a credential has one issuer proof and at most one anchor proof",
    Reason.SIGNATURE_INVALID: "the issuer's signature does not verify: the credential was altered",
    Reason.DISCLOSURE_NOT_IN_SD: "a disclosure does not match the signed digests",
    Reason.ANCHOR_CHAIN_MISMATCH: "the anchor proof is for another chain or issuer",
    Reason.ANCHOR_ISSUER_MISMATCH: "the anchor proof is for another chain or issuer",
    Reason.ANCHOR_ROOT_MISMATCH: "the anchor proof does not lead from this credential to its root",
}


def _refused(check: Check, failure: Failed) -> WalletError:
    text = _WORDING.get(failure.reason, failure.message)
    if check is Check.PARSE:
        text = f"not a verifiable credential: {text}"
    return WalletError(f"refused: {text} ({failure.reason.value})", failure.reason)


def check_anchor_proof(
    digest: bytes, issuer: str, proof: Mapping[str, Any], *, trusted: TrustedChain | None = None
) -> AnchorProof:
    """Check that ``proof`` leads from ``digest`` to its root, for ``issuer``'s own chain and id.

    The verifier's check (3) without the chain (``credentials.verify.anchor_path``):
    that the root is anchored on chain is the verifier's check. ``trusted``: the chain
    and contract this wallet trusts, if it knows them (default: the issuer DID's chain).
    """
    from credentials.did import parse_issuer_did  # see the note at the imports
    from credentials.verify.offline import TrustedChain, anchor_path

    try:
        chain_id, issuer_id = parse_issuer_did(issuer)
    except ValueError:
        raise _refused(
            Check.ANCHOR, Failed(Reason.ISSUER_INVALID, "the issuer is not a did:tongban DID")
        ) from None
    outcome = anchor_path(digest, chain_id, issuer_id, proof, trusted or TrustedChain())
    if isinstance(outcome, Failed):
        raise _refused(Check.ANCHOR, outcome)
    return outcome.value


def check_offline(
    document: object,
    *,
    trusted: TrustedChain | None = None,
    issuer_key: Sm2PublicKey | None = None,
) -> Passed[ParsedCredential] | OfflineFailure:
    """The verifier's ``credentials.verify.check_offline``, imported on first use."""
    from credentials.verify.offline import check_offline as shared  # see the note at the imports

    return shared(document, trusted=trusted, issuer_key=issuer_key)


def check_credential(
    document: Any,
    holder_did: str,
    *,
    issuer_public_key: Sm2PublicKey | None = None,
    trusted: TrustedChain | None = None,
) -> bytes:
    """Check a credential offered to ``holder_did``'s wallet; return its digest.

    The verifier's checks that need no chain, from the same functions
    (``credentials.verify.check_offline``): (0) parse, (1) the issuer proof (its
    signature only given ``issuer_public_key``, the key of the proof's verification
    method), (3) the anchor proof's path if it carries one, (7) the disclosures; then
    that it is issued to ``holder_did``. ``trusted``: the chain and contract this
    wallet trusts, if it knows them. Raises ``WalletError`` whose ``reason`` is the
    verifier's reason code for the first failing check (messages name the rule, never
    a value).
    """
    outcome = check_offline(document, trusted=trusted, issuer_key=issuer_public_key)
    if isinstance(outcome, OfflineFailure):
        raise _refused(outcome.check, outcome.failure)
    if outcome.value.holder != holder_did:
        raise _refused(
            Check.PRESENTATION,
            Failed(
                Reason.HOLDER_BINDING_MISMATCH,
                "the credential is issued to another holder, not to this wallet's DID",
            ),
        )
    return outcome.value.digest


def issuer_key(did_document: Any, verification_method: str) -> Sm2PublicKey:
    """The key ``verification_method`` names in an issuer's DID document (``GET /dids/{did}``).

    Raises ``WalletError`` with reason ``verification_method_unknown`` (the verifier's
    code when the registry has no such key) if the document does not list it.
    """
    unknown = Reason.VERIFICATION_METHOD_UNKNOWN
    methods = did_document.get("verificationMethod") if isinstance(did_document, dict) else None
    for method in methods if isinstance(methods, list) else []:
        if isinstance(method, dict) and method.get("id") == verification_method:
            try:
                return multikey.decode(str(method.get("publicKeyMultibase")))
            except (CryptoError, ValueError):
                raise WalletError(
                    "the issuer's DID document holds a malformed key", unknown
                ) from None
    raise WalletError("the issuer's DID document does not list the key that signed", unknown)


def _write_private(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_holder(directory: Path) -> str:
    """The holder DID that ``directory/wallet.json`` names (unauthenticated, like a label)."""
    meta = directory / "wallet.json"
    try:
        document = json.loads(meta.read_bytes()[:4096])
    except FileNotFoundError:
        raise WalletError(
            f"no wallet in {directory}; create one with `tongban wallet create`"
        ) from None
    except (OSError, ValueError):
        raise WalletError(f"damaged wallet file {meta}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise WalletError(f"{meta} is not a {FORMAT} wallet")
    return str(document.get("holder"))


class Wallet:
    """An unlocked wallet: the holder's keys (``WalletKeys``) and the sealed credential store."""

    def __init__(self, directory: Path, keys: WalletKeys) -> None:
        """Use ``open``, ``with_keys`` or ``create``."""
        self.directory = directory
        self.keys = keys

    @property
    def did(self) -> str:
        """The holder's ``did:key``."""
        return self.keys.did

    @property
    def _credentials_dir(self) -> Path:
        return self.directory / "credentials"

    @staticmethod
    def _meta_path(directory: Path) -> Path:
        return directory / "wallet.json"

    @classmethod
    def create(
        cls, directory: Path, passphrase: str, *, kdf: ScryptParams = DEFAULT_SCRYPT
    ) -> Wallet:
        """A new wallet with a fresh holder key in ``directory`` (refused if one is there).

        Pass cheaper ``kdf`` parameters only in tests.
        """
        meta = cls._meta_path(directory)
        if meta.exists():
            raise WalletError(f"a wallet already exists in {directory}")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / "credentials").mkdir(mode=0o700, exist_ok=True)
        keys = LocalKeys.create(directory, passphrase, kdf=kdf)
        document = {"format": FORMAT, "holder": keys.did}
        _write_private(meta, (json.dumps(document) + "\n").encode("ascii"))
        return cls(directory, keys)

    @classmethod
    def open(cls, directory: Path, passphrase: str) -> Wallet:
        """Unlock the wallet in ``directory`` with ``passphrase`` (one scrypt run)."""
        read_holder(directory)
        return cls.with_keys(directory, LocalKeys.unlock(directory, passphrase))

    @classmethod
    def with_keys(cls, directory: Path, keys: WalletKeys) -> Wallet:
        """The wallet in ``directory`` served by ``keys``, which must be its holder's."""
        if read_holder(directory) != keys.did:
            raise WalletError(
                f"damaged wallet: {cls._meta_path(directory)} names another holder than its key"
            )
        return cls(directory, keys)

    def _path(self, digest: str) -> Path:
        return self._credentials_dir / f"{digest}.sealed"

    def _save(self, stored: StoredCredential) -> None:
        entry: dict[str, Any] = {"credential": stored.credential, "receivedAt": stored.received_at}
        if stored.status is not None:
            entry["status"] = stored.status.to_json()
        body = json.dumps(
            entry,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        sealed = self.keys.seal(stored.digest, body)
        self._credentials_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(self._path(stored.digest), sealed)

    def _load(self, digest: str) -> StoredCredential:
        path = self._path(digest)
        try:
            with path.open("rb") as handle:
                sealed = handle.read(_MAX_SEALED + 1)
        except FileNotFoundError:
            raise WalletError(f"no credential {digest} in the wallet") from None
        try:
            body = self.keys.open(digest, sealed)
            document = json.loads(body)
            status = document.get("status")
            return StoredCredential(
                digest,
                document["credential"],
                str(document["receivedAt"]),
                None if status is None else KnownStatus.from_json(status),
            )
        except (SealedEntryError, ValueError, KeyError, TypeError):
            raise WalletError(f"damaged wallet entry {path.name}") from None

    def digests(self) -> list[str]:
        """The digests of the stored credentials, sorted."""
        if not self._credentials_dir.is_dir():
            return []
        names = (p.name.removesuffix(".sealed") for p in self._credentials_dir.glob("*.sealed"))
        return sorted(d for d in names if _DIGEST.fullmatch(d))

    def credentials(self) -> list[StoredCredential]:
        """Every stored credential, oldest received first."""
        stored = [self._load(d) for d in self.digests()]
        return sorted(stored, key=lambda s: (s.received_at, s.digest))

    def get(self, reference: str) -> StoredCredential:
        """The credential whose digest is ``reference`` or starts with it (8+ hex characters)."""
        if not _PREFIX.fullmatch(reference):
            raise WalletError("a credential is named by its digest (8 to 64 lowercase hex)")
        matches = [d for d in self.digests() if d.startswith(reference)]
        if not matches:
            raise WalletError(f"no credential {reference} in the wallet")
        if len(matches) > 1:
            raise WalletError(f"{reference} names {len(matches)} credentials: give more of it")
        return self._load(matches[0])

    def receive(
        self,
        document: Any,
        *,
        issuer_public_key: Sm2PublicKey | None = None,
        expected_digest: str | None = None,
    ) -> Received:
        """Store a credential issued to this wallet's holder (``check_credential`` first).

        ``expected_digest``: the digest the issuer announced with it, if any. A credential
        already stored is replaced only by the same one with its anchor proof.
        """
        digest = check_credential(document, self.did, issuer_public_key=issuer_public_key)
        hex_digest = digest.hex()
        if expected_digest is not None and expected_digest != hex_digest:
            raise _reject("the credential's digest is not the one announced with it")
        incoming = StoredCredential(hex_digest, dict(document), format_ms(now_ms()))
        if self._path(hex_digest).exists():
            current = self._load(hex_digest)
            if current.anchored or not incoming.anchored:
                return Received(current, new=False, updated=False)
            incoming = StoredCredential(
                hex_digest, incoming.credential, current.received_at, current.status
            )
            self._save(incoming)
            return Received(incoming, new=False, updated=True)
        self._save(incoming)
        return Received(incoming, new=True, updated=False)

    def attach_anchor_proof(self, digest: str, proof: Mapping[str, Any]) -> StoredCredential:
        """Add the anchor proof of stored credential ``digest`` (checked first) and save it."""
        from credentials.credential import with_anchor_proof  # see the note at the imports

        stored = self._load(digest)
        check_anchor_proof(bytes.fromhex(digest), stored.issuer, proof)
        updated = StoredCredential(
            digest, with_anchor_proof(stored.credential, proof), stored.received_at, stored.status
        )
        self._save(updated)
        return updated

    def record_status(self, digest: str, status: KnownStatus) -> StoredCredential:
        """Keep what the issuer reported of stored credential ``digest``."""
        stored = self._load(digest)
        updated = StoredCredential(digest, stored.credential, stored.received_at, status)
        self._save(updated)
        return updated

    def present(
        self,
        selections: Sequence[tuple[str, Sequence[str]]],
        *,
        challenge: str,
        domain: str,
        force: bool = False,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """A presentation of ``(digest, claims to disclose)`` pairs over the verifier's challenge.

        Refused for a credential without its anchor proof (no verifier could accept it),
        and, unless ``force``, for one its issuer last reported revoked or suspended.
        ``purpose``: bind the presentation to this purpose code (docs/purposes.md).
        """
        chosen: list[Selection] = []
        for reference, claims in selections:
            stored = self.get(reference)
            if not stored.anchored:
                raise WalletError(
                    f"credential {stored.digest[:12]} has no anchor proof yet; "
                    "run `tongban wallet fetch-proofs` once its batch is anchored"
                )
            if stored.status is not None and not stored.status.usable and not force:
                raise WalletError(
                    f"credential {stored.digest[:12]} is {stored.status.describe()} as of "
                    f"{stored.status.checked_at}; a verifier will refuse it "
                    "(--force presents it anyway)",
                    Reason.REVOKED if stored.status.state == "revoked" else Reason.SUSPENDED,
                )
            chosen.append((stored.credential, claims))
        return self.keys.present(chosen, challenge=challenge, domain=domain, purpose=purpose)

    def sign_access_request(self, log_id: int, challenge: str) -> str:
        """The signature (hex ``r || s``) of the citizen-view request to log ``log_id``."""
        return self.keys.sign_access_request(log_id, challenge)


@dataclass(frozen=True)
class ProofFetch:
    """What ``fetch_anchor_proofs`` found for one credential: anchored, pending or unknown."""

    digest: str
    state: str


def fetch_anchor_proofs(wallet: Wallet, api: RemoteApi) -> list[ProofFetch]:
    """Ask ``api`` for the anchor proof of every stored credential that lacks one.

    ``pending``: its batch is not final yet (409 ``anchor-pending``); ``unknown``: that
    API did not issue it (404); ``anchored``: the proof was checked and attached.
    """
    outcomes = []
    for stored in wallet.credentials():
        if stored.anchored:
            continue
        try:
            proof = api.get(f"/credentials/{stored.digest}/anchor-proof")
        except RemoteApiError as exc:
            if exc.status == 409:
                outcomes.append(ProofFetch(stored.digest, "pending"))
                continue
            if exc.status == 404:
                outcomes.append(ProofFetch(stored.digest, "unknown"))
                continue
            raise
        if not isinstance(proof, dict):
            raise WalletError("the API answered with something that is not an anchor proof")
        wallet.attach_anchor_proof(stored.digest, proof)
        outcomes.append(ProofFetch(stored.digest, "anchored"))
    return outcomes
