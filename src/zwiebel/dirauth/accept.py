"""Whether an authority accepts an uploaded server descriptor (dir-spec 3.2).

The stateless half of tor 0.4.9.11's dirserv_add_descriptor and
authdir_wants_to_reject_router (src/feature/dirauth/process_descs.c): format and
signatures, size, the TAP key, certificate expiry, the platform's Tor version, the
operator's reject list, clock skew and private addresses. What needs the authority's
memory (the same descriptor again, a cosmetic change, key pinning, an older one) is
in store.py. Every refusal raises DescriptorRejected with tor's own wording, so the
HTTP layer can hand it back to the relay as tor would.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.crypto.keys import ed25519_verify
from zwiebel.encoding import ParseError, b64_nopad, unb64
from zwiebel.netdoc import values
from zwiebel.netdoc.edcert import cert_signature_ok, parse_ed25519_cert
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.policy import is_internal
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptors
from zwiebel.netdoc.serverdesc_verify import verify_server_descriptor
from zwiebel.netdoc.sigs import rsa_signature_ok
from zwiebel.netdoc.tokenizer import signed_span, tokenize

MAX_DESCRIPTOR_UPLOAD_SIZE = 20000
"""tor: MAX_DESCRIPTOR_UPLOAD_SIZE (or.h)."""
ROUTER_ALLOW_SKEW = timedelta(hours=12)
"""tor: how far in the future "published" may be (process_descs.c)."""
ROUTER_MAX_AGE_TO_PUBLISH = timedelta(hours=24)
"""tor: how old "published" may be (or.h)."""
CERT_TYPE_FAMILY_V_IDENTITY = 0x0C
"""A family key certifies a relay's Ed25519 identity (proposal 321; tor torcert.h)."""

MSG_NONE_FOUND = "No descriptors found in your POST."
MSG_TOO_LARGE = "Router descriptor was too large."
MSG_NO_TAP = "Missing TAP key in descriptor."
MSG_CERTS_EXPIRED = "Some certs on this router are expired."
MSG_MALFORMED_PLATFORM = "Malformed platform string."
MSG_OLD_VERSION = "Tor version is insecure or unsupported. Please upgrade!"
MSG_REJECTED_ID = (
    "Fingerprint and/or ed25519 identity is marked rejected -- if you think this is a "
    "mistake please set a valid email address in ContactInfo and send an email to "
    "bad-relays@lists.torproject.org mentioning your fingerprint(s)?")
MSG_FUTURE = ("Rejected: Your clock is set too far in the future, or your timezone is "
              "not correct.")
MSG_EXPIRED = ("Rejected: Server is expired, or your clock is too far in the past, or "
               "your timezone is not correct.")
MSG_PRIVATE = "Rejected: Address is a private address."


class DescriptorRejected(Exception):
    """An uploaded descriptor the authority does not take.

    `reason` is tor's message for the uploader; `outdated` is true where tor answers
    "not new" (HTTP 200 with X-Descriptor-Not-New) instead of 400; `detail` says more
    for the log (e.g. which signature failed).
    """

    def __init__(self, reason: str, *, outdated: bool = False, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason} ({detail})")
        self.reason = reason
        self.outdated = outdated
        self.detail = detail


@dataclass(frozen=True)
class AcceptOptions:
    """The authority options behind the acceptance rules (tor.1.txt names in brackets)."""

    dir_allow_private: bool = False
    """[DirAllowPrivateAddresses] (TestingTorNetwork implies it)."""
    min_version: str = "0.4.8.0-alpha-dev"
    """[MinimalAcceptedServerVersion]."""
    rejected: frozenset[bytes] = field(default_factory=frozenset)
    """RSA identity digests or Ed25519 keys marked "!reject" in approved-routers."""
    invalid: frozenset[bytes] = field(default_factory=frozenset)
    """Identities marked "!invalid": accepted but not Valid."""
    pin_keys: bool = True
    """[AuthDirPinKeys]."""


