"""Internal: the production SM2 backend, OpenSSL 3 libcrypto bound with ctypes.

OpenSSL signs SM2 with its constant-time Montgomery ladder and a nonce from its own DRBG.
Keys reach OpenSSL as DER this package encodes (PKCS#8 / SubjectPublicKeyInfo), which doubles
as a check that the encodings are ones OpenSSL accepts. Each key object caches its decoded
``EVP_PKEY`` so repeated signing does not re-parse it; OpenSSL 3 treats a shared ``EVP_PKEY``
as read-only, and each call gets its own ``EVP_PKEY_CTX``, so calls are thread safe. ctypes
releases the GIL around every foreign call, so threads sign in parallel.

The library is located at run time: ``$TONGBAN_LIBCRYPTO`` if set, otherwise the system's
``libcrypto`` (``ctypes.util.find_library``), otherwise ``libcrypto.so.3``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ledger.crypto._asn1 import (
    DerError,
    decode_signature,
    encode_pkcs8,
    encode_signature,
    encode_spki,
)
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._curve import SM2P256V1, decode_point
from ledger.crypto.errors import BackendUnavailable, CryptoError, InvalidKey

if TYPE_CHECKING:
    from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

__all__ = ["OpenSSLBackend", "load_backend"]

ENV_VAR = "TONGBAN_LIBCRYPTO"
_MIN_VERSION = 0x30000000
_MAX_DER_SIGNATURE = 72

_P = ctypes.c_void_p
_PP = ctypes.POINTER(ctypes.c_char_p)
_SIZE_P = ctypes.POINTER(ctypes.c_size_t)
_INT = ctypes.c_int

# name: (restype, argtypes); declared once, at load.
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "OpenSSL_version_num": (ctypes.c_ulong, []),
    "OpenSSL_version": (ctypes.c_char_p, [_INT]),
    "ERR_clear_error": (None, []),
    "EVP_SIGNATURE_fetch": (_P, [_P, ctypes.c_char_p, ctypes.c_char_p]),
    "EVP_SIGNATURE_free": (None, [_P]),
    "d2i_AutoPrivateKey": (_P, [_P, _PP, ctypes.c_long]),
    "d2i_PUBKEY": (_P, [_P, _PP, ctypes.c_long]),
    "EVP_PKEY_free": (None, [_P]),
    "EVP_PKEY_is_a": (_INT, [_P, ctypes.c_char_p]),
    "EVP_PKEY_get_octet_string_param": (
        _INT,
        [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, _SIZE_P],
    ),
    "EVP_PKEY_CTX_new_from_pkey": (_P, [_P, _P, ctypes.c_char_p]),
    "EVP_PKEY_CTX_free": (None, [_P]),
    "EVP_PKEY_sign_init": (_INT, [_P]),
    "EVP_PKEY_sign": (_INT, [_P, ctypes.c_char_p, _SIZE_P, ctypes.c_char_p, ctypes.c_size_t]),
    "EVP_PKEY_verify_init": (_INT, [_P]),
    "EVP_PKEY_verify": (
        _INT,
        [_P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t],
    ),
}

# GB/T 32918.5 Annex A: public key, e and (r, s); verified once at load as a self-test.
_KAT_PUBLIC = bytes.fromhex(
    "0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
_KAT_DIGEST = bytes.fromhex("f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640")
_KAT_SIGNATURE = bytes.fromhex(
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)


class _Lib:
    """The bound libcrypto functions (attribute access returns a ctypes function)."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.path = cdll._name
        for name, (restype, argtypes) in _PROTOTYPES.items():
            try:
                function = getattr(cdll, name)
            except AttributeError as exc:
                raise BackendUnavailable(
                    f"{self.path} lacks {name}: OpenSSL 3.0 or later is required"
                ) from exc
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, name, function)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        raise AttributeError(name)  # only reached for names not bound above


class _PKey:
    """Owns one ``EVP_PKEY *`` and frees it when garbage collected."""

    __slots__ = ("_free", "ptr")

    def __init__(self, ptr: int, free: Callable[[int], None]) -> None:
        self.ptr = ptr
        self._free = free

    def __del__(self) -> None:
        self._free(self.ptr)


def _open_library(path: str | None) -> ctypes.CDLL:
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    candidates = [path] if path else [ctypes.util.find_library("crypto"), "libcrypto.so.3"]
    errors: list[str] = []
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
    hint = f"set ${ENV_VAR} to its path" if not path else f"check ${ENV_VAR} / the path given"
    raise BackendUnavailable(
        "OpenSSL 3 libcrypto not found ("
        + ("; ".join(errors) or "no candidate")
        + f"); install libssl3 or {hint}"
    )


