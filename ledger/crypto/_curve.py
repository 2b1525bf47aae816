"""Internal: SM2 curve parameters and SEC 1 point encoding with full validation.

Only public data is handled here (curve constants, public points), so plain Python integer
arithmetic is acceptable: nothing in this module touches a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.crypto.errors import InvalidKey


@dataclass(frozen=True)
class Curve:
    """Short Weierstrass curve y^2 = x^3 + ax + b over GF(p) with base point G of order n."""

    name: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int

    @property
    def field_size(self) -> int:
        """Length in bytes of one field element."""
        return (self.p.bit_length() + 7) // 8

    def contains(self, x: int, y: int) -> bool:
        """Whether the affine point (x, y) is a valid finite point of the curve."""
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0


SM2P256V1 = Curve(
    name="sm2p256v1",
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
)
"""The recommended curve of GB/T 32918.5 (cofactor 1): the only curve used in production."""

SM2_TEST_FP256 = Curve(
    name="sm2_test_fp256",
    p=0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    a=0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    b=0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    gx=0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    gy=0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
    n=0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
)
"""The example curve of GB/T 32918.2 Annex A: for the reference backend's vector tests only."""


def _sqrt_mod(curve: Curve, value: int) -> int | None:
    """Square root modulo p, or None; both curves have p = 3 (mod 4)."""
    if curve.p % 4 != 3:
        raise NotImplementedError("square roots need p = 3 mod 4")
    root = pow(value, (curve.p + 1) // 4, curve.p)
    return root if root * root % curve.p == value % curve.p else None


def decode_point(data: bytes, curve: Curve = SM2P256V1) -> tuple[int, int]:
    """Decode a SEC 1 compressed (33-byte) or uncompressed (65-byte) point and validate it.

    The point at infinity (``00``), hybrid encodings (``06``/``07``), coordinates >= p and
    points off the curve are all rejected with :class:`InvalidKey`. With cofactor 1, a finite
    point on the curve is in the prime-order group, so no further subgroup check is needed.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidKey("a public key must be bytes")
    data = bytes(data)
    size = curve.field_size
    if len(data) == 1 + 2 * size and data[0] == 0x04:
        x = int.from_bytes(data[1 : 1 + size], "big")
        y = int.from_bytes(data[1 + size :], "big")
    elif len(data) == 1 + size and data[0] in (0x02, 0x03):
        x = int.from_bytes(data[1:], "big")
        if x >= curve.p:
            raise InvalidKey("public key x coordinate out of range")
        root = _sqrt_mod(curve, (x * x * x + curve.a * x + curve.b) % curve.p)
        if root is None:
            raise InvalidKey("public key is not a point on the curve")
        y = root if root % 2 == data[0] % 2 else curve.p - root
    else:
        raise InvalidKey("public key must be a 33-byte compressed or 65-byte uncompressed point")
    if not curve.contains(x, y):
        raise InvalidKey("public key is not a point on the curve")
    return x, y


def encode_point(x: int, y: int, *, compressed: bool, curve: Curve = SM2P256V1) -> bytes:
    """Encode an affine point in SEC 1 form (compressed: 33 bytes; uncompressed: 65 bytes)."""
    size = curve.field_size
    if compressed:
        return bytes([0x02 | (y & 1)]) + x.to_bytes(size, "big")
    return b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")
