"""Event lines as tor 0.4.9 formats them (control_events.c, control_fmt.c)."""

from __future__ import annotations

import datetime as dt

from zwiebel.control import events as ev
from zwiebel.control.status import StatusEntry, listener_list, ns_entry

WHEN = dt.datetime(2025, 11, 22, 5, 3, 1, 250000)
FP = "A" * 40


def test_circ_event() -> None:
    path = [ev.relay_name(FP, "relay0"), ev.relay_name("B" * 40, None)]
    desc = ev.circ_description(path, "GENERAL", WHEN)
    assert ev.circ_event(3, "BUILT", desc) == (
        f"CIRC 3 BUILT ${FP}~relay0,${'B' * 40} PURPOSE=GENERAL "
        "TIME_CREATED=2025-11-22T05:03:01.250000")
    closed = ev.circ_event(3, "CLOSED", desc, remote_reason="FINISHED")
    assert closed.endswith(" REASON=DESTROYED REMOTE_REASON=FINISHED")
    assert ev.circ_event(4, "LAUNCHED", ev.circ_description([], "GENERAL", WHEN)).startswith(
        "CIRC 4 LAUNCHED PURPOSE=GENERAL ")


def test_stream_orconn_bw_status_signal() -> None:
    assert ev.stream_event(7, "NEW", 0, "127.0.0.1:80", purpose="USER") == (
        "STREAM 7 NEW 0 127.0.0.1:80 PURPOSE=USER")
    closed = ev.stream_event(7, "CLOSED", 2, "h:1", reason="DONE")
    assert closed == "STREAM 7 CLOSED 2 h:1 REASON=DONE"
    assert ev.orconn_event(f"${FP}", "CLOSED", 5, "DONE", 2) == (
        f"ORCONN ${FP} CLOSED REASON=DONE NCIRCS=2 ID=5")
    assert ev.orconn_event(f"${FP}", "CONNECTED", 5) == f"ORCONN ${FP} CONNECTED ID=5"
    assert ev.bw_event(10, 20) == "BW 10 20"
    assert ev.status_event("CLIENT", "NOTICE", "CIRCUIT_ESTABLISHED") == (
        "STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED")
    assert ev.signal_event("NEWNYM") == "SIGNAL NEWNYM"
    assert ev.log_event("warn", "two\nlines") == "WARN two lines"


def test_event_framing() -> None:
    assert ev.event_bytes("BW 1 2") == b"650 BW 1 2\r\n"
    text = ev.conf_changed_event([("ContactInfo", "x"), ("Nickname", None)])
    assert ev.event_bytes(text) == (
        b"650-CONF_CHANGED\r\n650-ContactInfo=x\r\n650-Nickname\r\n650 OK\r\n")


def test_ns_entry_controller_format() -> None:
    entry = StatusEntry("relay0", bytes(range(20)), None, "127.0.0.1", 21020, 0,
                        frozenset({"Valid", "Running", "Fast"}), 1000)
    assert ns_entry(entry) == (
        "r relay0 AAECAwQFBgcICQoLDA0ODxAREhM AAAAAAAAAAAAAAAAAAAAAAAAAAA "
        "2038-01-01 00:00:00 127.0.0.1 21020 0\ns Fast Running Valid\nw Bandwidth=1000\n")
    assert listener_list(["127.0.0.1:9050"]) == '"127.0.0.1:9050"'
