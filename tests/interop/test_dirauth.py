"""Zwiebel as the directory authority of private networks (issue 5's must-shows).

Each network is brought up with `zwiebel testnet up` (three authorities, three
relays, one exit, one client) and carries a 10 MiB download from a file server on
127.0.0.2, compared byte for byte:

* three Zwiebel authorities with real tor relays, exit and client: the real tor
  nodes accept the Zwiebel consensus and use it;
* everything Zwiebel;
* mixed: every role split between real tor and Zwiebel, authorities included, so
  Zwiebel and tor authorities must compute and sign the same consensus.

Then uploads a Zwiebel authority must refuse (a bad signature, a stale published
time, a missing field) get 400 with the reason, and the authority keeps serving.
Ports: 29400-29999.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.testnet_cli import download, restarted, running_network
from zwiebel.cells.torcert import EdCertType
from zwiebel.crypto.ed25519_expanded import ExpandedEd25519Private
from zwiebel.crypto.keys import RsaPrivate, X25519Private
from zwiebel.features.relay.keys_certs import ntor_crosscert, sign_ed25519_cert, tap_crosscert
from zwiebel.netdoc.build.serverdesc import ServerDescriptorFields, build_server_descriptor
from zwiebel.runtime.dirfetch import fetch_dirport
from zwiebel.runtime.dirpost import post_dirport
from zwiebel.testnet.netfile import NetworkRecord

pytestmark = pytest.mark.interop

SIZE = 10 * 2**20


def _consensus(port: int) -> str:
    answer = asyncio.run(fetch_dirport("127.0.0.1", port,
                                       "/tor/status-vote/current/consensus"))
    assert answer.status == 200
    return answer.body.decode()


def test_real_tor_relays_and_client_use_a_consensus_of_three_zwiebel_authorities(
        tmp_path: Path) -> None:
    base = tmp_path / "net"
    with running_network(base, 29400, "--real-tor", "relay,exit,client") as record:
        impls = {n.name: n.impl for n in record.nodes}
        assert [impls[f"auth{i}"] for i in range(3)] == ["zwiebel"] * 3
        assert impls["client0"] == impls["exit0"] == "tor"
        text = _consensus(record.node("auth0").dir_port)
        assert len(re.findall(r"^directory-signature ", text, re.M)) >= 2
        assert len(re.findall(r"^r ", text, re.M)) == 7
        flags = re.findall(r"^s (.*)$", text, re.M)
        assert all({"Guard", "HSDir", "Running", "Valid"} <= set(s.split()) for s in flags)
        assert sum("Exit" in s.split() for s in flags) == 1
        assert "\nparams AuthDirMaxServersPerAddr=0 sendme_accept_min_version=1\n" in text
        download(base, record, SIZE)
        _refuses_bad_uploads(base, record)


def test_an_all_zwiebel_network_carries_a_download(tmp_path: Path) -> None:
    base = tmp_path / "net"
    with running_network(base, 29600) as record:
        assert {n.impl for n in record.nodes} == {"zwiebel"}
        download(base, record, SIZE)
        _restart_keeps_the_state(base, record)


def _restart_keeps_the_state(base: Path, record: NetworkRecord) -> None:
    """An authority stopped and started again reads its descriptors, reachability
    history and consensus back from the DataDirectory, serves them at once, and the
    network goes on carrying downloads."""
    auth = record.node("auth0")
    before = _valid_after(_consensus(auth.dir_port))
    with restarted(auth) as log_from:
        state = _wait_log(Path(auth.log), log_from,
                          r"Directory authority state read from \S+: (\d+) relay descriptors, "
                          r"the reachability history of (\d+) relays, the consensus valid "
                          r"after (\S+ \S+)\.")
        assert int(state.group(1)) >= 6 and int(state.group(2)) >= 6, state.group(0)
        assert state.group(3) >= before
        _wait_log(Path(auth.log), log_from, r"DirPort open on")
        text = _consensus(auth.dir_port)
        assert _valid_after(text) >= state.group(3)
        assert len(re.findall(r"^r ", text, re.M)) == 7
        answer = asyncio.run(fetch_dirport("127.0.0.1", auth.dir_port, "/tor/server/all"))
        assert answer.status == 200
        assert len(re.findall(rb"^router ", answer.body, re.M)) >= 6
        download(base, record, SIZE)


def _valid_after(consensus: str) -> str:
    found = re.search(r"^valid-after (\S+ \S+)$", consensus, re.M)
    assert found is not None
    return found.group(1)


def _wait_log(log: Path, start: int, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    """The first match of `pattern` in `log` from byte `start` on (bounded poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            f.seek(start)
            found = re.search(pattern, f.read().decode(errors="replace"))
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in {log} within {timeout}s")


def test_a_mixed_network_agrees_on_one_consensus(tmp_path: Path) -> None:
    base = tmp_path / "net"
    with running_network(base, 29800, "--mixed") as record:
        impls = {n.impl for n in record.with_role("authority")}
        assert impls == {"tor", "zwiebel"}
        texts = [_consensus(a.dir_port) for a in record.with_role("authority")]
        signers = re.findall(r"^directory-signature (\S+)", texts[0], re.M)
        assert len(signers) == 3, "every authority, tor and Zwiebel, signed one document"
        download(base, record, SIZE)


def _post(port: int, body: str) -> tuple[int, str]:
    answer = asyncio.run(post_dirport("127.0.0.1", port, "/tor/", body.encode()))
    return answer.status, answer.reason


def _refuses_bad_uploads(base: Path, record: NetworkRecord) -> None:
    """A relay's real descriptor tampered with, without a field, or a correctly signed
    one published three days ago: each gets 400 with its reason."""
    del base
    auth = record.node("auth1")
    descriptor = _descriptor(auth.dir_port, record.node("exit0").fingerprint or "")
    assert descriptor.startswith("router exit0 ")
    flipped = descriptor.replace("\nuptime ", "\nuptime 9", 1)
    assert _post(auth.dir_port, flipped) == (
        400, "No descriptors found in your POST. (exit0: bad router-sig-ed25519)")
    missing = re.sub(r"^ntor-onion-key .*\n", "", descriptor, count=1, flags=re.M)
    status, reason = _post(auth.dir_port, missing)
    assert status == 400 and "ntor-onion-key" in reason
    stale = _signed_descriptor(datetime.now(UTC) - timedelta(days=3))
    assert _post(auth.dir_port, stale) == (
        400, "Rejected: Server is expired, or your clock is too far in the past, or your "
             "timezone is not correct.")
    assert "network-status-version 3" in _consensus(auth.dir_port)


def _descriptor(dir_port: int, fingerprint: str) -> str:
    answer = asyncio.run(fetch_dirport("127.0.0.1", dir_port, f"/tor/server/fp/{fingerprint}"))
    assert answer.status == 200
    return answer.body.decode()


def _signed_descriptor(published: datetime) -> str:
    """A correctly signed descriptor of a new relay, published at `published`."""
    identity, tap = RsaPrivate.generate(1024), RsaPrivate.generate(1024)
    master = ExpandedEd25519Private.from_seed(b"m" * 32)
    signing = ExpandedEd25519Private.from_seed(b"s" * 32)
    ntor = X25519Private(bytes(range(32)))
    expires = published + timedelta(days=30)
    id_cert = sign_ed25519_cert(master, EdCertType.IDENTITY_SIGNING, signing.public_bytes(),
                                expires)
    crosscert, bit = ntor_crosscert(ntor, master.public_bytes(), expires)
    fields = ServerDescriptorFields(
        nickname="stale0", address="127.0.0.1", or_port=9, identity_cert=id_cert.encode(),
        master_id=master.public_bytes(), ntor_onion_key=ntor.public_bytes(),
        ntor_crosscert=crosscert.encode(), ntor_crosscert_sign_bit=bit,
        platform="Tor 0.4.9.11 on Linux", protocols="Cons=2 Desc=2 Link=4-5 Relay=2-4",
        published=published.replace(microsecond=0), bandwidth=(100000, 200000, 50000),
        exit_policy_lines=("reject *:*",), onion_key_tap=tap.public(),
        onion_key_crosscert=tap_crosscert(tap, identity.public().fingerprint(),
                                          master.public_bytes()))
    return build_server_descriptor(fields, identity, signing)