# --- Tor versions (tor: tor_version_parse, src/core/or/versions.c) ---

_NUMBER = re.compile(r"\d+")
Version = tuple[int, int, int, int, int, str, int]
"""(major, minor, micro, status, patchlevel, tag, svn revision); status 0 pre, 1 rc, 2 release."""


def _number(s: str, pos: int) -> tuple[int, int] | None:
    m = _NUMBER.match(s, pos)
    if m is None or int(m.group()) > 2**31 - 1:
        return None
    return int(m.group()), m.end()


def _tail(s: str, pos: int) -> tuple[str, int] | None:
    """The status tag and the "(r123)" / "(git-hex)" suffix after the numbers."""
    if s[pos:pos + 1] in ("-", "."):
        pos += 1
    tag = s[pos:].split(maxsplit=1)[0] if s[pos:].strip() and not s[pos].isspace() else ""
    rest = s[pos + len(tag):].lstrip()
    if rest.startswith("(r"):
        m = re.match(r"-?\d+", rest[2:])
        return tag, int(m.group()) if m else 0
    if rest.startswith("(git-"):
        close = rest.find(")")
        digits = rest[5:close]
        if close < 0 or not 0 < len(digits) <= 40 or len(digits) % 2 \
                or not re.fullmatch(r"[0-9A-Fa-f]*", digits):
            return None
    return tag, 0


def parse_tor_version(text: str) -> Version | None:
    """tor_version_parse: "[Tor ]MAJ.MIN[.MIC[(pre|rc|.)PATCH]][-tag] [(r..)]", or None."""
    s = text[4:] if text[:4].lower() == "tor " else text
    nums: list[int] = []
    pos, status = 0, 2
    for sep in ("", ".", "."):
        if nums and (pos == len(s) or s[pos] == "-"):
            break
        if sep and s[pos:pos + 1] != sep:
            return None
        got = _number(s, pos + len(sep))
        if got is None:
            return None
        nums.append(got[0])
        pos = got[1]
    patch = 0
    if len(nums) == 3 and pos < len(s) and s[pos] != "-":
        for word, code in ((".", 2), ("pre", 0), ("rc", 1)):
            if s.startswith(word, pos):
                status, pos = code, pos + len(word)
                break
        else:
            return None
        got = _number(s, pos)
        if got is None:
            return None
        patch, pos = got
    tail = _tail(s, pos)
    if tail is None:
        return None
    nums += [0] * (3 - len(nums))
    return (nums[0], nums[1], nums[2], status, patch, tail[0], tail[1])


def version_text(platform: str) -> str | None:
    """The version word of a "Tor ..." platform (tor_version_parse_platform); None otherwise."""
    if not platform.startswith("Tor "):
        return None
    words = platform[4:].split()
    if not words:
        return ""
    if len(words) > 1 and (words[1].startswith("(r") or words[1].startswith("(git-")):
        return " ".join(words[:2])
    return words[0]


def version_as_new_as(platform: str, cutoff: str) -> bool:
    """tor_version_as_new_as: unparseable or non-Tor platforms count as new enough."""
    want = parse_tor_version(cutoff)
    text = version_text(platform)
    have = parse_tor_version(text) if text else None
    if want is None or have is None:
        return want is not None
    return have >= want


# --- the checks ---

def _parse(raw: str) -> ServerDescriptor:
    try:
        descs = parse_server_descriptors(raw)
    except ParseError as exc:
        raise DescriptorRejected(MSG_NONE_FOUND, outdated=True, detail=str(exc)) from exc
    if len(descs) != 1:
        raise DescriptorRejected(MSG_NONE_FOUND, outdated=True,
                                 detail=f"{len(descs)} descriptors")
    return descs[0]


