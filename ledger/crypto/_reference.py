"""Internal: a plain pure-Python SM2 (GB/T 32918.2), the test oracle.

Written to be read against the standard, not to be fast or side-channel safe: Python integers
are not constant time, so this code must never sign in production. The backend object returned
by :func:`reference_backend` verifies only; signing needs the loudly named
:func:`insecure_reference_signing_backend`, which exists for tests and benchmarks.

Points are affine ``(x, y)`` tuples at the interface (``None`` is the point at infinity) and
Jacobian ``(X, Y, Z)`` inside, with x = X/Z^2 and y = Y/Z^3.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ledger.crypto._backend import Sm2Backend
from ledger.crypto._curve import SM2P256V1, Curve
from ledger.crypto.errors import CryptoError, InvalidKey
from ledger.crypto.sm3 import sm3

if TYPE_CHECKING:
    from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

Affine = tuple[int, int] | None
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


def _to_jacobian(point: Affine) -> _Jacobian:
    return _INFINITY if point is None else (point[0], point[1], 1)


def _to_affine(curve: Curve, point: _Jacobian) -> Affine:
    x, y, z = point
    if z == 0:
        return None
    z_inv = pow(z, -1, curve.p)
    z_inv2 = z_inv * z_inv % curve.p
    return x * z_inv2 % curve.p, y * z_inv2 * z_inv % curve.p


def _double(curve: Curve, point: _Jacobian) -> _Jacobian:
    x, y, z = point
    p = curve.p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    z3 = 2 * y * z % p
    return x3, y3, z3


def _add(curve: Curve, first: _Jacobian, second: _Jacobian) -> _Jacobian:
    x1, y1, z1 = first
    x2, y2, z2 = second
    p = curve.p
    if z1 == 0:
        return second
    if z2 == 0:
        return first
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    if u1 == u2:
        return _double(curve, first) if s1 == s2 else _INFINITY
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    x3 = (r * r - hhh - 2 * u1 * hh) % p
    y3 = (r * (u1 * hh - x3) - s1 * hhh) % p
    z3 = h * z1 * z2 % p
    return x3, y3, z3


def scalar_mult(curve: Curve, k: int, point: Affine) -> Affine:
    """Return ``k * point`` by left-to-right double-and-add (variable time)."""
    result = _INFINITY
    base = _to_jacobian(point)
    for bit in bin(k % curve.n)[2:]:
        result = _double(curve, result)
        if bit == "1":
            result = _add(curve, result, base)
    return _to_affine(curve, result)


def double_scalar_mult(curve: Curve, k1: int, k2: int, point: Affine) -> Affine:
    """Return ``k1 * G + k2 * point`` (Shamir's trick: one shared doubling chain)."""
    g = (curve.gx, curve.gy, 1)
    q = _to_jacobian(point)
    g_plus_q = _add(curve, g, q)
    k1, k2 = k1 % curve.n, k2 % curve.n
    result = _INFINITY
    for i in reversed(range(max(k1.bit_length(), k2.bit_length()))):
        result = _double(curve, result)
        b1, b2 = (k1 >> i) & 1, (k2 >> i) & 1
        if b1 and b2:
            result = _add(curve, result, g_plus_q)
        elif b1:
            result = _add(curve, result, g)
        elif b2:
            result = _add(curve, result, q)
    return _to_affine(curve, result)


def public_point(curve: Curve, d: int) -> tuple[int, int]:
    """Return the public point ``d * G`` for a private scalar d in [1, n-2]."""
    if not 1 <= d <= curve.n - 2:
        raise InvalidKey("private scalar out of range")
    point = scalar_mult(curve, d, (curve.gx, curve.gy))
    if point is None:
        raise InvalidKey("private scalar out of range")
    return point


def za(curve: Curve, user_id: bytes, public: tuple[int, int]) -> bytes:
    """Z_A = SM3(ENTL || ID || a || b || Gx || Gy || Px || Py) (GB/T 32918.2 s5.5).

    Any user ID is accepted here for the vector tests; the public API only uses the default.
    """
    bits = len(user_id) * 8
    if bits > 0xFFFF:
        raise ValueError("user ID longer than 8191 bytes")
    size = curve.field_size
    parts = [curve.a, curve.b, curve.gx, curve.gy, public[0], public[1]]
    return sm3(bits.to_bytes(2, "big") + user_id + b"".join(v.to_bytes(size, "big") for v in parts))


def sign_with_k(curve: Curve, d: int, digest: bytes, k: int) -> tuple[int, int] | None:
    """Sign ``e`` with the given nonce k (GB/T 32918.2 s6.1 steps A3-A6).

    Returns None when k must be rejected (r = 0, r + k = n, or s = 0). A fixed k is for
    known-answer tests only: reusing k across messages reveals d.
    """
    n = curve.n
    e = int.from_bytes(digest, "big")
    point = scalar_mult(curve, k, (curve.gx, curve.gy))
    if point is None:
        return None
    r = (e + point[0]) % n
    if r == 0 or r + k == n:
        return None
    s = pow(1 + d, -1, n) * (k - r * d) % n
    if s == 0:
        return None
    return r, s


def sign(curve: Curve, d: int, digest: bytes) -> tuple[int, int]:
    """Sign ``e`` with a fresh nonce k drawn from :mod:`secrets` in [1, n-1]."""
    while True:
        k = secrets.randbelow(curve.n - 1) + 1
        signature = sign_with_k(curve, d, digest, k)
        if signature is not None:
            return signature


def verify(curve: Curve, public: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """Verify (r, s) over ``e`` (GB/T 32918.2 s7.1 steps B1-B7); never raises."""
    n = curve.n
    if not (1 <= r < n and 1 <= s < n):
        return False
    if not curve.contains(*public):
        return False
    t = (r + s) % n
    if t == 0:
        return False
    point = double_scalar_mult(curve, s, t, public)
    if point is None:
        return False
    return (int.from_bytes(digest, "big") + point[0]) % n == r


class ReferenceBackend(Sm2Backend):
    """The pure-Python backend on sm2p256v1: an oracle for tests, verify-only by default."""

    name = "reference"

    def __init__(self, *, allow_signing: bool = False) -> None:
        """Create the backend; prefer :func:`reference_backend`."""
        self.can_sign = allow_signing

    def _require_signing(self) -> None:
        if not self.can_sign:
            raise CryptoError(
                "the reference SM2 backend is a variable-time test oracle and never signs in "
                "production; use the OpenSSL backend"
            )

    def derive_public(self, scalar: int) -> tuple[int, int]:
        """Return ``scalar * G`` (needs a signing-enabled instance: it touches a secret)."""
        self._require_signing()
        return public_point(SM2P256V1, scalar)

    def sign_digest(self, key: Sm2PrivateKey, digest: bytes) -> bytes:
        """Hazmat: sign ``e`` in pure Python (signing-enabled instances only)."""
        self._require_signing()
        r, s = sign(SM2P256V1, key.scalar, digest)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def verify_digest(self, key: Sm2PublicKey, digest: bytes, signature: bytes) -> bool:
        """Hazmat: verify raw ``r || s`` over ``e`` in pure Python."""
        if len(signature) != 64 or len(digest) != 32:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        return verify(SM2P256V1, (key.x, key.y), digest, r, s)


_VERIFY_ONLY = ReferenceBackend()


def reference_backend() -> ReferenceBackend:
    """Return the verify-only reference backend."""
    return _VERIFY_ONLY


def insecure_reference_signing_backend() -> ReferenceBackend:
    """Return a reference backend that SIGNS IN VARIABLE TIME: tests and benchmarks only.

    Its nonces come from :mod:`secrets`, but its scalar multiplication leaks the nonce and the
    private key through timing. Never call this from production code.
    """
    return ReferenceBackend(allow_signing=True)
