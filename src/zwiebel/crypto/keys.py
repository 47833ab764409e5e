"""Ed25519, X25519 and RSA keys in the shapes tor uses (tor-spec 0.3, cert-spec).

RSA: tor identifies a relay by SHA-1 of the DER of its PKCS#1 RSAPublicKey, and
signs documents with PKCS#1 v1.5 type-1 padding over a bare digest *without* an
ASN.1 DigestInfo ("raw" signatures); `cryptography` always adds a DigestInfo, so the
padding is built here and the private exponent applied directly.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, x25519

from zwiebel.crypto.digest import sha1
from zwiebel.encoding import ParseError

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NOENC = serialization.NoEncryption()


class Ed25519Private:
    """An Ed25519 signing key."""

    __slots__ = ("_key",)

    def __init__(self, seed: bytes) -> None:
        self._key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        return self._key.public_key().public_bytes(_RAW, _RAW_PUB)

    def seed(self) -> bytes:
        """The 32-byte private seed."""
        return self._key.private_bytes(_RAW, _RAW_PRIV, _NOENC)

    def sign(self, msg: bytes) -> bytes:
        """A 64-byte Ed25519 signature."""
        return self._key.sign(msg)


def ed25519_verify(public: bytes, signature: bytes, msg: bytes) -> bool:
    """Check an Ed25519 signature; malformed keys or signatures are just invalid."""
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(signature, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


class X25519Private:
    """A Curve25519 Diffie-Hellman key (tor-spec 0.3, ntor)."""

    __slots__ = ("_key",)

    def __init__(self, secret: bytes) -> None:
        self._key = x25519.X25519PrivateKey.from_private_bytes(secret)

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        return self._key.public_key().public_bytes(_RAW, _RAW_PUB)

    def secret_bytes(self) -> bytes:
        """The 32-byte secret scalar (as stored)."""
        return self._key.private_bytes(_RAW, _RAW_PRIV, _NOENC)

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret EXP(peer, self); an all-zero result is rejected."""
        try:
            shared = self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError as exc:
            raise ParseError("degenerate curve25519 point") from exc
        return shared


class RsaPublic:
    """An RSA public key, as tor encodes it (PKCS#1 RSAPublicKey)."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    @classmethod
    def from_der(cls, der: bytes) -> RsaPublic:
        """Load a PKCS#1 (or SubjectPublicKeyInfo) DER key."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, TypeError) as exc:
            raise ParseError("bad RSA public key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ParseError("not an RSA key")
        return cls(key)

    @classmethod
    def from_pem(cls, pem: str) -> RsaPublic:
        """Load "-----BEGIN RSA PUBLIC KEY-----" text."""
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except (ValueError, TypeError) as exc:
            raise ParseError("bad RSA public key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ParseError("not an RSA key")
        return cls(key)

    @property
    def bits(self) -> int:
        """Modulus size in bits."""
        return self._key.key_size

    @property
    def exponent(self) -> int:
        """The public exponent."""
        return self._key.public_numbers().e

    def der(self) -> bytes:
        """PKCS#1 DER encoding."""
        return self._key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)

    def pem(self) -> str:
        """PKCS#1 PEM, as in directory documents."""
        raw = self._key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        return raw.decode()

    def fingerprint(self) -> bytes:
        """SHA-1 of the PKCS#1 DER: the relay identity digest."""
        return sha1(self.der())

    def recover_raw(self, signature: bytes) -> bytes | None:
        """The data under a raw PKCS#1 v1.5 signature, or None if it does not verify."""
        try:
            return self._key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
        except (InvalidSignature, ValueError):
            return None

    def verify_raw(self, signature: bytes, data: bytes) -> bool:
        """Check a raw (no DigestInfo) PKCS#1 v1.5 signature over `data`."""
        recovered = self.recover_raw(signature)
        return recovered is not None and recovered == data

    def verify_sha256(self, signature: bytes, msg: bytes) -> bool:
        """Check a standard PKCS#1 v1.5 SHA-256 signature (with DigestInfo)."""
        try:
            self._key.verify(signature, msg, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    @property
    def native(self) -> rsa.RSAPublicKey:
        """The underlying `cryptography` key (for X.509 checks in this package)."""
        return self._key


class RsaPrivate:
    """An RSA private key with tor's raw signatures."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls, bits: int = 1024) -> RsaPrivate:
        """A new key with exponent 65537 (randomness from OpenSSL)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @classmethod
    def from_pem(cls, pem: bytes) -> RsaPrivate:
        """Load a PEM private key (PKCS#1 "RSA PRIVATE KEY" as tor writes it, or PKCS#8)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise ParseError("bad RSA private key") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ParseError("not an RSA key")
        return cls(key)

    def pem(self) -> bytes:
        """PKCS#1 PEM ("-----BEGIN RSA PRIVATE KEY-----"), tor's file format."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, _NOENC
        )

    def public(self) -> RsaPublic:
        """The public half."""
        return RsaPublic(self._key.public_key())

    def sign_raw(self, data: bytes) -> bytes:
        """PKCS#1 v1.5 type-1 padding over `data` (no DigestInfo), then m^d mod n."""
        size = (self._key.key_size + 7) // 8
        if len(data) > size - 11:
            raise ValueError("data too long for raw RSA signature")
        block = b"\x00\x01" + b"\xff" * (size - 3 - len(data)) + b"\x00" + data
        nums = self._key.private_numbers()
        sig = pow(int.from_bytes(block, "big"), nums.d, nums.public_numbers.n)
        return sig.to_bytes(size, "big")

    def sign_sha256(self, msg: bytes) -> bytes:
        """Standard PKCS#1 v1.5 SHA-256 signature (X.509 certificates)."""
        return self._key.sign(msg, padding.PKCS1v15(), hashes.SHA256())

    @property
    def native(self) -> rsa.RSAPrivateKey:
        """The underlying `cryptography` key (for X.509 creation in this package)."""
        return self._key
