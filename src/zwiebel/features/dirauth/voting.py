"""Walking the voting schedule (tor's dirvote_act, src/feature/dirauth/dirvote.c).

Once a second the loop asks the schedule (zwiebel.dirauth.schedule) which step of
the current round is due and runs the steps whose time has come, in order: vote,
fetch missing votes, compute the consensus, fetch missing signatures, publish.
Signatures that arrive before we computed our consensus are held and applied
afterwards, as tor keeps pending signatures.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from zwiebel.dirauth.schedule import Action
from zwiebel.features.dirauth.exchange import fetch_text, post_to_all
from zwiebel.features.dirauth.round import RoundError, VotingRound
from zwiebel.runtime.clock import utcnow

if TYPE_CHECKING:
    from zwiebel.features.dirauth.service import AuthorityService

log = logging.getLogger("zwiebel")
NOTICE = 25
TICK = 0.5
MAX_HELD = 16


class VotingLoop:
    """Runs the steps of each round when they are due."""

    def __init__(self, service: AuthorityService) -> None:
        self.service = service
        self.done: set[Action] = set()
        self._round: VotingRound | None = None
        self._held: list[bytes] = []

    def hold_signatures(self, body: bytes) -> None:
        """Keep detached signatures that came before our consensus was computed."""
        if len(self._held) < MAX_HELD:
            self._held.append(body)

    async def run(self) -> None:
        """Forever: run the due step, then wait a tick."""
        while True:
            try:
                await self.step()
            except RoundError as exc:
                log.warning("%s", exc)
            await asyncio.sleep(TICK)

    async def step(self) -> None:
        """Run every step of the current round whose time has come."""
        now = utcnow()
        service = self.service
        table = service.schedule.timetable(now, service.live)
        previous = self._round
        if previous is not None and previous.valid_after != table.interval_starts:
            self._finish(previous)
        voting = service.current_round(now)
        if voting is not self._round:
            self._round, self.done = voting, set()
            if table.voting_ends <= now:
                self.done = {action for action, _ in table.steps()}
        while (due := table.next_action(frozenset(self.done))) is not None and due[1] <= now:
            action = due[0]
            self.done.add(action)
            await self._run(action, voting)

    def _finish(self, voting: VotingRound) -> None:
        """The round's valid-after has come: publish it if it was computed. (Joining
        mid-round, a vote after voting ended would be refused, so `step` waits for
        the next round, as tor's dirvote_act does when it starts late.)"""
        if Action.PUBLISH not in self.done and voting.computed:
            self.done.add(Action.PUBLISH)
            self._publish(voting)

    async def _run(self, action: Action, voting: VotingRound) -> None:
        if action is Action.VOTE:
            await self._vote(voting)
        elif action is Action.FETCH_MISSING_VOTES:
            await self._fetch_votes(voting)
        elif action is Action.COMPUTE_CONSENSUS:
            await self._compute(voting)
        elif action is Action.FETCH_MISSING_SIGNATURES:
            await self._fetch_signatures(voting)
        elif voting.computed:
            self._publish(voting)

    async def _vote(self, voting: VotingRound) -> None:
        service = self.service
        now = utcnow()
        log.log(NOTICE, "Time to vote.")
        text = service.make_vote(now)
        voting.add_vote(text, now)
        service.docs.own_pending_vote = text
        sent = await post_to_all(service.peers, "/tor/post/vote", text.encode(), "a vote")
        log.log(NOTICE, "Vote posted to %d of %d other authorities.", sent, len(service.peers))

    async def _fetch_votes(self, voting: VotingRound) -> None:
        missing = set(voting.missing_votes())
        if not missing:
            return
        log.log(NOTICE, "Time to fetch any votes that we're missing.")
        peers = [p for p in self.service.peers if bytes.fromhex(p.v3ident or "") in missing]
        texts = await asyncio.gather(*(fetch_text(p, "/tor/status-vote/next/authority")
                                       for p in peers))
        for text in texts:
            if text is None:
                continue
            try:
                voting.add_vote(text, utcnow())
            except RoundError as exc:
                log.info("Fetched vote not used: %s", exc)

    async def _compute(self, voting: VotingRound) -> None:
        log.log(NOTICE, "Time to compute a consensus.")
        method = voting.compute()
        log.log(NOTICE, "Consensus computed with method %d from %d votes; uploading "
                        "signatures.", method, len(voting.votes))
        for body in self._held:
            try:
                voting.add_signatures(body.decode("utf-8", "replace"))
            except RoundError as exc:
                log.info("Held signatures not used: %s", exc)
        self._held.clear()
        await post_to_all(self.service.peers, "/tor/post/consensus-signature",
                          voting.detached().encode(), "signatures")

    async def _fetch_signatures(self, voting: VotingRound) -> None:
        if not voting.computed:
            return
        log.log(NOTICE, "Time to fetch any signatures that we're missing.")
        texts = await asyncio.gather(*(
            fetch_text(p, "/tor/status-vote/next/consensus-signatures")
            for p in self.service.peers))
        for text in texts:
            if text is None:
                continue
            try:
                voting.add_signatures(text)
            except RoundError as exc:
                log.info("Fetched signatures not used: %s", exc)

    def _publish(self, voting: VotingRound) -> None:
        log.log(NOTICE, "Time to publish the consensus and discard old votes")
        published = voting.publish()
        self.service.install(published)
        for flavor in published.documents:
            log.log(NOTICE, "Published %s consensus for %s.", flavor,
                    f"{published.valid_after:%Y-%m-%d %H:%M:%S}")
