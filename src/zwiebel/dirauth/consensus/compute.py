"""Computing the unsigned consensus text from votes (dir-spec 3.8, 3.9).

The order of the document follows tor's networkstatus_compute_consensus
(src/feature/dirauth/dirvote.c): preamble, protocol lines, params, shared random
values, the authority section, the router entries, "directory-footer" and
"bandwidth-weights". What is returned ends there: the signed portion also covers
the following "directory-signature " (sign.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.dirauth.consensus import preamble
from zwiebel.dirauth.consensus.collate import collate
from zwiebel.dirauth.consensus.entry import Flavor, format_entry
from zwiebel.dirauth.consensus.method import method_for
from zwiebel.dirauth.consensus.routers import RouterContext, naming_map, vote_router
from zwiebel.dirauth.consensus.tally import low_median, uint32
from zwiebel.dirauth.consensus.weights import BW_WEIGHT_SCALE, Totals, compute_weights
from zwiebel.netdoc.vote import Vote

DEFAULT_MAX_UNMEASURED_BW_KB = 20
"""Default of the "maxunmeasuredbw" consensus parameter."""


def _header(votes: Sequence[Vote], flavor: Flavor, method: int, flags: Sequence[str]) -> str:
    bodies = [v.body for v in votes]
    t = preamble.iso_time
    return (
        f"network-status-version 3{'' if flavor == 'ns' else ' ' + flavor}\n"
        "vote-status consensus\n"
        f"consensus-method {method}\n"
        f"valid-after {t(preamble.median_time([b.valid_after for b in bodies]))}\n"
        f"fresh-until {t(preamble.median_time([b.fresh_until for b in bodies]))}\n"
        f"valid-until {t(preamble.median_time([b.valid_until for b in bodies]))}\n"
        f"voting-delay {low_median([b.voting_delay[0] for b in bodies])} "
        f"{low_median([b.voting_delay[1] for b in bodies])}\n"
        f"client-versions {preamble.versions_line([b.client_versions for b in bodies])}\n"
        f"server-versions {preamble.versions_line([b.server_versions for b in bodies])}\n"
        f"known-flags {' '.join(flags)}\n"
    )


def _context(
    votes: Sequence[Vote],
    flags: Sequence[str],
    method: int,
    total: int,
    params: list[tuple[str, int]],
) -> RouterContext:
    known = tuple(frozenset(v.body.known_flags) for v in votes)
    max_unmeasured = uint32(
        preamble.param_value(params, "maxunmeasuredbw", DEFAULT_MAX_UNMEASURED_BW_KB)
    )
    return RouterContext(
        flags=tuple(flags),
        flag_voters={f: sum(f in k for k in known) for f in flags},
        known=known,
        total_authorities=total,
        method=method,
        n_measuring=sum(any(r.measured is not None for r in v.body.routers) for v in votes),
        max_unmeasured=max(max_unmeasured, 1),
        names=naming_map(votes),
    )


def _routers(votes: Sequence[Vote], ctx: RouterContext, flavor: Flavor) -> tuple[str, Totals]:
    totals = Totals()
    out = []
    for collated in collate([v.body.routers for v in votes], ctx.total_authorities):
        outcome = vote_router(collated, ctx)
        if outcome is None:
            continue
        if outcome.bandwidth is not None:
            totals.add(outcome.bandwidth, outcome.is_exit, outcome.is_guard)
        text = format_entry(outcome, flavor, ctx.method)
        if text is not None:
            out.append(text)
    return "".join(out), totals


def compute_consensus(
    votes: Sequence[Vote],
    flavor: Flavor,
    *,
    total_authorities: int,
    method: int | None = None,
    srv_fresh: bool = False,
    shared_randomness: bool = True,
) -> str:
    """The unsigned consensus of `flavor`, through the "bandwidth-weights" line.

    `total_authorities`: the authorities this one knows (tor: get_n_authorities),
    at least len(votes). `method`: None for what the votes agree on (our highest if
    we do not support that). `srv_fresh`: this authority computed a new shared random
    value for this round (first round of a protocol run) and has not yet adopted a
    consensus; then a value needs "AuthDirNumSRVAgreements" votes (tor:
    sr_state_srv_is_fresh). `shared_randomness`: tor's AuthDirSharedRandomness.
    """
    if not votes:
        raise ValueError("no votes")
    if total_authorities < len(votes):
        raise ValueError("more votes than authorities")
    method = method_for(votes) if method is None else method
    flags = preamble.consensus_flags(votes)
    params = preamble.compute_params(votes, total_authorities)
    ordered = sorted(votes, key=lambda v: v.body.authority.identity)
    parts = [
        _header(votes, flavor, method, flags),
        preamble.protocol_lines(votes, total_authorities),
        preamble.params_line(params),
    ]
    if shared_randomness:
        parts.append(preamble.shared_rand_lines(votes, total_authorities, params, srv_fresh))
    parts.append(preamble.authority_section(ordered))
    ctx = _context(ordered, flags, method, total_authorities, params)
    routers, totals = _routers(ordered, ctx, flavor)
    parts += [routers, "directory-footer\n"]
    scale = max(preamble.param_value(params, "bwweightscale", BW_WEIGHT_SCALE), 1)
    parts.append(compute_weights(totals, scale) or "")
    return "".join(parts)
