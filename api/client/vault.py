"""The wallet's secrets and the only operations that use them.

A wallet has two secrets: the holder's SM2 private key (in ``keys/``, a
``ledger.crypto.keystore`` file under the passphrase) and the storage key that
seals the credentials, ``HMAC-SM3(holder private scalar,
"tongban-wallet/v1/storage")[:16]``. ``Wallet`` never touches either: it asks a
``WalletKeys`` to seal or open an entry, sign a presentation or sign an access
request. Two implementations:

- ``LocalKeys``: unlocked in this process from the passphrase (one scrypt run);
- ``api.client.agent_client.AgentKeys``: the same four operations asked of the
  wallet agent (``tongban wallet unlock``), which holds a ``LocalKeys`` in its
  memory and hands out neither secret.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.client.errors import SealedEntryError, WalletError
from credentials.errors import CredentialError
from ledger.audit.citizen_request import request_payload
from ledger.crypto import sm4
from ledger.crypto.errors import CryptoError, KeystoreError
from ledger.crypto.keystore import DEFAULT_SCRYPT, Keystore, ScryptParams
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import hmac_sm3

if TYPE_CHECKING:
    from credentials.holder import Holder

__all__ = ["KEY_ID", "LocalKeys", "Selection", "WalletKeys", "entry_aad"]

KEY_ID = "holder"
"""The holder key's id in the wallet's keystore."""

_STORAGE_LABEL = b"tongban-wallet/v1/storage"
_AAD_PREFIX = b"tongban-wallet/v1\n"

Selection = tuple[Mapping[str, Any], Sequence[str]]
"""A credential to present and the names of the claims to disclose from it."""


def entry_aad(digest: str) -> bytes:
    """The associated data of the sealed entry of credential ``digest``."""
    return _AAD_PREFIX + digest.encode("ascii")


class WalletKeys(ABC):
    """What the wallet's secrets do for it; the secrets themselves stay inside."""

    @property
    @abstractmethod
    def did(self) -> str:
        """The holder's ``did:key``."""

    @abstractmethod
    def seal(self, digest: str, body: bytes) -> bytes:
        """``body`` sealed (SM4-GCM) as the entry of credential ``digest``."""

    @abstractmethod
    def open(self, digest: str, sealed: bytes) -> bytes:
        """The body of the sealed entry of ``digest``; ``SealedEntryError`` if it does not open."""

    @abstractmethod
    def present(
        self,
        selections: Sequence[Selection],
        *,
        challenge: str,
        domain: str,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """A presentation of the selections signed by the holder (``Holder.present``).

        ``purpose``: bind it to this purpose code (``termsOfUse``, docs/purposes.md).
        """

    @abstractmethod
    def sign_access_request(self, log_id: int, challenge: str) -> str:
        """The signature (hex ``r || s``) of the citizen-view request to log ``log_id``."""

    def close(self) -> None:  # noqa: B027 (a no-op unless the keys hold something)
        """Forget the secrets (the keys are unusable afterwards)."""


class LocalKeys(WalletKeys):
    """The holder key and storage key in this process's memory."""

    def __init__(self, private_key: Sm2PrivateKey) -> None:
        """Hold ``private_key`` and the storage key derived from it."""
        # Imported here: credentials.holder pulls in the chain client (web3) through
        # credentials.did, which a command served by the wallet agent never needs.
        from credentials.holder import Holder

        self._holder: Holder | None = Holder(private_key)
        self._did = self._holder.did
        # A bytearray, so ``close`` can overwrite it in place.
        self._storage_key = bytearray(
            hmac_sm3(private_key.to_bytes(), _STORAGE_LABEL)[: sm4.KEY_SIZE]
        )

    @classmethod
    def unlock(cls, directory: Path, passphrase: str) -> LocalKeys:
        """The keys of the wallet in ``directory``, decrypted with ``passphrase`` (scrypt)."""
        try:
            return cls(Keystore(directory / "keys").load(KEY_ID, passphrase))
        except (KeystoreError, ValueError):
            raise WalletError(
                "cannot unlock the wallet: wrong passphrase or damaged key file"
            ) from None

    @classmethod
    def create(
        cls, directory: Path, passphrase: str, *, kdf: ScryptParams = DEFAULT_SCRYPT
    ) -> LocalKeys:
        """A fresh holder key, saved under ``passphrase`` in ``directory/keys``."""
        private_key = Sm2PrivateKey.generate()
        try:
            Keystore(directory / "keys").save(KEY_ID, private_key, passphrase, kdf=kdf)
        except (KeystoreError, ValueError) as exc:
            raise WalletError(f"cannot create the wallet's key: {exc}") from None
        return cls(private_key)

    def _unlocked(self) -> Holder:
        if self._holder is None:
            raise WalletError("the wallet's keys were closed")
        return self._holder

    @property
    def did(self) -> str:
        """The holder's ``did:key``."""
        return self._did

    def seal(self, digest: str, body: bytes) -> bytes:
        """``body`` sealed under the storage key, bound to ``digest``."""
        self._unlocked()
        return sm4.seal(bytes(self._storage_key), body, entry_aad(digest))

    def open(self, digest: str, sealed: bytes) -> bytes:
        """The body sealed for ``digest``; ``SealedEntryError`` if altered, moved or foreign."""
        self._unlocked()
        try:
            return sm4.open(bytes(self._storage_key), sealed, entry_aad(digest))
        except CryptoError:
            raise SealedEntryError(f"the entry of {digest} does not open") from None

    def present(
        self,
        selections: Sequence[Selection],
        *,
        challenge: str,
        domain: str,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """``Holder.present`` of the selections; a refused disclosure is a ``WalletError``."""
        try:
            return self._unlocked().present(
                selections, challenge=challenge, domain=domain, purpose=purpose
            )
        except CredentialError as exc:
            raise WalletError(str(exc)) from None

    def sign_access_request(self, log_id: int, challenge: str) -> str:
        """The holder's signature over the citizen-view request (``ledger.audit.citizen``)."""
        holder = self._unlocked()
        return holder.signer.sign(request_payload(log_id, self._did, challenge)).hex()

    def close(self) -> None:
        """Overwrite the storage key and drop the holder key.

        Python cannot overwrite the private scalar (an immutable int) in place; once
        unreferenced it is freed, and the process that held it exits soon after.
        """
        for index in range(len(self._storage_key)):
            self._storage_key[index] = 0
        self._holder = None
