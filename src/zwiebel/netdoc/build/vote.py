"""Building and signing a v3 vote (dir-spec 3.4.1) exactly as tor 0.4.9.11 writes it.

Item order and spacing follow format_networkstatus_vote (src/feature/dirauth/dirvote.c):
the preamble with "params " (trailing space when there are none), "dir-source",
"contact", the shared-random lines (sr_get_string_for_vote, shared_random.c), the
authority certificate verbatim, each entry as routerstatus_format_entry(NS_V3_VOTE)
writes it followed by its "m" lines, "directory-footer", then
"directory-signature <v3ident> <signing key digest>" in upper-case hex and the
signing key's raw PKCS#1 signature of the SHA-1 of everything through the space after
"directory-signature". RSA PKCS#1 v1.5 is deterministic: same inputs, same bytes.
"""

from __future__ import annotations

from zwiebel.crypto.digest import sha1
from zwiebel.crypto.keys import RsaPrivate
from zwiebel.encoding import b64_nopad
from zwiebel.netdoc.authcert import parse_authority_cert
from zwiebel.netdoc.tokenizer import format_object
from zwiebel.netdoc.values import format_time
from zwiebel.netdoc.vote import SharedRandValue, VoteBody, VoteRouter

FLAG_ORDER = (
    "Authority", "BadExit", "Exit", "Fast", "Guard", "HSDir", "MiddleOnly",
    "Running", "Stable", "StaleDesc", "Sybil", "V2Dir", "Valid",
)
"""The "s" line's order ("These must stay in alphabetical order", fmt_routerstatus.c)."""


def _opt_line(keyword: str, value: str | None) -> str:
    """tor's format_line_if_present: "keyword value\\n", or nothing."""
    return "" if value is None else f"{keyword} {value}\n"


def _versions(keyword: str, versions: tuple[str, ...] | None) -> str:
    return _opt_line(keyword, None if versions is None else ",".join(versions))


def _srv(keyword: str, srv: SharedRandValue | None) -> str:
    """ "shared-rand-*-value N <base64 with padding>" (srv_to_ns_string)."""
    if srv is None:
        return ""
    b64 = b64_nopad(srv.value)
    return f"{keyword} {srv.num_reveals} {b64}{'=' * (-len(b64) % 4)}\n"


def _shared_rand(body: VoteBody) -> str:
    """sr_get_string_for_vote: nothing at all unless the authority participates."""
    out = "shared-rand-participate\n" if body.sr_participate else ""
    out += "".join(f"shared-rand-commit {c}\n" for c in body.sr_commits)
    out += _srv("shared-rand-previous-value", body.sr_previous)
    return out + _srv("shared-rand-current-value", body.sr_current)


def _preamble(body: VoteBody) -> str:
    """network-status-version through the shared-random lines."""
    a = body.authority
    out = (
        "network-status-version 3\nvote-status vote\n"
        f"consensus-methods {' '.join(map(str, body.consensus_methods))}\n"
        f"published {format_time(body.published)}\n"
        f"valid-after {format_time(body.valid_after)}\n"
        f"fresh-until {format_time(body.fresh_until)}\n"
        f"valid-until {format_time(body.valid_until)}\n"
        f"voting-delay {body.voting_delay[0]} {body.voting_delay[1]}\n"
    )
    out += _versions("client-versions", body.client_versions)
    out += _versions("server-versions", body.server_versions)
    out += _opt_line("recommended-relay-protocols", body.recommended_relay_protocols)
    out += _opt_line("recommended-client-protocols", body.recommended_client_protocols)
    out += _opt_line("required-relay-protocols", body.required_relay_protocols)
    out += _opt_line("required-client-protocols", body.required_client_protocols)
    out += f"known-flags {' '.join(body.known_flags)}\n"
    out += _opt_line("flag-thresholds", body.flag_thresholds)
    out += "params " + " ".join(f"{k}={v}" for k, v in body.params) + "\n"
    out += (
        f"dir-source {a.nickname} {a.identity.hex().upper()} {a.hostname} {a.address} "
        f"{a.dir_port} {a.or_port}\n"
    )
    return out + _opt_line("contact", a.contact) + _shared_rand(body)


def _addr(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _flags(flags: frozenset[str]) -> str:
    """Known flags in tor's order, any others after them sorted (tor writes no others)."""
    ordered = [f for f in FLAG_ORDER if f in flags]
    return "".join(f" {f}" for f in ordered + sorted(flags - set(FLAG_ORDER)))


def _w_line(r: VoteRouter) -> str:
    if r.bandwidth is None:
        return ""
    measured = f" Measured={r.measured}" if r.measured is not None else ""
    return f"w Bandwidth={r.bandwidth}{measured}\n"


def format_vote_router(r: VoteRouter) -> str:
    """One entry, "r" through its "m" lines."""
    out = (
        f"r {r.nickname} {b64_nopad(r.identity)} {b64_nopad(r.descriptor_digest)} "
        f"{format_time(r.published)} {r.address} {r.or_port} {r.dir_port}\n"
    )
    out += "".join(f"a {_addr(a, p)}\n" for a, p in r.or_addresses)
    out += f"s{_flags(r.flags)}\n"
    out += _opt_line("v", r.version) + _opt_line("pr", r.protocols) + _w_line(r)
    out += _opt_line("p", r.policy_summary)
    ed = b64_nopad(r.ed25519_id) if r.ed25519_id is not None else "none"
    out += f"id ed25519 {ed}\n" + _opt_line("stats", r.stats)
    return out + "".join(
        f"m {','.join(map(str, methods))} sha256={b64_nopad(digest)}\n"
        for methods, digest in r.microdescs
    )


def build_unsigned_vote(body: VoteBody, cert_text: str) -> str:
    """The vote through "directory-footer\\n" (no signature item)."""
    routers = "".join(format_vote_router(r) for r in body.routers)
    return _preamble(body) + cert_text + routers + "directory-footer\n"


def build_vote(body: VoteBody, cert_text: str, signing_key: RsaPrivate) -> str:
    """The signed vote; `cert_text` is the authority certificate naming `signing_key`."""
    cert = parse_authority_cert(cert_text)
    skd = signing_key.public().fingerprint()
    if skd != cert.signing_key_digest:
        raise ValueError("signing key does not match the certificate")
    text = build_unsigned_vote(body, cert_text) + "directory-signature "
    signature = signing_key.sign_raw(sha1(text.encode()))
    text += f"{cert.identity.hex().upper()} {skd.hex().upper()}\n"
    return text + format_object("SIGNATURE", signature)