def family_ids(desc: ServerDescriptor) -> tuple[str, ...]:
    """The checked "family-cert" keys as "ed25519:<b64>" ids, sorted and unique.

    tor: check_family_certs (routerparse.c); a bad certificate makes the whole
    descriptor unparseable, so it raises VerifyError here.
    """
    out = set()
    for raw in desc.family_certs:
        cert = parse_ed25519_cert(raw)
        key = cert.signing_key
        if cert.cert_type != CERT_TYPE_FAMILY_V_IDENTITY or key is None:
            raise VerifyError(f"{desc.nickname}: bad family-cert")
        if cert.certified_key != desc.ed25519_id or not cert_signature_ok(cert, key):
            raise VerifyError(f"{desc.nickname}: family-cert does not certify this relay")
        out.add("ed25519:" + b64_nopad(key))
    return tuple(sorted(out))


def _verify(desc: ServerDescriptor) -> None:
    try:
        verify_server_descriptor(desc)
        family_ids(desc)
    except (VerifyError, ParseError) as exc:
        raise DescriptorRejected(MSG_NONE_FOUND, outdated=True, detail=str(exc)) from exc


def _signed_length(raw: str) -> int:
    body = raw[raw.index("router "):] if raw.startswith("@") else raw
    return len(body.encode())


def _certs_expire(desc: ServerDescriptor) -> datetime:
    return min(desc.identity_cert.expires, desc.ntor_crosscert.expires)


def _is_private(address: str) -> bool:
    """tor_addr_is_null or tor_addr_is_internal (dirserv_router_has_valid_address)."""
    ip = ipaddress.ip_address(address)
    return int(ip) == 0 or is_internal(ip)


def _authdir_checks(desc: ServerDescriptor, now: datetime, opts: AcceptOptions) -> None:
    """authdir_wants_to_reject_router, in tor's order."""
    if desc.platform is not None:
        text = version_text(desc.platform)
        if text is not None and (not text or parse_tor_version(text) is None):
            raise DescriptorRejected(MSG_MALFORMED_PLATFORM)
        if not version_as_new_as(desc.platform, opts.min_version):
            raise DescriptorRejected(MSG_OLD_VERSION)
    if desc.identity in opts.rejected or desc.ed25519_id in opts.rejected:
        raise DescriptorRejected(MSG_REJECTED_ID)
    if desc.published > now + ROUTER_ALLOW_SKEW:
        raise DescriptorRejected(MSG_FUTURE)
    if desc.published < now - ROUTER_MAX_AGE_TO_PUBLISH:
        raise DescriptorRejected(MSG_EXPIRED)
    if not opts.dir_allow_private and (
            _is_private(desc.address)
            or any(":" in a and _is_private(a) for a, _ in desc.or_addresses[:1])):
        raise DescriptorRejected(MSG_PRIVATE)


def check_server_descriptor(raw: str, now: datetime, opts: AcceptOptions) -> ServerDescriptor:
    """Parse and check one uploaded descriptor; raise DescriptorRejected with tor's reason."""
    desc = _parse(raw)
    _verify(desc)
    if _signed_length(raw) > MAX_DESCRIPTOR_UPLOAD_SIZE:
        raise DescriptorRejected(MSG_TOO_LARGE)
    if desc.onion_key_tap is None:
        raise DescriptorRejected(MSG_NO_TAP)
    if _certs_expire(desc) < now:
        raise DescriptorRejected(MSG_CERTS_EXPIRED, outdated=True)
    _authdir_checks(desc, now, opts)
    return desc


# --- extra-info (tor: dirserv_add_extrainfo, routerinfo_incompatible_with_extrainfo) ---

MAX_EXTRAINFO_UPLOAD_SIZE = 50000
MSG_EI_NO_ROUTER = "No corresponding router descriptor for extra-info descriptor"
MSG_EI_TOO_LARGE = "Extrainfo document was too large"
MSG_EI_BAD_SIG = "Extrainfo signature bad, or signed with wrong key"
MSG_EI_IDENTITY = "Extrainfo nickname or identity did not match routerinfo"
MSG_EI_CERT = "Extrainfo signing key cert didn't match routerinfo"
MSG_EI_PUBLISHED = "Extrainfo published time did not match routerdesc"
MSG_EI_DIGEST = "Extrainfo digest did not match value from routerdesc"
MSG_EI_DIGEST256 = "Extrainfo digest did not match digest256 from routerdesc"
_ED_EI_PREFIX = b"Tor router descriptor signature v1"


