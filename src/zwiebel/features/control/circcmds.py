"""Commands that steer circuits, streams and addresses (control-spec 3.8-3.14, 3.23,
3.27): MAPADDRESS, EXTENDCIRCUIT, SETCIRCUITPURPOSE, ATTACHSTREAM, REDIRECTSTREAM,
RESOLVE and DROPGUARDS, with the reply codes and wording of tor's ``control_cmd.c``.

Not here: the CONTROLLER purpose's other uses (circuits with it are never given
streams automatically, as in tor) and detaching a stream that already sent BEGIN
(ATTACHSTREAM accepts only streams waiting in CONTROLLER_WAIT; others get 555).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import TYPE_CHECKING

from zwiebel.control.addrmap import AddressMapError, is_invalid_map_target
from zwiebel.control.args import Arguments, Syntax
from zwiebel.control.grammar import Command
from zwiebel.control.reply import ReplyLine, ok, reply
from zwiebel.managers.circuits import CircuitManager
from zwiebel.managers.events import AddrMapEvent
from zwiebel.managers.trackers import StreamRecord
from zwiebel.netdir.relay import RelayInfo
from zwiebel.runtime.circuit import Circuit, CircuitError
from zwiebel.runtime.clock import randbelow
from zwiebel.runtime.stream import StreamClosed

if TYPE_CHECKING:
    from zwiebel.features.control.connection import ControlConnection

log = logging.getLogger("zwiebel")
PURPOSES = {"general": "GENERAL", "controller": "CONTROLLER"}
_VIRTUAL_KINDS = {".": "hostname", "0.0.0.0": "ipv4", "::": "ipv6"}

MAPADDRESS_SYNTAX = Syntax(max_args=0, keywords=True)
EXTENDCIRCUIT_SYNTAX = Syntax(min_args=1, max_args=1, keywords=True, omit_vals=True)
SETCIRCUITPURPOSE_SYNTAX = Syntax(max_args=1, keywords=True)
ATTACHSTREAM_SYNTAX = Syntax(min_args=2, max_args=2, keywords=True)
REDIRECTSTREAM_SYNTAX = Syntax(min_args=2, max_args=None)
RESOLVE_SYNTAX = Syntax(max_args=0, keywords=True, omit_vals=True)
DROPGUARDS_SYNTAX = Syntax(max_args=0)


def _find_kw(args: Arguments, name: str) -> str | None:
    """config_line_find_case: the first value of keyword ``name``."""
    return next((v or "" for k, v in args.pairs if k.lower() == name.lower()), None)


def _purpose(value: str) -> str | None:
    """circuit_purpose_from_string (``purpose=`` may repeat inside the value)."""
    if value.lower().startswith("purpose="):
        value = value[len("purpose="):]
    return PURPOSES.get(value.lower())


# -- MAPADDRESS ------------------------------------------------------------------------


def mapaddress(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """MAPADDRESS from=to ...: one reply line per mapping (control-spec 3.8)."""
    lines = [_map_one(conn, source, target or "") for source, target in args.pairs]
    if not lines:
        return reply(512, "syntax error: not enough arguments to mapaddress.")
    return lines


def _map_one(conn: ControlConnection, source: str, target: str) -> ReplyLine:
    circuits = conn.service.host.circuits
    amap = circuits.addressmap
    if is_invalid_map_target(target):
        log.warning("Skipping invalid argument '%s' in MapAddress msg", target)
        return ReplyLine(512, f"syntax error: invalid address '{target}'")
    kind = _VIRTUAL_KINDS.get(source)
    if kind is not None:
        address = amap.register_virtual(kind, target, randbelow)
        if address is None:
            log.warning("Unable to allocate address for '%s' in MapAddress msg", target)
            return ReplyLine(451, f"resource exhausted: skipping '{source}={target}'")
        circuits.events.emit(AddrMapEvent(address, target, cached=True))
        return ReplyLine(250, f"{address}={target}")
    try:
        mapping = amap.register(source, target)
    except AddressMapError as exc:
        log.warning("Skipping invalid argument '%s=%s' in MapAddress msg: %s",
                    source, target, exc)
        return ReplyLine(512, f"syntax error: invalid address mapping  '{source}={target}'"
                              f": {exc}")
    if mapping is not None:
        circuits.events.emit(AddrMapEvent(source, target, cached=True))
    return ReplyLine(250, f"{source}={target}")


# -- EXTENDCIRCUIT / SETCIRCUITPURPOSE ---------------------------------------------------


def _split_path(args: Arguments) -> tuple[str | None, tuple[tuple[str, str | None], ...]]:
    """The optional path (first keyword without a value, or ``$X=nick`` of old) and
    the remaining keywords."""
    pairs = args.pairs
    if pairs and pairs[0][1] is None:
        return pairs[0][0], pairs[1:]
    if pairs and pairs[0][0].startswith("$"):
        return f"{pairs[0][0]}={pairs[0][1]}", pairs[1:]
    return None, pairs


def extendcircuit(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """EXTENDCIRCUIT id [path] [purpose=...]: replies ``250 EXTENDED id`` at once."""
    circuits = conn.service.host.circuits
    path_text, rest = _split_path(args)
    purpose = "GENERAL"
    wanted = _find_kw(Arguments((), rest), "PURPOSE")
    if wanted is not None:
        chosen = _purpose(wanted)
        if chosen is None:
            return reply(552, f'Unknown purpose "{wanted}"')
        purpose = chosen
    circ_id = args.words[0]
    zero = circ_id == "0"
    if zero and path_text is None:
        return reply(250, f"EXTENDED {circuits.controlled.launch(None, purpose)}")
    circuit = None if zero else circuits.controlled.find(circ_id)
    if not zero and circuit is None:
        return reply(552, f'Unknown circuit "{circ_id}"')
    if path_text is None:
        return reply(512, "syntax error: path required.")
    path, problem = _relays(conn, path_text)
    if problem:
        return problem
    if not path:
        return reply(512, "No router names provided")
    if circuit is None:
        return reply(250, f"EXTENDED {circuits.controlled.launch(path, purpose)}")
    if not circuits.controlled.is_built(circuit):
        return reply(551, "Couldn't send onion skin")
    circuits.controlled.extend(circuit, path)
    return reply(250, f"EXTENDED {circuit.global_id}")


def _relays(conn: ControlConnection, text: str
            ) -> tuple[list[RelayInfo], list[ReplyLine]]:
    """The relays a path names, or tor's 552 for the first it cannot use."""
    netdir = conn.service.host.directory.netdir
    relays: list[RelayInfo] = []
    for name in (n for n in text.split(",") if n):
        relay = netdir.lookup(name) if netdir is not None else None
        if relay is None:
            return [], reply(552, f'No such router "{name}"')
        if relay.ntor_onion_key is None:
            return [], reply(552, f'No descriptor for "{name}"')
        relays.append(relay)
    return relays, []


