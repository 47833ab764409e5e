"""AES in counter mode as a stream cipher (tor-spec 0.3: "stream cipher ... AES-128 in
counter mode, with an IV of all 0 bytes"; AES-256 for hs-ntor and ntor-v3 layers)."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class AesCtr:
    """A keystream that continues across calls: `process` encrypts and decrypts alike."""

    __slots__ = ("_ctx",)

    def __init__(self, key: bytes, iv: bytes = bytes(16)) -> None:
        if len(key) not in (16, 32):
            raise ValueError("AES key must be 16 or 32 bytes")
        self._ctx = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()

    def process(self, data: bytes | bytearray | memoryview) -> bytes:
        """XOR `data` with the next bytes of keystream."""
        return self._ctx.update(data)