@dataclass(frozen=True)
class ExtraInfo:
    """An accepted extra-info document (dir-spec 2.1.2)."""

    nickname: str
    identity: bytes
    published: datetime
    digest: bytes
    """SHA-1 of the signed part: what the descriptor's "extra-info-digest" names."""
    raw: str


def _ei_fields(raw: str) -> tuple[ExtraInfo, bytes, bytes, bytes]:
    """The document, its identity cert, Ed25519 signature and RSA signature."""
    items = [i for i in tokenize(raw) if not i.keyword.startswith("@")]
    kw = {i.keyword: i for i in items}
    first, sig = items[0], kw.get("router-signature")
    ed_sig, cert, pub = kw.get("router-sig-ed25519"), kw.get("identity-ed25519"), kw.get(
        "published")
    if first.keyword != "extra-info" or len(first.args) < 2 or None in (sig, ed_sig, cert, pub):
        raise ParseError("not an extra-info document")
    assert sig is not None and sig.obj and cert is not None and cert.obj
    assert ed_sig is not None and pub is not None
    doc = ExtraInfo(values.nickname(first, first.args[0]),
                    values.hex_digest(first, first.args[1]), values.time_at(pub, 0),
                    sha1(signed_span(raw, "extra-info ", "\nrouter-signature", "\n").encode()),
                    raw)
    return doc, cert.obj.data, values.b64_fixed(ed_sig, ed_sig.args[0], 64), sig.obj.data


def _digest256(desc: ServerDescriptor) -> bytes | None:
    m = re.search(r"^extra-info-digest [0-9A-Fa-f]{40} ([A-Za-z0-9+/]{43})", desc.raw, re.M)
    return unb64(m.group(1)) if m else None


def _ei_checks(ei: ExtraInfo, desc: ServerDescriptor, cert: bytes, ed_sig: bytes,
               rsa_sig: bytes) -> None:
    if cert != desc.identity_cert.raw:
        raise DescriptorRejected(MSG_EI_CERT)
    signed = signed_span(ei.raw, "extra-info ", "\nrouter-sig-ed25519", " ").encode()
    if not ed25519_verify(desc.identity_cert.certified_key, ed_sig,
                          sha256(_ED_EI_PREFIX + signed)) \
            or not rsa_signature_ok(desc.signing_key, rsa_sig, ei.digest):
        raise DescriptorRejected(MSG_EI_BAD_SIG)
    if ei.published != desc.published:
        raise DescriptorRejected(MSG_EI_PUBLISHED, outdated=ei.published > desc.published)
    want256 = _digest256(desc)
    if want256 is not None and want256 != sha256(ei.raw.encode()):
        raise DescriptorRejected(MSG_EI_DIGEST256)
    if ei.digest != desc.extra_info_digest:
        raise DescriptorRejected(MSG_EI_DIGEST)


def check_extrainfo(raw: str, current: Mapping[bytes, ServerDescriptor]) -> ExtraInfo:
    """Check an uploaded extra-info against the current descriptor of its relay."""
    try:
        ei, cert, ed_sig, rsa_sig = _ei_fields(raw)
    except ParseError as exc:
        raise DescriptorRejected(MSG_NONE_FOUND, outdated=True, detail=str(exc)) from exc
    desc = current.get(ei.identity)
    if desc is None:
        raise DescriptorRejected(MSG_EI_NO_ROUTER)
    if len(raw.encode()) > MAX_EXTRAINFO_UPLOAD_SIZE:
        raise DescriptorRejected(MSG_EI_TOO_LARGE)
    if ei.nickname != desc.nickname:
        raise DescriptorRejected(MSG_EI_IDENTITY)
    _ei_checks(ei, desc, cert, ed_sig, rsa_sig)
    return ei
