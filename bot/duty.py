"""Which process runs the scheduled jobs and the senders: the holder of the job lease.

Every process handles updates; one at a time does the rest. The holder renews the lease
every ``renew`` seconds; when it dies, the lease lapses after ``ttl`` seconds and the
next process to try takes it over, puts back what the dead one left mid-send, starts
every channel's sender and runs the jobs from then on.

A holder that cannot renew (cut off from the database) stops sending before the lease
can lapse: it trusts the lease only until ``ttl - renew`` seconds after its last renewal,
so two senders never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from storage.lease import Lease

log = logging.getLogger(__name__)

RELEASE_TIMEOUT = 5.0


class Sending(Protocol):
    """A channel's sender of queued messages, as the lease starts and stops it."""

    @property
    def running(self) -> bool:
        """Whether it is sending (not stopped, not crashed)."""

    def start(self) -> None:
        """Start sending in the background."""

    async def stop(self) -> None:
        """Stop sending."""

    def kill(self) -> None:
        """Stop at once, as a crash would (for tests)."""

    def wake(self) -> None:
        """Messages were queued: look now rather than at the next poll."""


class Duty:
    """This process's share of the lease: starts and stops the senders with it."""

    def __init__(
        self,
        lease: Lease,
        ttl: float,
        *,
        recover: Callable[[], Awaitable[int]],
        clock: Callable[[], float] = time.monotonic,
        on_processes: Callable[[int], None] = lambda _count: None,
    ) -> None:
        self._lease = lease
        self._senders: list[Sending] = []
        # Puts messages a dead holder left mid-send back in the queue, every channel's.
        self._recover = recover
        self._ttl = ttl
        self._renew = ttl / 3
        self._clock = clock
        self._on_processes = on_processes
        self._trusted_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # One round at a time: the background one, or one asked for (``renew``).
        self._turn = asyncio.Lock()

    @property
    def held(self) -> bool:
        """Whether this process may run the jobs and send now."""
        return self._clock() < self._trusted_until

    def add(self, sender: Sending) -> None:
        """A channel's sender, run while the lease is held (from now, if it is)."""
        self._senders.append(sender)
        if self.held:
            sender.start()

    def wake(self) -> None:
        """Messages were queued: every sender looks now."""
        for sender in self._senders:
            sender.wake()

    async def start(self) -> None:
        """Try for the lease now (so a lone process starts sending at once), then keep
        trying or renewing in the background."""
        self._stopping = asyncio.Event()
        await self._round()
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="job-lease")

    async def renew(self) -> bool:
        """Try for or renew the lease now rather than at the next round (a process whose
        loop was held up may have stopped trusting it); whether it is held."""
        await self._round()
        return self.held

    async def stop(self) -> None:
        """Stop sending and give the lease up, so another process takes it at once."""
        # Not cancelled mid-statement: the round in progress finishes, then the loop ends.
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._stop_senders()
        # Every process gives up its row of the live ones, holder of the job lease or not.
        self._trusted_until = 0.0
        try:
            await asyncio.wait_for(self._lease.release(), RELEASE_TIMEOUT)
        except Exception:
            log.warning("the job lease could not be released; it lapses by itself")

    def kill(self) -> None:
        """Stop at once without a word to the database, as a crash would (for tests)."""
        if self._task is not None:
            self._task.cancel()
        for sender in self._senders:
            sender.kill()
        self._trusted_until = 0.0

    async def _keep(self) -> None:
        """Renew (or try for) the lease every ``renew`` seconds until stopped."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self._renew)
            except TimeoutError:
                await self._round()

    async def _round(self) -> None:
        """One try for the lease, one at a time."""
        async with self._turn:
            await self._try()

    async def _try(self) -> None:
        """Acquire or renew the lease; start or stop the senders with what it says."""
        asked = self._clock()
        held: bool | None
        try:
            self._on_processes(await self._lease.processes())
            held = await self._lease.acquire()
        except Exception:
            log.warning("the job lease could not be renewed", exc_info=True)
            held = None  # unknown: trusted until it would lapse
        if held:
            fresh = not self.held
            self._trusted_until = asked + self._ttl - self._renew
            if fresh:
                log.info("took the job lease", extra={"holder": self._lease.holder})
                await self._take_over()
            for sender in self._senders:
                if not sender.running:
                    sender.start()  # again, after a crash
        else:
            if self._trusted_until and not self.held:
                log.info("lost the job lease", extra={"holder": self._lease.holder})
            if held is False:
                self._trusted_until = 0.0  # another process holds it
            if not self.held:
                await self._stop_senders()

    async def _take_over(self) -> None:
        """Senders stopped when the lease ran out left rows mid-send, as a dead holder
        does: they go back in the queue before anything is sent."""
        await self._stop_senders()
        try:
            recovered = await self._recover()
        except Exception:
            log.warning("messages left mid-send could not be put back", exc_info=True)
        else:
            if recovered:
                log.info("resuming %s messages left mid-send", recovered)

    async def _stop_senders(self) -> None:
        """Stop every sender that is sending."""
        for sender in self._senders:
            if sender.running:
                await sender.stop()
