"""The province's administration of its own issuer: signing keys and writer accounts.

The province's EVM account is its issuer's admin (and a writer) in our
deployments, so every call here is an unpinned ``registry_admin`` operation
(``api.province.operations``) that the writer's own outbox sends. Each call is
simulated from that account first, so what the registry would refuse
(not the admin, a backdated key, a key already retired...) is refused at
once with the contract's error name.

- **Rotate**: a new signing key is generated in the keystore (id given, or
  the next ``key-<n>``) and ``addKey`` is enqueued. Once that is final and
  indexed, the key ring (``api.province.keyring``) signs with the new key in every
  process: the newest valid key wins.
- **Retire** (``retireKey``, from the block's time) and **mark compromised**
  (``markKeyCompromised`` from a time, past or future; only ever earlier).
- **Respond to a compromise**: once the index shows the key compromised and
  another key signs, the credentials the compromise voids are revoked in bulk
  and re-issued under the active key (``CredentialIssuer.respond_to_compromise``).
- **Writers**: appoint (``addWriter``) and retire (``retireWriter``) accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import ProblemCode
from api.province.audited import AdminInputError, AdminNotFoundError, AdminRefusedError
from api.province.keyring import SigningKeyRing
from api.province.keys import ProvinceKeys
from api.province.operations import (
    REGISTRY_ADMIN_KIND,
    ChainOperation,
    OperationRefusedError,
    simulate,
    submit,
)
from credentials.issuance import CompromiseReport, CredentialIssuer
from ledger.chain.contracts.errors import IssuerRegistryUnknownKeyError
from ledger.chain.contracts.registry import (
    IssuerInfo,
    IssuerRegistry,
    KeyRecord,
    WriterRecord,
    encode_key_id,
)
from ledger.chain.index import ChainIndex
from ledger.chain.node.client import checksum
from ledger.crypto.errors import KeystoreError
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database

__all__ = [
    "CompromiseResponse",
    "IssuerAdmin",
    "IssuerOverview",
    "KeyIdTakenError",
    "KeyNotCompromisedError",
    "KeyStillActiveError",
    "KeyView",
    "NoActiveKeyError",
    "UnknownKeyError",
    "UnknownWriterError",
]

KEY_EXISTS = "IssuerRegistryKeyExists"
KEY_ALREADY_RETIRED = "IssuerRegistryKeyAlreadyRetired"
COMPROMISE_NOT_EARLIER = "IssuerRegistryCompromiseNotEarlier"
WRITER_TAKEN = "IssuerRegistryWriterTaken"
NOT_WRITER = "IssuerRegistryNotWriter"

_NUMBERED_KEY = re.compile(r"key-([0-9]{1,6})")
_ACCOUNT = re.compile(r"0x[0-9a-fA-F]{40}")


class KeyIdTakenError(AdminRefusedError):
    """The key id is already in the keystore or in the registry (key ids are never reused)."""

    code = ProblemCode.KEY_ID_TAKEN


class KeyNotCompromisedError(AdminRefusedError):
    """The chain index does not show the key compromised (the mark may still be on its way)."""

    code = ProblemCode.KEY_NOT_COMPROMISED


class KeyStillActiveError(AdminRefusedError):
    """The compromised key is still the one that signs: rotate to a new key first."""

    code = ProblemCode.KEY_STILL_ACTIVE


class NoActiveKeyError(AdminRefusedError):
    """No signing key of this province is valid now: rotate to a new key first."""

    code = ProblemCode.NO_SIGNING_KEY


class UnknownKeyError(AdminNotFoundError):
    """The issuer has no key with this id on chain."""


class UnknownWriterError(AdminNotFoundError):
    """The account is not a current writer of the issuer."""


@dataclass(frozen=True)
class KeyView:
    """One registered key, whether this province holds its private half, and its state now."""

    record: KeyRecord
    held: bool
    valid_now: bool
    active: bool


@dataclass(frozen=True)
class CompromiseResponse:
    """What responding to a compromise did, and the key the replacements are signed with."""

    report: CompromiseReport
    new_key_id: str


@dataclass(frozen=True)
class IssuerOverview:
    """The issuer as the registry and the chain index show it, from this province's side."""

    info: IssuerInfo
    writers: list[WriterRecord]
    keys: list[KeyView]
    active_key_id: str | None
    operator_account: str | None
    index_height: int
    chain_time: int


