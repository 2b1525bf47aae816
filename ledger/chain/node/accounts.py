"""EVM accounts that sign transactions locally (eth-account with coincurve).

Keys live in eth-account's encrypted JSON keystore (scrypt KDF); the file is
written atomically with mode 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from ledger.chain.errors import ChainConfigError


def create_account() -> LocalAccount:
    """A new account whose key comes from the OS CSPRNG."""
    return cast(LocalAccount, Account.from_key(os.urandom(32)))


def save_keystore(account: LocalAccount, path: Path, passphrase: str) -> None:
    """Write ``account`` encrypted under ``passphrase`` to ``path`` (atomic, mode 0600)."""
    document = Account.encrypt(account.key, passphrase, kdf="scrypt")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keystore-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_keystore(path: Path, passphrase: str) -> LocalAccount:
    """Decrypt the account in ``path``; a wrong passphrase is a ``ChainConfigError``."""
    try:
        document = json.loads(path.read_text("utf-8"))
        key = Account.decrypt(document, passphrase)
    except FileNotFoundError:
        raise ChainConfigError(f"EVM keystore {path} does not exist") from None
    except (ValueError, KeyError, json.JSONDecodeError):
        raise ChainConfigError(
            f"cannot decrypt EVM keystore {path}: wrong TONGBAN_EVM_KEY_PASSPHRASE "
            "or a damaged file"
        ) from None
    return cast(LocalAccount, Account.from_key(key))


def keystore_address(path: Path) -> str | None:
    """The checksummed address a keystore file names, read without decrypting it.

    None if the file does not exist or names no address. The address field is not
    authenticated: whoever signs must check it against the decrypted account.
    """
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        raise ChainConfigError(f"EVM keystore {path} is not a readable keystore") from None
    address = document.get("address") if isinstance(document, dict) else None
    if not isinstance(address, str):
        return None
    try:
        return str(to_checksum_address("0x" + address.removeprefix("0x")))
    except ValueError:
        raise ChainConfigError(f"EVM keystore {path} names no valid address") from None


def load_or_create_keystore(path: Path, passphrase: str) -> tuple[LocalAccount, bool]:
    """Load the account in ``path``, creating it first if the file does not exist.

    Returns the account and whether it was just created.
    """
    if path.exists():
        return load_keystore(path, passphrase), False
    account = create_account()
    save_keystore(account, path, passphrase)
    return account, True
