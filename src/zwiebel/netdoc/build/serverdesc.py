"""Building and signing a server descriptor (dir-spec 2.1.1) as tor 0.4.9.11 writes it.

Item order and spelling follow ``router_dump_router_to_string``
(src/feature/relay/router.c), so a descriptor built here and one from C tor differ only
in values. The two signatures are made as tor makes them:

* "router-sig-ed25519": the signing key signs SHA-256("Tor router descriptor
  signature v1" + the text from "router " through the space after
  "router-sig-ed25519");
* "router-signature": the RSA identity key's raw PKCS#1 v1.5 signature (no
  DigestInfo) over the SHA-1 of the text from "router " through "router-signature\\n".

Certificates arrive encoded (they are built with zwiebel.cells.torcert one layer up);
the Ed25519 signer is anything with ``sign(bytes) -> bytes``. An authority refuses a
descriptor over 20000 bytes (MAX_DESCRIPTOR_UPLOAD_SIZE), so that is a ValueError here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.crypto.keys import RsaPrivate, RsaPublic
from zwiebel.encoding import b64_nopad
from zwiebel.netdoc.tokenizer import DocObject, format_item, format_object

ED_DESC_SIGNATURE_PREFIX = b"Tor router descriptor signature v1"
MAX_DESCRIPTOR_UPLOAD_SIZE = 20000


class Ed25519Signer(Protocol):
    """What signs documents with an Ed25519 key (seed or expanded)."""

    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        ...

    def sign(self, msg: bytes) -> bytes:
        """A 64-byte signature of `msg`."""
        ...


@dataclass(frozen=True)
class ServerDescriptorFields:
    """Everything a server descriptor says, ready to be written."""

    nickname: str
    address: str
    or_port: int
    identity_cert: bytes
    """Encoded type-4 certificate of the signing key, with the master key extension."""
    master_id: bytes
    ntor_onion_key: bytes
    ntor_crosscert: bytes
    ntor_crosscert_sign_bit: int
    platform: str
    protocols: str
    published: datetime
    bandwidth: tuple[int, int, int]
    exit_policy_lines: tuple[str, ...]
    dir_port: int = 0
    or_address_v6: tuple[str, int] | None = None
    uptime: int = 0
    extra_info_digests: tuple[bytes, bytes] | None = None
    """(SHA-1 of the extra-info's signed part, SHA-256 of the whole extra-info)."""
    caches_extra_info: bool = False
    onion_key_tap: RsaPublic | None = None
    onion_key_crosscert: bytes | None = None
    family: tuple[str, ...] = ()
    hibernating: bool = False
    hidden_service_dir: bool = True
    contact: str | None = None
    ipv6_policy: str | None = None
    """The IPv6 policy summary ("accept 80,443"); omitted when None or reject-all."""
    tunnelled_dir_server: bool = True


def format_time(when: datetime) -> str:
    """dir-spec's "YYYY-MM-DD HH:MM:SS" (UTC)."""
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _spaced(fingerprint: bytes) -> str:
    hexfp = fingerprint.hex().upper()
    return " ".join(hexfp[i : i + 4] for i in range(0, 40, 4))


def _obj(label: str, data: bytes) -> DocObject:
    return DocObject(label, data)


def _address_items(f: ServerDescriptorFields) -> str:
    out = format_item("router", (f.nickname, f.address, str(f.or_port), "0", str(f.dir_port)))
    out += format_item("identity-ed25519", (), _obj("ED25519 CERT", f.identity_cert))
    out += format_item("master-key-ed25519", (b64_nopad(f.master_id),))
    if f.or_address_v6 is not None:
        out += format_item("or-address", (f"[{f.or_address_v6[0]}]:{f.or_address_v6[1]}",))
    return out


def _state_items(f: ServerDescriptorFields, identity: RsaPublic) -> str:
    out = f"platform {f.platform}\n" + format_item("proto", tuple(f.protocols.split()))
    out += format_item("published", tuple(format_time(f.published).split()))
    out += format_item("fingerprint", tuple(_spaced(identity.fingerprint()).split()))
    out += format_item("uptime", (str(f.uptime),))
    out += format_item("bandwidth", tuple(str(b) for b in f.bandwidth))
    if f.extra_info_digests is not None:
        sha1_digest, sha256_digest = f.extra_info_digests
        out += format_item("extra-info-digest",
                           (sha1_digest.hex().upper(), b64_nopad(sha256_digest)))
    if f.caches_extra_info:
        out += format_item("caches-extra-info")
    return out


def _key_items(f: ServerDescriptorFields, identity: RsaPublic) -> str:
    out = ""
    if f.onion_key_tap is not None:
        out += format_item("onion-key", (), _obj("RSA PUBLIC KEY", f.onion_key_tap.der()))
    out += format_item("signing-key", (), _obj("RSA PUBLIC KEY", identity.der()))
    if f.onion_key_crosscert is not None:
        out += format_item("onion-key-crosscert", (), _obj("CROSSCERT", f.onion_key_crosscert))
    out += format_item("ntor-onion-key-crosscert", (str(f.ntor_crosscert_sign_bit),),
                       _obj("ED25519 CERT", f.ntor_crosscert))
    return out


def _tail_items(f: ServerDescriptorFields) -> str:
    out = format_item("family", f.family) if f.family else ""
    out += format_item("hibernating", ("1",)) if f.hibernating else ""
    out += format_item("hidden-service-dir") if f.hidden_service_dir else ""
    if f.contact:
        if "\n" in f.contact or "\r" in f.contact:
            raise ValueError("ContactInfo must be one line")
        out += f"contact {f.contact}\n"
    out += format_item("ntor-onion-key", (b64_nopad(f.ntor_onion_key),))
    out += "".join(f"{line}\n" for line in (f.exit_policy_lines or ("reject *:*",)))
    if f.ipv6_policy and f.ipv6_policy != "reject 1-65535":
        out += f"ipv6-policy {f.ipv6_policy}\n"
    out += format_item("tunnelled-dir-server") if f.tunnelled_dir_server else ""
    return out


def sign_document(body: str, identity: RsaPrivate, signing: Ed25519Signer) -> str:
    """Append router-sig-ed25519 and router-signature to `body` (tor's order)."""
    body += "router-sig-ed25519 "
    ed_sig = signing.sign(sha256(ED_DESC_SIGNATURE_PREFIX + body.encode()))
    body += b64_nopad(ed_sig) + "\nrouter-signature\n"
    return body + format_object("SIGNATURE", identity.sign_raw(sha1(body.encode())))


def build_server_descriptor(fields: ServerDescriptorFields, identity: RsaPrivate,
                            signing: Ed25519Signer) -> str:
    """The signed descriptor text; ValueError if it is too large for an authority."""
    public = identity.public()
    body = (_address_items(fields) + _state_items(fields, public)
            + _key_items(fields, public) + _tail_items(fields))
    text = sign_document(body, identity, signing)
    if len(text.encode()) > MAX_DESCRIPTOR_UPLOAD_SIZE:
        raise ValueError(f"server descriptor is {len(text.encode())} bytes, over "
                         f"{MAX_DESCRIPTOR_UPLOAD_SIZE}")
    return text