def check_account(account: str, field: str) -> str:
    """``account`` checksummed; ``AdminInputError`` unless it is ``0x`` + 40 hex digits."""
    if not _ACCOUNT.fullmatch(account):
        raise AdminInputError(field, "must be an EVM address, 0x and 40 hex digits")
    return str(checksum(account))


class IssuerAdmin:
    """Administration of one issuer by its admin account (any process; sends nothing)."""

    def __init__(
        self,
        db: Database,
        registry: IssuerRegistry,
        index: ChainIndex,
        keys: ProvinceKeys,
        keyring: SigningKeyRing,
        issuer: CredentialIssuer,
        *,
        operator_account: str | None = None,
    ) -> None:
        """Administer ``keyring.issuer_id`` through ``db``'s outbox.

        ``operator_account`` is the account the writer sends unpinned items from
        (None: unknown, calls are simulated from the registry's admin instead).
        """
        self.db = db
        self.registry = registry
        self.index = index
        self.keys = keys
        self.keyring = keyring
        self.issuer = issuer
        self.issuer_id = keyring.issuer_id
        self.operator_account = operator_account

    # ------------------------------------------------------------------ reads

    def _chain_time(self) -> int:
        return int(self.registry.client.get_block("latest")["timestamp"], 16)

    def overview(self) -> IssuerOverview:
        """The issuer's record and writers (registry), keys with history (index), active key."""
        info = self.registry.issuer(self.issuer_id)
        writers = self.registry.writers(self.issuer_id)
        now = self._chain_time()
        active = self.keyring.active_key_id(fresh=True)
        held = set(self.keys.signing_key_ids())
        with self.index.view() as view:
            records = view.keys(self.issuer_id)
            height = view.height
        keys = [
            KeyView(r, r.key_id in held, r.is_valid_at(now), r.key_id == active) for r in records
        ]
        return IssuerOverview(info, writers, keys, active, self.operator_account, height, now)

    # --------------------------------------------------------------- helpers

    def _sender(self) -> str:
        if self.operator_account is not None:
            return self.operator_account
        return self.registry.issuer(self.issuer_id).admin

    def _submit(self, function: str, what: str, calldata: bytes, done: tuple[str, ...]) -> int:
        operation = ChainOperation(
            REGISTRY_ADMIN_KIND, f"{self.issuer_id}:{function}:{what}", function, calldata, done
        )
        return submit(self.db, self.registry, operation, sender=self._sender(), pinned=False)

    def _encode(self, function: str, *args: object) -> bytes:
        return self.registry.contract.encode(function, self.issuer_id, *args)

    def _registered(self, key_id: str) -> KeyRecord:
        try:
            return self.registry.key(self.issuer_id, key_id)
        except IssuerRegistryUnknownKeyError:
            raise UnknownKeyError("this issuer has no key with that id on chain") from None

    @staticmethod
    def _key_id(key_id: str, field: str) -> bytes:
        try:
            return encode_key_id(key_id)
        except ValueError:
            raise AdminInputError(
                field, "a key id is 1-32 characters of A-Z a-z 0-9 . _ -"
            ) from None

    def next_key_id(self) -> str:
        """The next free ``key-<n>``: one above every numbered id in the keystore and registry."""
        with self.index.view() as view:
            ids = {r.key_id for r in view.keys(self.issuer_id)}
        ids |= set(self.keys.signing_key_ids())
        numbers = [int(m.group(1)) for m in map(_NUMBERED_KEY.fullmatch, ids) if m]
        return f"key-{max(numbers, default=0) + 1}"

    # ------------------------------------------------------------------ keys

    def rotate_key(self, key_id: str | None = None, valid_from: int | None = None) -> int:
        """Create signing key ``key_id`` (default: the next ``key-<n>``) and enqueue ``addKey``.

        ``valid_from`` None means "from the block that adds it". Returns the operation id.
        Refused (nothing created) if the id is taken or the registry would refuse the key.
        """
        chosen = key_id if key_id is not None else self.next_key_id()
        raw_id = self._key_id(chosen, "/keyId")
        if self.keys.has_signing_key(chosen):
            raise KeyIdTakenError("the keystore already holds a key with that id")
        # Simulate with a throw-away point first, so a refusal leaves no key in the keystore.
        probe = Sm2PrivateKey.generate().public_key.compressed()
        try:
            simulate(
                self.registry.client,
                self._sender(),
                self.registry.address,
                self._encode("addKey", raw_id, probe, valid_from or 0),
            )
        except OperationRefusedError as exc:
            if exc.error_name == KEY_EXISTS:
                raise KeyIdTakenError("the registry already has a key with that id") from None
            raise
        try:
            public = self.keys.create_signing_key(chosen)
        except KeystoreError:
            raise KeyIdTakenError("the keystore already holds a key with that id") from None
        calldata = self._encode("addKey", raw_id, public.compressed(), valid_from or 0)
        return self._submit("addKey", chosen, calldata, (KEY_EXISTS,))

    def retire_key(self, key_id: str) -> int:
        """Enqueue ``retireKey`` (valid until the block that retires it)."""
        raw_id = self._key_id(key_id, "keyId")
        self._registered(key_id)
        return self._submit(
            "retireKey", key_id, self._encode("retireKey", raw_id), (KEY_ALREADY_RETIRED,)
        )

    def mark_compromised(self, key_id: str, compromised_from: int) -> int:
        """Enqueue ``markKeyCompromised`` from ``compromised_from`` (Unix seconds, block time)."""
        raw_id = self._key_id(key_id, "keyId")
        self._registered(key_id)
        calldata = self._encode("markKeyCompromised", raw_id, compromised_from)
        return self._submit(
            "markKeyCompromised",
            f"{key_id}:{compromised_from}",
            calldata,
            (COMPROMISE_NOT_EARLIER,),
        )

    def respond_to_compromise(self, key_id: str) -> CompromiseResponse:
        """Revoke and re-issue, under the active key, what the compromise of ``key_id`` voids.

        The compromise time is the one the chain index holds. Refused while the index
        does not show the key compromised, or while it is still the active key;
        ``NoActiveKeyError`` when no key is active at all. Running it again re-issues
        nothing twice.
        """
        self._key_id(key_id, "keyId")
        with self.index.view() as view:
            record = view.key(self.issuer_id, key_id)
        if record is None:
            raise UnknownKeyError("the chain index has no key with that id for this issuer")
        if record.compromised_from is None:
            raise KeyNotCompromisedError(
                "the chain index does not show the key compromised; mark it compromised and "
                "wait until that operation is final"
            )
        active = self.keyring.active_key_id(fresh=True)
        if active == key_id:
            raise KeyStillActiveError(
                "the compromised key still signs (compromised from a later time?); rotate to "
                "a new key and wait until it is final first"
            )
        if active is None:
            raise NoActiveKeyError(
                "no signing key of this province is valid now; rotate to a new key and wait "
                "until it is final first"
            )
        signer = self.keys.credential_signer(self.keyring.issuer_did, active)
        report = self.issuer.respond_to_compromise(key_id, record.compromised_from, signer)
        return CompromiseResponse(report, active)

    # --------------------------------------------------------------- writers

    def add_writer(self, account: str) -> int:
        """Enqueue ``addWriter(account)``; returns the operation id."""
        checked = check_account(account, "/account")
        count = self.registry.writer_count(self.issuer_id)
        calldata = self._encode("addWriter", checked)
        return self._submit("addWriter", f"{checked}:{count}", calldata, (WRITER_TAKEN,))

    def retire_writer(self, account: str) -> int:
        """Enqueue ``retireWriter(account)``; ``UnknownWriterError`` unless it is a writer now."""
        checked = check_account(account, "account")
        current, _active = self.registry.writer_status(self.issuer_id, checked)
        if not current:
            raise UnknownWriterError("the account is not a current writer of this issuer")
        count = self.registry.writer_count(self.issuer_id)
        calldata = self._encode("retireWriter", checked)
        return self._submit("retireWriter", f"{checked}:{count}", calldata, (NOT_WRITER,))