def setcircuitpurpose(conn: ControlConnection, cmd: Command, args: Arguments
                      ) -> list[ReplyLine]:
    """SETCIRCUITPURPOSE id purpose=...: GENERAL or CONTROLLER."""
    circ_id = args.words[0] if args.words else ""
    circuit = conn.service.host.circuits.controlled.find(circ_id)
    if circuit is None:
        return reply(552, f'Unknown circuit "{circ_id}"')
    wanted = _find_kw(args, "PURPOSE")
    if wanted is None:
        return reply(552, "No purpose given")
    purpose = _purpose(wanted)
    if purpose is None:
        return reply(552, f'Unknown purpose "{wanted}"')
    circuit.purpose = purpose
    return ok()


# -- streams -------------------------------------------------------------------------------


def _stream(conn: ControlConnection, stream_id: str) -> StreamRecord | None:
    streams = conn.service.host.circuits.stream_events.streams
    return streams.get(int(stream_id)) if stream_id.isdigit() else None


def attachstream(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """ATTACHSTREAM stream circuit [HOP=n]: send a waiting stream's BEGIN there."""
    for key, _ in args.pairs:
        if key.upper() != "HOP":
            return reply(512, f"Bad arguments to ATTACHSTREAM: Unrecognized keyword "
                              f"argument {key}")
    stream_id, circ_id = args.words
    record = _stream(conn, stream_id)
    if record is None:
        return reply(552, f'Unknown stream "{stream_id}"')
    circuit = None
    if circ_id != "0":
        circuit = conn.service.host.circuits.controlled.find(circ_id)
        if circuit is None:
            return reply(552, f'Unknown circuit "{circ_id}"')
    hop_text = _find_kw(args, "HOP")
    hop = 0
    if circuit is not None and hop_text is not None:
        if not hop_text.isdigit():
            return reply(552, f"Bad value hop={hop_text}")
        hop = int(hop_text)
    if record.waiting is None or record.waiting.done():
        return reply(555, "Connection is not managed by controller.")
    problem = _attach_problem(conn, circuit, hop)
    if problem:
        return problem
    record.waiting.set_result((circuit, hop - 1 if hop > 0 else -1))
    return ok()


def _attach_problem(conn: ControlConnection, circuit: Circuit | None, hop: int
                    ) -> list[ReplyLine]:
    if circuit is None:
        return []
    if not conn.service.host.circuits.controlled.is_built(circuit):
        return reply(551, "Can't attach stream to non-open origin circuit")
    if len(circuit.path) < 2 or hop == 1:
        return reply(551, "Can't attach stream to this one-hop circuit.")
    if hop > len(circuit.path):
        return reply(551, f"Circuit doesn't have {hop} hops.")
    return []


def redirectstream(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """REDIRECTSTREAM stream address [port]: change where a stream will connect."""
    record = _stream(conn, args.words[0])
    if record is None or record.port == 0:
        return reply(552, f'Unknown stream "{args.words[0]}"')
    port = record.port
    if len(args.words) > 2:
        text = args.words[2]
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            return reply(512, f'Cannot parse port "{text}"')
        port = int(text)
    record.address, record.port = args.words[1], port
    return ok()


def resolve(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """RESOLVE [mode=reverse] name...: answers come as ADDRMAP events."""
    if "ADDRMAP" not in conn.events:
        log.warning("Controller asked us to resolve an address, but isn't listening for "
                    "ADDRMAP events.  It probably won't see the answer.")
    mode = _find_kw(args, "mode")
    reverse = mode is not None and mode.lower() == "reverse"
    names = [key for key, value in args.pairs if not value]
    conn.after_reply(lambda: conn.service.resolver.start(names, reverse))
    return ok()


_warned_dropguards = [False]


def dropguards(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """DROPGUARDS: forget every entry guard."""
    if not _warned_dropguards[0]:
        log.warning("DROPGUARDS is dangerous; make sure you understand the risks before "
                    "using it. It may be removed in a future version of Tor.")
        _warned_dropguards[0] = True
    conn.service.host.circuits.drop_guards()
    return ok()


class Resolver:
    """RESOLVE's background lookups (tor's dnsserv_launch_request for a controller);
    each answer goes out as an ADDRMAP event from the circuit manager."""

    def __init__(self, circuits: CircuitManager) -> None:
        self.circuits = circuits
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, names: list[str], reverse: bool) -> None:
        """Launch one lookup per name."""
        loop = asyncio.get_running_loop()
        for name in names:
            task = loop.create_task(self._one(name, reverse))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _one(self, name: str, reverse: bool) -> None:
        query = name
        if reverse:
            with contextlib.suppress(ValueError):
                query = ipaddress.ip_address(name).reverse_pointer
        try:
            await self.circuits.resolve(name, ("controller-resolve",), query)
        except (StreamClosed, CircuitError, OSError, TimeoutError) as exc:
            log.info("RESOLVE of a name failed: %s", exc)
