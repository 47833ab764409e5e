"""The progress bar, the demo's path helpers and the `zwiebel testnet` argument parser."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from tests.unit.testnet.support import fake_launcher
from zwiebel.testnet.cli import build_parser, main
from zwiebel.testnet.demo import _stream_circuit, circuit_hops, describe_shape, format_path
from zwiebel.testnet.impls import parse_roles
from zwiebel.testnet.launcher import LaunchOptions
from zwiebel.testnet.progress import ProgressBar, bar, overall


def test_bar_and_phase_slices() -> None:
    assert bar(0, 10) == "[..........]   0%"
    assert bar(55, 10) == "[#####.....]  55%"
    assert bar(140, 10) == "[##########] 100%"
    assert (overall("keys", 0), overall("keys", 1)) == (0, 10)
    assert overall("consensus", 0.5) == 40
    assert overall("clients", 1.0) == 100


def test_progress_on_a_pipe_prints_only_changes() -> None:
    out = io.StringIO()
    progress = ProgressBar(out, prefix="> ", tty=False)
    progress.update("consensus", 0.0, "0/5 relays listed")
    progress.update("consensus", 0.0, "0/5 relays listed")
    progress.update("consensus", 1.0, "5/5 relays listed")
    progress.finish("up in 3.0 s")
    assert out.getvalue().splitlines() == [
        "> [######........................]  20% consensus: 0/5 relays listed",
        "> [##################............]  60% consensus: 5/5 relays listed",
        "> up in 3.0 s",
    ]


def test_progress_on_a_terminal_redraws_one_line() -> None:
    out = io.StringIO()
    progress = ProgressBar(out, prefix="", tty=True)
    progress.update("clients", 0.5, "client0 50% Loading relay descriptors")
    progress.update("clients", 1.0, "client0 100% Done")
    progress.finish("done")
    text = out.getvalue()
    assert text.count("\n") == 2 and text.count("\r") == 2
    first, second = text.split("\r")[1:]
    assert second.startswith("[##############################] 100% clients: client0 100% Done")
    assert len(second.split("\n")[0]) >= len(first)  # padded over the longer line


STREAMS = "7 SUCCEEDED 3 127.0.0.2:41234\n8 NEW 0 127.0.0.2:41234"
CIRCUITS = ("2 BUILT $AA~relay0,$BB~relay1 PURPOSE=GENERAL\n"
            "3 BUILT $0000000000000000000000000000000000000004~relay1,"
            "$0000000000000000000000000000000000000003~relay0,"
            "$0000000000000000000000000000000000000005~exit0 BUILD_FLAGS=NEED_CAPACITY")


def test_stream_and_circuit_lookup() -> None:
    assert _stream_circuit(STREAMS, "127.0.0.2:41234") == "3"
    assert _stream_circuit(STREAMS, "127.0.0.2:1") is None
    assert _stream_circuit("8 NEW 0 127.0.0.2:41234", "127.0.0.2:41234") is None
    hops = circuit_hops(CIRCUITS, "3")
    assert len(hops) == 3 and hops[2].endswith("~exit0")
    assert circuit_hops(CIRCUITS, "9") == []


def test_format_path_uses_our_names(tmp_path: Path) -> None:
    record = fake_launcher(tmp_path).record()
    fps = {n.name: n.fingerprint for n in record.nodes}
    hops = [f"${fps['relay1']}~relay1", f"${fps['auth2']}", f"${fps['exit0']}=exit0"]
    assert format_path(record, hops) == "relay1 (guard) -> auth2 (middle) -> exit0 (exit)"
    assert format_path(record, []) == "(not observed)"


def test_describe_shape() -> None:
    opts = LaunchOptions(Path("/x"), 27800, 1, 3, 1, 1, parse_roles("authority,relay,exit"))
    assert describe_shape(opts) == ("1 authority (tor), 3 relays (tor), 1 exit (tor), "
                                    "1 client (zwiebel)")
    mixed = replace(opts, authorities=3, real_tor=frozenset(), mixed=True)
    assert describe_shape(mixed).startswith("3 authorities (tor+zwiebel), 3 relays (tor+zwiebel)")


def test_parser_defaults_and_options() -> None:
    args = build_parser().parse_args(["up", "net"])
    assert (args.authorities, args.relays, args.exits, args.clients) == (3, 3, 1, 1)
    assert (args.real_tor, args.mixed, args.base_port, args.timeout) == ("", False, 24000, 300.0)
    args = build_parser().parse_args(["demo", "--real-tor", "authority,relay,exit",
                                      "--size-mb", "2", "--mixed"])
    assert (args.real_tor, args.size_mb, args.mixed) == ("authority,relay,exit", 2, True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "net", "--authorities", "2"])


def test_bad_roles_are_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["up", "net", "--real-tor", "middle"])
    assert exc.value.code == 2


def test_status_of_a_missing_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(tmp_path)]) == 1
    assert "zwiebel testnet status failed" in capsys.readouterr().out