class OpenSSLBackend(Sm2Backend):
    """SM2 through OpenSSL 3 ``EVP_PKEY_sign`` / ``EVP_PKEY_verify`` with the SM2 provider."""

    name = "openssl"
    can_sign = True
    version: str
    """OpenSSL's version string, e.g. ``"OpenSSL 3.0.19 27 Jan 2026"``."""

    def __init__(self, library_path: str | None = None) -> None:
        """Load and self-test libcrypto; raise :class:`BackendUnavailable` on any problem."""
        lib = _Lib(_open_library(library_path))
        version = int(lib.OpenSSL_version_num())
        if version < _MIN_VERSION:
            raise BackendUnavailable(
                f"{lib.path} is {lib.OpenSSL_version(0)!r}; OpenSSL 3.0 or later is required"
            )
        self._lib = lib
        self.version = bytes(lib.OpenSSL_version(0)).decode("ascii", "replace")
        signature = lib.EVP_SIGNATURE_fetch(None, b"SM2", None)
        if not signature:
            lib.ERR_clear_error()
            raise BackendUnavailable(f"{self.version} ({lib.path}) has no SM2 signature support")
        lib.EVP_SIGNATURE_free(signature)
        try:
            pkey = self._load_public(_KAT_PUBLIC)
            ok = self._verify_with(pkey, _KAT_DIGEST, _KAT_SIGNATURE)
        except CryptoError as exc:
            raise BackendUnavailable(f"{self.version}: SM2 self-test failed ({exc})") from exc
        if not ok:
            raise BackendUnavailable(f"{self.version}: SM2 self-test signature did not verify")

    def _fail(self, what: str) -> CryptoError:
        self._lib.ERR_clear_error()
        return CryptoError(f"OpenSSL: {what} failed")

    def _decode(self, function: Callable[..., Any], der: bytes) -> _PKey:
        cursor = ctypes.c_char_p(der)
        ptr = function(None, ctypes.byref(cursor), len(der))
        if not ptr:
            self._lib.ERR_clear_error()
            raise InvalidKey("OpenSSL rejected the SM2 key")
        handle = _PKey(ptr, self._lib.EVP_PKEY_free)
        if self._lib.EVP_PKEY_is_a(ptr, b"SM2") != 1:
            raise InvalidKey("OpenSSL did not load the key as an SM2 key")
        return handle

    def _load_public(self, point: bytes) -> _PKey:
        return self._decode(self._lib.d2i_PUBKEY, encode_spki(point))

    def _private_handle(self, key: Sm2PrivateKey) -> _PKey:
        handle = key._cache.get(self)
        if handle is None:
            der = encode_pkcs8(key.scalar.to_bytes(32, "big"), key.public_key.uncompressed())
            handle = key._cache.setdefault(self, self._decode(self._lib.d2i_AutoPrivateKey, der))
        if not isinstance(handle, _PKey):
            raise TypeError("corrupt key handle cache")
        return handle

    def _public_handle(self, key: Sm2PublicKey) -> _PKey:
        handle = key._cache.get(self)
        if handle is None:
            handle = key._cache.setdefault(self, self._load_public(key.uncompressed()))
        if not isinstance(handle, _PKey):
            raise TypeError("corrupt key handle cache")
        return handle

    def derive_public(self, scalar: int) -> tuple[int, int]:
        """Return ``scalar * G`` computed by OpenSSL (constant-time ladder)."""
        if not 1 <= scalar <= SM2P256V1.n - 2:
            raise InvalidKey("private scalar out of range")
        # A PKCS#8 key without its public half makes OpenSSL compute it on load.
        handle = self._decode(
            self._lib.d2i_AutoPrivateKey, encode_pkcs8(scalar.to_bytes(32, "big"), None)
        )
        buffer = ctypes.create_string_buffer(65)
        size = ctypes.c_size_t(0)
        ok = self._lib.EVP_PKEY_get_octet_string_param(
            handle.ptr, b"encoded-pub-key", buffer, 65, ctypes.byref(size)
        )
        if ok != 1:
            raise self._fail("reading the public key")
        return decode_point(buffer.raw[: size.value])

    def sign_digest(self, key: Sm2PrivateKey, digest: bytes) -> bytes:
        """Hazmat: sign ``e`` with OpenSSL; the nonce comes from OpenSSL's DRBG."""
        if len(digest) != 32:
            raise ValueError("e must be 32 bytes")
        lib = self._lib
        handle = self._private_handle(key)
        ctx = lib.EVP_PKEY_CTX_new_from_pkey(None, handle.ptr, None)
        if not ctx:
            raise self._fail("EVP_PKEY_CTX_new_from_pkey")
        try:
            size = ctypes.c_size_t(_MAX_DER_SIGNATURE)
            buffer = ctypes.create_string_buffer(_MAX_DER_SIGNATURE)
            if lib.EVP_PKEY_sign_init(ctx) != 1:
                raise self._fail("EVP_PKEY_sign_init")
            if lib.EVP_PKEY_sign(ctx, buffer, ctypes.byref(size), digest, 32) != 1:
                raise self._fail("EVP_PKEY_sign")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        try:
            r, s = decode_signature(buffer.raw[: size.value])
        except (DerError, CryptoError) as exc:
            raise CryptoError("OpenSSL returned a malformed signature") from exc
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def _verify_with(self, handle: _PKey, digest: bytes, signature: bytes) -> bool:
        if len(signature) != 64 or len(digest) != 32:
            return False
        der = encode_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        lib = self._lib
        ctx = lib.EVP_PKEY_CTX_new_from_pkey(None, handle.ptr, None)
        if not ctx:
            raise self._fail("EVP_PKEY_CTX_new_from_pkey")
        try:
            if lib.EVP_PKEY_verify_init(ctx) != 1:
                raise self._fail("EVP_PKEY_verify_init")
            result = lib.EVP_PKEY_verify(ctx, der, len(der), digest, 32)
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        if result != 1:
            # A bad signature leaves entries on this thread's error queue; clear them so they
            # do not surface later in an unrelated hashlib or ssl call.
            lib.ERR_clear_error()
        return bool(result == 1)

    def verify_digest(self, key: Sm2PublicKey, digest: bytes, signature: bytes) -> bool:
        """Hazmat: verify raw ``r || s`` over ``e`` with OpenSSL."""
        return self._verify_with(self._public_handle(key), digest, signature)


_lock = threading.Lock()
_default: OpenSSLBackend | None = None


def load_backend() -> OpenSSLBackend:
    """Return the process-wide OpenSSL backend, loading it on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = OpenSSLBackend()
    return _default
