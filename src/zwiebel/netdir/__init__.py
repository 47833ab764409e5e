"""zwiebel.netdir: the network as a client sees it (path-spec 2, guard-spec, dir-spec 3.8.3).

What it does:
- `RelayInfo` (relay.py): one relay, merged from the consensus entry and its
  microdescriptor or server descriptor; `relays_from_documents` (adapter.py) builds them
  from zwiebel.netdoc documents.
- `NetDir` (netdir.py): the relays with the consensus params and bandwidth weights;
  lookups; per-position selection weights (weights.py, dir-spec 3.8.3).
- Path selection (path.py, restrict.py): `choose_path` and the per-position choosers,
  with the rules of path-spec 2.2 (distinct relays, /16, mutual family, torrc node sets).
- Guards (guards.py, guard_params.py): guard-spec's sampled/filtered/confirmed/primary
  sets, retry schedule, and their "Guard" lines in the state file (`zwiebel.state`).

Design notes: pure code, no I/O, no clock, no `random`.  Time is a timezone-aware
datetime argument and randomness an injected ``randbelow(n)`` (`Rng`), so every choice
is reproducible in tests.  Path selection reads only `RelayInfo`, never netdoc types.
Weights are exact integers (tor uses doubles; the distribution is the same).

Deliberately not here: fetching or caching directory documents; circuit building and
the upgrade of circuits waiting for a better guard (managers/); bridges; vanguards;
happy-family IDs (proposal 321); conflux path rules; HS-specific path rules; path bias
accounting (its counters are only carried through the state file).  Each module's
docstring lists where it simplifies tor.
"""

from zwiebel.netdir.guard_params import GuardParams, retry_delay
from zwiebel.netdir.guards import CircState, Guard, GuardContext, GuardSelection, Reachable
from zwiebel.netdir.netdir import NetDir
from zwiebel.netdir.path import (
    LONG_LIVED_PORTS,
    NoPathError,
    Purpose,
    choose_entry,
    choose_exit,
    choose_middle,
    choose_path,
)
from zwiebel.netdir.relay import (
    AddressPolicy,
    ExitPolicyLike,
    PortPolicy,
    RelayInfo,
    in_same_family,
    in_same_network,
)
from zwiebel.netdir.restrict import NameSet, PathRestrictions, RouterSetLike
from zwiebel.netdir.weights import Position, Rng, choose_weighted

__all__ = [
    "LONG_LIVED_PORTS",
    "AddressPolicy",
    "CircState",
    "ExitPolicyLike",
    "Guard",
    "GuardContext",
    "GuardParams",
    "GuardSelection",
    "NameSet",
    "NetDir",
    "NoPathError",
    "PathRestrictions",
    "PortPolicy",
    "Position",
    "Purpose",
    "Reachable",
    "RelayInfo",
    "Rng",
    "RouterSetLike",
    "choose_entry",
    "choose_exit",
    "choose_middle",
    "choose_path",
    "choose_weighted",
    "in_same_family",
    "in_same_network",
    "retry_delay",
]
