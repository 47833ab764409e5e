"""The "bandwidth-weights" line (dir-spec 3.8.3).

tor's networkstatus_compute_bw_weights_v10 (src/feature/dirauth/dirvote.c), in
64-bit integer arithmetic with C's truncating division. G, M, E, D are the
consensus bandwidths (kB/s) of Guard-only, neither, Exit-only and Guard+Exit
routers (BadExit routers do not count as exits), T their sum; tor starts each of
G, M, E, D at 1 (and T at 4) so nothing divides by zero. The cases:

1. neither Guard nor Exit scarce (E >= T/3 and G >= T/3);
2. both scarce: a. R+D < S (R, S the smaller, larger of E and G); b. otherwise,
   trying 2b1, then 2b2, then 2b3;
3. one scarce: a. S+D < T/3; b. otherwise (3bg: G scarce, 3be: E scarce).

When a case's weights fail the balance checks, or a total is not positive, tor
writes no bandwidth-weights line at all; `compute_weights` then returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.dirauth.consensus.tally import c_div, int32

BW_WEIGHT_SCALE = 10000
"""Default of the "bwweightscale" consensus parameter."""
_MARGIN = 10

_NO_ERROR, _RANGE, _SUMG, _SUME, _SUMD, _BALANCE_MID, _BALANCE_EG = range(7)


@dataclass
class Totals:
    """G, M, E, D, T as tor accumulates them (update_total_bandwidth_weights)."""

    G: int = 1  # noqa: N815 - the spec's names
    M: int = 1  # noqa: N815
    E: int = 1  # noqa: N815
    D: int = 1  # noqa: N815
    T: int = 4  # noqa: N815

    def add(self, bandwidth: int, is_exit: bool, is_guard: bool) -> None:
        """Count one listed router's consensus bandwidth."""
        bw = int32(bandwidth)
        self.T += bw
        if is_exit and is_guard:
            self.D += bw
        elif is_exit:
            self.E += bw
        elif is_guard:
            self.G += bw
        else:
            self.M += bw


@dataclass
class _W:
    """The seven independent weights."""

    gg: int = -1
    gd: int = -1
    mg: int = -1
    me: int = -1
    md: int = -1
    ed: int = -1
    ee: int = -1


def _close(a: int, b: int, margin: int) -> bool:
    return abs(a - b) <= margin


def _check(w: _W, scale: int, t: Totals) -> int:
    """networkstatus_check_weights with margin 10 and balancing."""
    if not _close(w.ed + w.md + w.gd, scale, _MARGIN):
        return _SUMD
    if not _close(w.mg + w.gg, scale, _MARGIN):
        return _SUMG
    if not _close(w.me + w.ee, scale, _MARGIN):
        return _SUME
    if not all(0 <= x <= scale for x in (w.gg, w.gd, w.mg, w.me, w.md, w.ed, w.ee)):
        return _RANGE
    margin = c_div(_MARGIN * t.T, 3)
    if not _close(w.gg * t.G + w.gd * t.D, w.ee * t.E + w.ed * t.D, margin):
        return _BALANCE_EG
    mid = t.M * scale + w.md * t.D + w.me * t.E + w.mg * t.G
    if not _close(w.gg * t.G + w.gd * t.D, mid, margin):
        return _BALANCE_MID
    return _NO_ERROR


def _case1(s: int, t: Totals) -> _W | None:
    w = _W(gd=c_div(s, 3), ed=c_div(s, 3), md=c_div(s, 3))
    w.ee = c_div(s * (t.E + t.G + t.M), 3 * t.E)
    w.me = s - w.ee
    w.mg = c_div(s * (2 * t.G - t.E - t.M), 3 * t.G)
    w.gg = s - w.mg
    return w if _check(w, s, t) == _NO_ERROR else None


def _case2(s: int, t: Totals) -> _W | None:
    r, big = min(t.E, t.G), max(t.E, t.G)
    if r + t.D < big:
        e_scarce = t.E < t.G
        return _W(gg=s, ee=s, mg=0, me=0, md=0, ed=s if e_scarce else 0, gd=0 if e_scarce else s)
    w = _W(gg=s, mg=0)
    w.ee = c_div(s * (t.E - t.G + t.M), t.E)
    w.ed = c_div(s * (t.D - 2 * t.E + 4 * t.G - 2 * t.M), 3 * t.D)
    w.me = c_div(s * (t.G - t.M), t.E)
    w.md = w.gd = c_div(s - w.ed, 2)
    err = _check(w, s, t)
    if err != _NO_ERROR:
        w = _W(gg=s, ee=s, me=0, mg=0)
        w.ed = c_div(s * (t.D - 2 * t.E + t.G + t.M), 3 * t.D)
        w.md = max(c_div(s * (t.D - 2 * t.M + t.G + t.E), 3 * t.D), 0)
        w.gd = s - w.ed - w.md
        err = _check(w, s, t)
    return w if err in (_NO_ERROR, _BALANCE_MID) else None


def _case3(s: int, t: Totals) -> _W | None:
    small = min(t.E, t.G)
    if 3 * (small + t.D) < t.T:
        if t.G < t.E:
            me = 0 if t.E < t.M else c_div(s * (t.E - t.M), 2 * t.E)
            return _W(gg=s, gd=s, md=0, ed=0, mg=0, me=me, ee=s - me)
        mg = 0 if t.G < t.M else c_div(s * (t.G - t.M), 2 * t.G)
        return _W(ee=s, ed=s, md=0, gd=0, me=0, mg=mg, gg=s - mg)
    if t.G < t.E:
        w = _W(gg=s, mg=0)
        w.gd = c_div(s * (t.D - 2 * t.G + t.E + t.M), 3 * t.D)
        w.ee = c_div(s * (t.E + t.M), 2 * t.E)
        w.me = s - w.ee
        w.md = w.ed = c_div(s - w.gd, 2)
    else:
        w = _W(ee=s, me=0)
        w.ed = c_div(s * (t.D - 2 * t.E + t.G + t.M), 3 * t.D)
        w.gg = c_div(s * (t.G + t.M), 2 * t.G)
        w.mg = s - w.gg
        w.md = w.gd = c_div(s - w.ed, 2)
    return w if _check(w, s, t) == _NO_ERROR else None


def compute_weights(t: Totals, scale: int = BW_WEIGHT_SCALE) -> str | None:
    """The "bandwidth-weights ...\\n" line, or None where tor writes none."""
    if min(t.G, t.M, t.E, t.D) <= 0:
        return None
    if 3 * t.E >= t.T and 3 * t.G >= t.T:
        w = _case1(scale, t)
    elif 3 * t.E < t.T and 3 * t.G < t.T:
        w = _case2(scale, t)
    else:
        w = _case3(scale, t)
    if w is None:
        return None
    values = {
        "Wbd": w.md, "Wbe": w.me, "Wbg": w.mg, "Wbm": scale, "Wdb": scale,
        "Web": scale, "Wed": w.ed, "Wee": w.ee, "Weg": w.ed, "Wem": w.ee,
        "Wgb": scale, "Wgd": w.gd, "Wgg": w.gg, "Wgm": w.gg,
        "Wmb": scale, "Wmd": w.md, "Wme": w.me, "Wmg": w.mg, "Wmm": scale,
    }  # fmt: skip
    return "bandwidth-weights " + " ".join(f"{k}={int32(v)}" for k, v in values.items()) + "\n"
