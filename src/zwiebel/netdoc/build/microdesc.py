"""Building a microdescriptor from a server descriptor (dir-spec 3.3), as an authority does.

tor 0.4.9.11 ``dirvote_create_microdescriptor`` (src/feature/dirauth/dirvote.c):
"onion-key" with the TAP key, "ntor-onion-key" (unpadded base64), the canonical
"family" (self included, $IDs sorted before nicknames), "family-ids" (proposal 321) when
the caller passes the checked family-cert keys (consensus method 35 on, see
`zwiebel.dirauth.microdescs`), "p" with the IPv4 policy summary unless it rejects
everything, "p6" likewise from the descriptor's "ipv6-policy", and "id ed25519" (or
"id rsa1024" without an Ed25519 identity). Without a TAP key tor makes no
microdescriptor; the same holds here (ValueError).
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.encoding import b64_nopad
from zwiebel.netdoc.build.family import canonical_family
from zwiebel.netdoc.serverdesc import ServerDescriptor
from zwiebel.netdoc.tokenizer import DocObject, format_item

_REJECT_ALL = "reject 1-65535"


def build_microdesc(desc: ServerDescriptor, family_ids: Sequence[str] = ()) -> str:
    """The microdescriptor an authority derives from `desc`."""
    if desc.onion_key_tap is None:
        raise ValueError("no microdescriptor for a relay without a TAP onion key")
    out = format_item("onion-key", (), DocObject("RSA PUBLIC KEY", desc.onion_key_tap))
    out += format_item("ntor-onion-key", (b64_nopad(desc.ntor_onion_key),))
    if desc.family:
        out += format_item("family", canonical_family(desc.family, desc.identity))
    if family_ids:
        out += format_item("family-ids", tuple(family_ids))
    summary = desc.exit_policy.summarize(4).encode()
    if summary != _REJECT_ALL:
        out += f"p {summary}\n"
    if desc.ipv6_policy is not None and desc.ipv6_policy.encode() != _REJECT_ALL:
        out += f"p6 {desc.ipv6_policy.encode()}\n"
    if desc.ed25519_id is not None:
        return out + format_item("id", ("ed25519", b64_nopad(desc.ed25519_id)))
    return out + format_item("id", ("rsa1024", b64_nopad(desc.identity)))
