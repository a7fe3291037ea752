"""Which process runs the scheduled jobs and the sender: the holder of the job lease.

Every process handles updates; one at a time does the rest. The holder renews the lease
every ``renew`` seconds; when it dies, the lease lapses after ``ttl`` seconds and the
next process to try takes it over, starts the sender (which first puts back what the
dead one left mid-send) and runs the jobs from then on.

A holder that cannot renew (cut off from the database) stops sending before the lease
can lapse: it trusts the lease only until ``ttl - renew`` seconds after its last renewal,
so two senders never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from handlers.telegram.sender import Sender
from storage.lease import Lease

log = logging.getLogger(__name__)

RELEASE_TIMEOUT = 5.0


class Duty:
    """This process's share of the lease: starts and stops the sender with it."""

    def __init__(
        self,
        lease: Lease,
        sender: Sender,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        on_processes: Callable[[int], None] = lambda _count: None,
    ) -> None:
        self._lease = lease
        self._sender = sender
        self._ttl = ttl
        self._renew = ttl / 3
        self._clock = clock
        self._on_processes = on_processes
        self._trusted_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def held(self) -> bool:
        """Whether this process may run the jobs and send now."""
        return self._clock() < self._trusted_until

    async def start(self) -> None:
        """Try for the lease now (so a lone process starts sending at once), then keep
        trying or renewing in the background."""
        await self._round()
        self._task = asyncio.get_running_loop().create_task(self._keep(), name="job-lease")

    async def stop(self) -> None:
        """Stop sending and give the lease up, so another process takes it at once."""
        # Not cancelled mid-statement: the round in progress finishes, then the loop ends.
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._sender.stop()
        if self._trusted_until:
            self._trusted_until = 0.0
            try:
                await asyncio.wait_for(self._lease.release(), RELEASE_TIMEOUT)
            except Exception:
                log.warning("the job lease could not be released; it lapses by itself")

    def kill(self) -> None:
        """Stop at once without a word to the database, as a crash would (for tests)."""
        if self._task is not None:
            self._task.cancel()
        self._sender.kill()
        self._trusted_until = 0.0

    async def _keep(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self._renew)
            except TimeoutError:
                await self._round()

    async def _round(self) -> None:
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
                if self._sender.running:
                    # It stopped sending when the lease ran out, leaving rows mid-send;
                    # a new start puts them back in the queue.
                    await self._sender.stop()
            if not self._sender.running:
                self._sender.start()
        else:
            if self._trusted_until and not self.held:
                log.info("lost the job lease", extra={"holder": self._lease.holder})
            if held is False:
                self._trusted_until = 0.0  # another process holds it
            if not self.held and self._sender.running:
                await self._sender.stop()
