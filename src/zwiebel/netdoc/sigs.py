"""tor's RSA document signatures: PKCS#1 v1.5 over a bare digest (dir-spec 1.3).

"The signature does not include the algorithmIdentifier specified in PKCS #1."
tor accepts a signature when the recovered data is at least as long as the digest
and begins with it (check_signature_token in src/feature/dirparse/sigcommon.c and
networkstatus_check_document_signature); we accept exactly the same set.
"""

from __future__ import annotations

from zwiebel.crypto import ct_eq
from zwiebel.crypto.keys import RsaPublic


def rsa_signature_ok(key: RsaPublic, signature: bytes, digest: bytes) -> bool:
    """Whether `signature` is `key`'s raw PKCS#1 v1.5 signature over `digest`."""
    recovered = key.recover_raw(signature)
    if recovered is None or len(recovered) < len(digest):
        return False
    return ct_eq(recovered[: len(digest)], digest)
