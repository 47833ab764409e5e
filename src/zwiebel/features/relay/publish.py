"""Publishing the relay's descriptors to the directory authorities (dir-spec 6.2).

As tor 0.4.9.11 does (src/feature/relay/router.c, relay_periodic.c, dirclient.c):

* the descriptor and its extra-info go in one ``POST /tor/`` to every authority's
  DirPort (``router_upload_dir_desc_to_dirservers``; v3 authorities, or bridge
  authorities for ``PublishServerDescriptor bridge``, none for ``0``);
* a new descriptor is built and uploaded at start, when something it says changed
  (configuration, keys, hibernation, a factor-2 change of observed bandwidth), and at
  least every 18 hours (FORCE_REGENERATE_DESCRIPTOR_INTERVAL); tor checks once a
  minute (CHECK_DESCRIPTOR_INTERVAL), which is how often `DescriptorPublisher.tick`
  is meant to be called;
* answers are logged with tor's wording (``handle_response_upload_dir``): 200 is
  fine, 400 names the authority's reason, anything else is unexpected.

`rebuild_reason` is the pure decision; `publish` does the uploads concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from zwiebel.config.authorities import DirAuthoritySpec
from zwiebel.encoding import ParseError
from zwiebel.features.relay.descriptor import DescriptorInputs, DescriptorSet, build_descriptors
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.runtime.dirpost import post_dirport

log = logging.getLogger("zwiebel")

FORCE_REGENERATE_DESCRIPTOR_INTERVAL = timedelta(hours=18)
CHECK_DESCRIPTOR_INTERVAL = timedelta(seconds=60)
BANDWIDTH_CHANGE_FACTOR = 2
UPLOAD_TIMEOUT = 30.0


@dataclass(frozen=True)
class UploadResult:
    """One authority's answer to an upload (status 0: no HTTP answer, see `error`)."""

    authority: str
    status: int
    reason: str = ""
    not_new: bool = False
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the authority answered 200."""
        return self.status == 200


def upload_targets(authorities: Sequence[DirAuthoritySpec],
                   publish: Sequence[str] = ("1",)) -> list[DirAuthoritySpec]:
    """The authorities PublishServerDescriptor names: v3 ones for "1"/"v3", bridge
    authorities for "bridge", none for "0"."""
    want_v3 = any(p in ("1", "v3") for p in publish)
    want_bridge = "bridge" in publish
    return [a for a in authorities if a.dir_port
            and ((want_v3 and a.is_v3 and not a.is_bridge_authority)
                 or (want_bridge and a.is_bridge_authority))]


def _bandwidth_changed(old: int, new: int) -> bool:
    """check_descriptor_bandwidth_changed's test (a factor of 2, or to/from zero)."""
    if old != new and (old == 0 or new == 0):
        return True
    return new > old * BANDWIDTH_CHANGE_FACTOR or new < old // BANDWIDTH_CHANGE_FACTOR


def _keys_changed(old: DescriptorSet, keys: RelayKeys) -> bool:
    parsed = old.parsed
    return (parsed.ntor_onion_key != keys.ntor.public_bytes()
            or parsed.identity_cert.certified_key != keys.signing.public_bytes()
            or parsed.onion_key_tap != keys.onion_tap.public().der())


def rebuild_reason(old: DescriptorSet | None, keys: RelayKeys, inputs: DescriptorInputs,
                   now: datetime) -> str | None:
    """Why a new descriptor should be built now (tor's mark_my_descriptor_dirty
    reasons), or None while the current one is still right."""
    if old is None:
        return "uninitialized descriptor"
    if old.published + FORCE_REGENERATE_DESCRIPTOR_INTERVAL <= now:
        return "time for new descriptor"
    if _keys_changed(old, keys):
        return "rotated onion key"
    if old.inputs.hibernating != inputs.hibernating:
        return "hibernating status changed"
    if old.inputs.without_state() != inputs.without_state():
        return "config change"
    if _bandwidth_changed(old.inputs.observed_bandwidth, inputs.observed_bandwidth):
        return "bandwidth has changed"
    return None


def escaped(text: str) -> str:
    """tor's escaped(): the text in double quotes with C escapes."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


async def upload_one(authority: DirAuthoritySpec, body: bytes,
                     timeout: float = UPLOAD_TIMEOUT, reason: str | None = None
                     ) -> UploadResult:
    """POST `body` to one authority and log its answer as tor does."""
    where = f"{authority.address}:{authority.dir_port}"
    headers = [("X-Desc-Gen-Reason", reason)] if reason else []
    try:
        resp = await post_dirport(authority.address, authority.dir_port, "/tor/", body,
                                  timeout, headers)
    except (OSError, TimeoutError, ParseError) as exc:
        log.info("Failed to upload descriptor to %s: %s", where, exc)
        return UploadResult(where, 0, error=str(exc) or type(exc).__name__)
    not_new = resp.headers.get("x-descriptor-not-new", "") == "Yes"
    if resp.status == 200:
        if not_new:
            log.info("Authority '%s' declined our descriptor (not new)", authority.nickname)
        log.info("eof (status 200) after uploading server descriptor: finished.")
    elif resp.status == 400:
        log.warning("http status 400 (%s) response from dirserver %s. Please correct.",
                    escaped(resp.reason), where)
    else:
        log.warning("HTTP status %d (%s) was unexpected while uploading descriptor to "
                    "server '%s'. Possibly the server is misconfigured?",
                    resp.status, escaped(resp.reason), where)
    return UploadResult(where, resp.status, resp.reason, not_new)


async def publish(descs: DescriptorSet, authorities: Sequence[DirAuthoritySpec],
                  timeout: float = UPLOAD_TIMEOUT, reason: str | None = None
                  ) -> list[UploadResult]:
    """Upload the descriptor and extra-info to every authority at once."""
    if not authorities:
        return []
    log.info("Uploading relay descriptor to directory authorities")
    body = descs.upload_body()
    uploads = (upload_one(a, body, timeout, reason) for a in authorities)
    return list(await asyncio.gather(*uploads))


class DescriptorPublisher:
    """Keeps the current descriptors and uploads new ones when they are due."""

    def __init__(self, authorities: Sequence[DirAuthoritySpec],
                 publish_to: Sequence[str] = ("1",), timeout: float = UPLOAD_TIMEOUT) -> None:
        self.targets = upload_targets(authorities, publish_to)
        self.timeout = timeout
        self.current: DescriptorSet | None = None
        self.reason: str | None = None
        self.last_results: list[UploadResult] = []

    def refresh(self, keys: RelayKeys, inputs: DescriptorInputs, now: datetime,
                params: Mapping[str, int] | None = None) -> bool:
        """Rebuild the descriptors if due; True when new ones were made."""
        reason = rebuild_reason(self.current, keys, inputs, now)
        if reason is None:
            return False
        log.info("Decided to publish new relay descriptor: %s", reason)
        self.reason = reason
        self.current = build_descriptors(keys, inputs, now, params)
        return True

    async def tick(self, keys: RelayKeys, inputs: DescriptorInputs, now: datetime,
                   params: Mapping[str, int] | None = None,
                   force: bool = False) -> list[UploadResult]:
        """refresh(), then upload if there is something new (or `force`)."""
        if not self.refresh(keys, inputs, now, params) and not force:
            return []
        assert self.current is not None
        self.last_results = await publish(self.current, self.targets, self.timeout,
                                          self.reason)
        return self.last_results
