"""The consensus preamble and authority section (dir-spec 3.8, 3.4.1).

Everything above the first "r" line, as tor's networkstatus_compute_consensus
(src/feature/dirauth/dirvote.c) writes it:

* times and voting delays: low medians over the votes;
* client-/server-versions: versions listed by more than half of the votes that
  list versions at all (compute_consensus_versions_list);
* known-flags: every flag any vote knows, plus "NoEdConsensus";
* the four protocol lines: protover vote with thresholds ceil(n/2) (recommended)
  and ceil(2n/3) (required), n = the number of authorities;
* params: the low median of each parameter that more than half of the authorities,
  or at least 3 votes, set (dirvote_compute_params);
* shared-rand-previous/current-value: the most common value among participating
  votes if a majority of authorities agree (sr_get_string_for_consensus,
  src/feature/dirauth/shared_random.c);
* one dir-source/contact/vote-digest block per vote, sorted by identity.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from zwiebel.dirauth.consensus.protover import compute_protocol_vote
from zwiebel.dirauth.consensus.tally import frequent_members, low_median, most_frequent
from zwiebel.dirauth.consensus.versions import sort_versions
from zwiebel.netdoc.vote import SharedRandValue, Vote

MIN_VOTES_FOR_PARAM = 3

_PROTOCOL_LINES = (
    ("recommended-client-protocols", "recommended_client_protocols", False),
    ("recommended-relay-protocols", "recommended_relay_protocols", False),
    ("required-client-protocols", "required_client_protocols", True),
    ("required-relay-protocols", "required_relay_protocols", True),
)


def iso_time(when: datetime) -> str:
    """dir-spec's "YYYY-MM-DD HH:MM:SS" (UTC)."""
    return when.strftime("%Y-%m-%d %H:%M:%S")


def median_time(times: Sequence[datetime]) -> datetime:
    """Low median of datetimes (tor's median_time)."""
    ordered = sorted(times)
    return ordered[(len(ordered) - 1) // 2]


def versions_line(lists: Sequence[tuple[str, ...] | None]) -> str:
    """The comma-joined versions that more than half of the versioning votes list."""
    combined: list[str] = []
    voters = 0
    for versions in lists:
        if versions is None:
            continue
        voters += 1
        cleaned = [v.strip(" \t\r\n") for v in versions]
        combined += sort_versions([v for v in cleaned if v], remove_duplicates=True)
    return ",".join(frequent_members(sort_versions(combined), voters // 2))


def consensus_flags(votes: Sequence[Vote]) -> list[str]:
    """Sorted union of the votes' known-flags and "NoEdConsensus"."""
    flags = {flag for vote in votes for flag in vote.body.known_flags}
    flags.add("NoEdConsensus")
    return sorted(flags, key=str.encode)


def protocol_lines(votes: Sequence[Vote], n_authorities: int) -> str:
    """The four recommended/required protocol lines."""
    out = []
    for keyword, attr, required in _PROTOCOL_LINES:
        threshold = -(-n_authorities * 2 // 3) if required else -(-n_authorities // 2)
        lists = [getattr(v.body, attr) for v in votes if getattr(v.body, attr) is not None]
        out.append(f"{keyword} {compute_protocol_vote(lists, threshold)}\n")
    return "".join(out)


def compute_params(votes: Sequence[Vote], total_authorities: int) -> list[tuple[str, int]]:
    """dirvote_compute_params: (name, low median) in tor's order ("name=" byte order)."""
    by_name: dict[str, list[int]] = {}
    for vote in votes:
        for name, value in vote.body.params:
            by_name.setdefault(name, []).append(value)
    out = []
    for name in sorted(by_name, key=lambda n: (n + "=").encode()):
        values = by_name[name]
        if len(values) > total_authorities // 2 or len(values) >= MIN_VOTES_FOR_PARAM:
            out.append((name, low_median(values)))
    return out


def param_value(params: Sequence[tuple[str, int]], name: str, default: int) -> int:
    """dirvote_get_intermediate_param_value over the consensus params."""
    found = [value for key, value in params if key == name]
    return found[0] if len(found) == 1 else default


def params_line(params: Sequence[tuple[str, int]]) -> str:
    """The "params" line, or nothing when no parameter made it."""
    if not params:
        return ""
    return "params " + " ".join(f"{name}={value}" for name, value in params) + "\n"


def _majority_srv(
    votes: Sequence[Vote], current: bool, n_authorities: int, agreements: int, fresh: bool
) -> SharedRandValue | None:
    """get_majority_srv_from_votes + should_keep_srv."""
    found = [
        (v.body.sr_current if current else v.body.sr_previous)
        for v in votes
        if v.body.sr_participate
    ]
    values = sorted((s for s in found if s is not None), key=lambda s: s.value)
    best = most_frequent(values, lambda a, b: a.value == b.value)
    if best is None:
        return None
    count = sum(1 for s in values if s.value == best.value)
    if count < n_authorities // 2 + 1 or (fresh and count < agreements):
        return None
    return best


def shared_rand_lines(
    votes: Sequence[Vote], n_authorities: int, params: Sequence[tuple[str, int]], fresh: bool
) -> str:
    """ "shared-rand-previous-value" and "shared-rand-current-value" lines, if agreed."""
    agreements = param_value(params, "AuthDirNumSRVAgreements", n_authorities * 2 // 3)
    out = []
    for keyword, current in (("previous", False), ("current", True)):
        srv = _majority_srv(votes, current, n_authorities, agreements, fresh)
        if srv is not None:
            value = base64.b64encode(srv.value).decode()
            out.append(f"shared-rand-{keyword}-value {srv.num_reveals} {value}\n")
    return "".join(out)


def authority_section(votes: Sequence[Vote]) -> str:
    """dir-source, contact, vote-digest for each vote, sorted by the voter's identity."""
    out = []
    for vote in sorted(votes, key=lambda v: v.body.authority.identity):
        a = vote.body.authority
        out.append(
            f"dir-source {a.nickname} {a.identity.hex().upper()} {a.hostname} {a.address} "
            f"{a.dir_port} {a.or_port}\n"
            # tor prints a missing contact with printf's "%s" of NULL: "(null)".
            f"contact {a.contact if a.contact is not None else '(null)'}\n"
            f"vote-digest {vote.digest.hex().upper()}\n"
        )
    return "".join(out)
