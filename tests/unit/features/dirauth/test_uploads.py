"""Descriptor uploads to a Zwiebel authority, with real descriptors of tor 0.4.9.11
(tests/vectors/dirauth/realnet2/server-all)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from zwiebel.dirauth.accept import AcceptOptions
from zwiebel.dirauth.store import DescriptorStore
from zwiebel.features.dirauth.uploads import handle_upload, split_documents

VECTORS = Path(__file__).parents[3] / "vectors" / "dirauth" / "realnet2"
SERVERS = re.split(r"(?=^router )", (VECTORS / "server-all").read_text(), flags=re.M)[1:]
EXTRAS = re.split(r"(?=^extra-info )", (VECTORS / "extra-all").read_text(), flags=re.M)[1:]
DESC = next(s for s in SERVERS if any(e.split()[1] == s.split()[1] for e in EXTRAS))
NOW = datetime.strptime(re.search(r"^published (.*)$", DESC, re.M).group(1),  # type: ignore[union-attr]
                        "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) + timedelta(seconds=5)


def _upload(store: DescriptorStore, text: str) -> tuple[int, str, bool, int]:
    seen: list[str] = []
    out = handle_upload(store, text.encode(), NOW, "127.0.0.1:1", lambda d: seen.append(d.nickname))
    assert len(seen) == len(out.accepted)
    return out.status, out.reason, out.not_new, len(out.accepted)


def _store() -> DescriptorStore:
    return DescriptorStore(AcceptOptions(dir_allow_private=True))


def test_a_descriptor_with_its_extra_info_is_accepted_once() -> None:
    nickname = DESC.split()[1]
    extra = next(e for e in EXTRAS if e.split()[1] == nickname)
    assert split_documents(DESC + extra) == ([DESC], [extra])
    store = _store()
    assert _upload(store, DESC + extra) == (200, "OK", False, 1)
    assert len(store.extrainfos()) == 1
    assert _upload(store, DESC) == (200, "OK", True, 0)


def test_a_bad_signature_is_refused_with_the_reason() -> None:
    tampered = DESC.replace("\nuptime ", "\nuptime 9", 1)
    status, reason, _, accepted = _upload(_store(), tampered)
    assert (status, accepted) == (400, 0)
    assert reason == "No descriptors found in your POST. (auth0: bad router-sig-ed25519)" \
        or reason.endswith(": bad router-sig-ed25519)")


def test_a_missing_field_and_garbage_are_refused() -> None:
    missing = re.sub(r"^ntor-onion-key .*\n", "", DESC, count=1, flags=re.M)
    status, reason, _, _ = _upload(_store(), missing)
    assert status == 400 and "ntor-onion-key" in reason
    assert _upload(_store(), "hello\n")[:2] == (400, "No descriptors found in your POST.")
    assert _upload(_store(), "")[0] == 400
