"""Crypto primitives against published vectors."""

from zwiebel.crypto.cipher import AesCtr
from zwiebel.crypto.digest import running_digest, sha1
from zwiebel.crypto.kdf import hkdf_sha256, kdf_tor
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate, X25519Private, ed25519_verify


def test_hkdf_rfc5869_case1() -> None:
    """RFC 5869 appendix A.1."""
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = hkdf_sha256(ikm, salt, info, 42)
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865"
    )


def test_kdf_tor_is_sha1_counter_chain() -> None:
    out = kdf_tor(b"secret", 45)
    assert out == (sha1(b"secret\x00") + sha1(b"secret\x01") + sha1(b"secret\x02"))[:45]


def test_aes_ctr_nist_sp800_38a_f5_1() -> None:
    """NIST SP 800-38A F.5.1 CTR-AES128.Encrypt, first two blocks, split mid-block."""
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    iv = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    pt = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51")
    ctr = AesCtr(key, iv)
    ct = ctr.process(pt[:7]) + ctr.process(pt[7:])
    assert ct.hex() == "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"


def test_running_digest_reads_without_finalising() -> None:
    d = running_digest("sha1", b"seed")
    d.update(b"abc")
    first = d.digest()
    d.update(b"def")
    assert first == sha1(b"seedabc")
    assert d.digest() == sha1(b"seedabcdef")


def test_rsa_raw_signature_has_no_digestinfo() -> None:
    key = RsaPrivate.generate(1024)
    digest = sha1(b"document")
    sig = key.sign_raw(digest)
    assert len(sig) == 128
    assert key.public().recover_raw(sig) == digest
    assert key.public().verify_raw(sig, digest)
    assert not key.public().verify_raw(sig, sha1(b"other"))


def test_ed25519_rfc8032_test1() -> None:
    """RFC 8032 7.1 TEST 1 (empty message)."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = Ed25519Private(seed)
    assert key.public_bytes().hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    sig = key.sign(b"")
    assert sig.hex().startswith("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555")
    assert ed25519_verify(key.public_bytes(), sig, b"")
    assert not ed25519_verify(key.public_bytes(), sig, b"x")


def test_x25519_rfc7748_section6_1() -> None:
    alice = X25519Private(
        bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob_pub = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    assert alice.exchange(bob_pub).hex() == (
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    )
