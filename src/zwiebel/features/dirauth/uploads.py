"""What an authority does with uploaded descriptors (dir-spec 6.2 "POST /tor/").

A relay posts its server descriptor followed by its extra-info document. Each is
checked (zwiebel.dirauth.accept) and stored; the answer follows tor's
dirserv_add_multiple_descriptors and directory_handle_command_post: 200 when
something was accepted, 200 with ``X-Descriptor-Not-New: Yes`` when we had it
already, 400 with tor's reason otherwise.

One deliberate difference: tor answers a descriptor it cannot parse or whose
signature is bad with "200, not new" (its parser drops the document, leaving
nothing to reject). Zwiebel answers 400 with tor's message and the parser's reason,
so that an operator sees why the upload failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from zwiebel.dirauth.accept import DescriptorRejected
from zwiebel.dirauth.store import DescriptorStore
from zwiebel.netdoc.serverdesc import ServerDescriptor

log = logging.getLogger("zwiebel")
NOTICE = 25
NO_DESCRIPTORS = "No descriptors found in your POST."


@dataclass(frozen=True)
class UploadOutcome:
    """The HTTP answer to give and the newly accepted server descriptors."""

    status: int
    reason: str
    not_new: bool
    accepted: tuple[ServerDescriptor, ...]


def split_documents(text: str) -> tuple[list[str], list[str]]:
    """Server descriptors and extra-info documents of an upload, in order."""
    servers: list[str] = []
    extras: list[str] = []
    current: list[str] = []
    kind = ""
    for line in text.splitlines(keepends=True):
        if line.startswith(("router ", "extra-info ")):
            _flush(kind, current, servers, extras)
            kind, current = line.split(" ", 1)[0], []
        current.append(line)
    _flush(kind, current, servers, extras)
    return servers, extras


def _flush(kind: str, lines: list[str], servers: list[str], extras: list[str]) -> None:
    if kind == "router":
        servers.append("".join(lines))
    elif kind == "extra-info":
        extras.append("".join(lines))


def handle_upload(store: DescriptorStore, body: bytes, now: datetime, source: str,
                  on_accept: Callable[[ServerDescriptor], None]) -> UploadOutcome:
    """Check and store every document of one ``POST /tor/``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return UploadOutcome(400, NO_DESCRIPTORS, False, ())
    servers, extras = split_documents(text)
    if not servers and not extras:
        return UploadOutcome(400, NO_DESCRIPTORS, False, ())
    accepted: list[ServerDescriptor] = []
    problem: DescriptorRejected | None = None
    not_new = False
    for raw in servers:
        try:
            result = store.add_server_verbose(raw, now)
        except DescriptorRejected as exc:
            if exc.outdated and exc.reason != NO_DESCRIPTORS:
                not_new = True
                continue
            problem = exc
            log.log(NOTICE, "Rejected descriptor from %s: %s", source, exc)
            continue
        accepted.append(result.descriptor)
        on_accept(result.descriptor)
        log.info("%s from %s: %s", result.message, source, result.descriptor.nickname)
    for raw in extras:
        try:
            store.add_extrainfo(raw, now)
        except DescriptorRejected as exc:
            log.info("Rejected extra-info from %s: %s", source, exc)
    if problem is not None and not accepted:
        return UploadOutcome(400, " ".join(str(problem).split()), False, ())
    return UploadOutcome(200, "OK", not_new and not accepted, tuple(accepted))
