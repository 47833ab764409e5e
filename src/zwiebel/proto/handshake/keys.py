"""Circuit key material shared by every handshake (tor-spec 5.2, proposals/332 A.2).

Whatever the handshake, tor's "tor1" relay crypto needs 72 bytes, CPATH_KEY_MATERIAL_LEN:
Df and Db (20 bytes each, seeding the SHA-1 running digests) and Kf and Kb (16 bytes each,
AES-128-CTR keys). A further 20 bytes, KH, follow: for ntor and ntor-v3 it is the onion
service nonce; for CREATE_FAST it is the derivative key that proves knowledge of K0 and it
comes *first* in KDF-TOR's output (tor-spec 5.2.1). ntor-v3 uses SHA3 and AES-256 only
inside the handshake: its circuit keys are the same tor1 SHA-1/AES-128 keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zwiebel.encoding import ParseError

#: Df, Db: seeds of the forward and backward running digests.
DIGEST_KEY_LEN = 20
#: Kf, Kb: AES-128 keys.
CIPHER_KEY_LEN = 16
#: KH / onion-service nonce.
KH_LEN = 20
#: Df | Db | Kf | Kb (tor's CPATH_KEY_MATERIAL_LEN).
CIRCUIT_KEY_LEN = 2 * DIGEST_KEY_LEN + 2 * CIPHER_KEY_LEN
#: Everything a handshake derives: the circuit keys and KH.
KEY_MATERIAL_LEN = CIRCUIT_KEY_LEN + KH_LEN


class HandshakeError(ParseError):
    """A peer's handshake message is malformed or fails authentication."""


@dataclass(frozen=True)
class KeyMaterial:
    """The keys a circuit hop derives; not shown by repr."""

    df: bytes = field(repr=False)
    db: bytes = field(repr=False)
    kf: bytes = field(repr=False)
    kb: bytes = field(repr=False)
    kh: bytes = field(repr=False)

    def __post_init__(self) -> None:
        sizes = (len(self.df), len(self.db), len(self.kf), len(self.kb), len(self.kh))
        if sizes != (DIGEST_KEY_LEN, DIGEST_KEY_LEN, CIPHER_KEY_LEN, CIPHER_KEY_LEN, KH_LEN):
            raise ValueError(f"bad key material sizes {sizes}")

    @classmethod
    def from_stream(cls, k: bytes) -> KeyMaterial:
        """Split Df | Db | Kf | Kb | KH (ntor's HKDF output, ntor-v3's KEYSTREAM)."""
        d, c = DIGEST_KEY_LEN, CIPHER_KEY_LEN
        return cls(
            k[:d],
            k[d : 2 * d],
            k[2 * d : 2 * d + c],
            k[2 * d + c : 2 * d + 2 * c],
            k[CIRCUIT_KEY_LEN:KEY_MATERIAL_LEN],
        )

    @classmethod
    def from_kdf_tor(cls, k: bytes) -> KeyMaterial:
        """Split KH | Df | Db | Kf | Kb (KDF-TOR output, tor-spec 5.2.1)."""
        return cls.from_stream(k[KH_LEN:KEY_MATERIAL_LEN] + k[:KH_LEN])

    def circuit_keys(self) -> bytes:
        """Df | Db | Kf | Kb, the 72 bytes tor1 relay crypto is initialised from."""
        return self.df + self.db + self.kf + self.kb
