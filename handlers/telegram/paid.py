"""Paid broadcasts (``allow_paid_broadcast``): how many bulk messages may go paid now.

Telegram lets a bulk message carry ``allow_paid_broadcast``: up to 1.000 messages a second
instead of about 30, for 0,1 Star each, paid from the bot's Stars balance. The union
chooses to pay (PAID_BROADCAST=1) and caps the Stars spent a day in its own clock
(PAID_BROADCAST_DAILY_STARS); the sender asks ``allowance`` per batch, and what is not
allowed goes at the free pace.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Literal, Protocol

from telegram import StarAmount
from telegram.error import TelegramError

from domain.announce_cases import PaidOffer

log = logging.getLogger(__name__)

# 0,1 Star a message: 10 messages a Star.
MESSAGES_PER_STAR = 10
PRICE = Decimal("0.1")
# Telegram's ceiling for paid broadcasts, messages a second.
MAX_RATE = 1000.0
# Seconds a reading of the Stars balance is trusted: each read is a request to Telegram.
BALANCE_FOR = 60.0
# Seconds a grant not yet recorded by ``spent`` holds room: the sender records a batch
# within a few seconds; a grant older than this was sent free (a 429) or lost in a crash.
GRANT_HOLD = 10.0
# Broadcasts remembered as told of the free pace in this process (the database keeps it
# once across processes: the notice has a key).
TOLD = 1024

# Why paid sending stopped: today's cap was reached, or the balance is short.
Shortage = Literal["cap", "balance"]
# Tells whoever started a broadcast that it continues at the free pace (once per broadcast).
FreePaceNotice = Callable[[int, Shortage], Awaitable[None]]


class PaidPace(Protocol):
    """How fast and how many bulk messages may go with ``allow_paid_broadcast``."""

    rate: float  # messages a second when paid (at most 1.000)

    async def allowance(self, wanted: int) -> int:
        """How many of the next ``wanted`` bulk messages may go paid now: 0 when paid
        broadcasts are off, today's Stars cap is reached or the balance is short."""

    async def spent(self, count: int) -> None:
        """Record that ``count`` messages went out paid (0,1 Star each)."""

    async def went_free(self, broadcast_id: int) -> None:
        """Messages of this broadcast wanted to go paid but went at the free pace (the
        allowance fell short): whoever started it is told, once."""


class NoPaid:
    """Paid broadcasts off: every bulk message goes at the free pace."""

    rate = 0.0

    async def allowance(self, wanted: int) -> int:
        """Nothing may go paid."""
        return 0

    async def spent(self, count: int) -> None:
        """Nothing was paid."""

    async def went_free(self, broadcast_id: int) -> None:
        """Nobody chose to pay: nothing to tell."""


class SpendLedger(Protocol):
    """Messages sent paid, by day of the union's clock, for every process of the bot."""

    async def paid_on(self, day: dt.date) -> int:
        """Messages sent paid that day."""

    async def add(self, day: dt.date, count: int) -> None:
        """Count ``count`` more messages sent paid that day."""


def stars(amount: StarAmount) -> Decimal:
    """A balance in Stars, its fraction (nanostars) included."""
    return Decimal(amount.amount) + Decimal(amount.nanostar_amount or 0) / 10**9


class PaidBroadcasts:
    """The union pays: bulk messages go paid within today's cap and the Stars balance."""

    def __init__(
        self,
        balance: Callable[[], Awaitable[StarAmount]],
        ledger: SpendLedger,
        *,
        rate: float,
        daily_stars: int,
        today: Callable[[], dt.date],
        clock: Callable[[], float] = time.monotonic,
        tell: FreePaceNotice | None = None,
    ) -> None:
        # getMyStarBalance.
        self._read_balance = balance
        self._ledger = ledger
        self.rate = rate
        self._daily = daily_stars * MESSAGES_PER_STAR
        self._today = today
        self._clock = clock
        self._tell = tell
        # The balance as last read, in messages it pays for, when, and what went paid since.
        self._balance: int | None = None
        self._read_at = 0.0
        self._since_read = 0
        # One reading at a time: slots asking together share it.
        self._reading = asyncio.Lock()
        # Room granted but not yet recorded as spent: (when, messages).
        self._grants: deque[tuple[float, int]] = deque()
        self._short: Shortage = "balance"
        self._told: deque[int] = deque(maxlen=TOLD)

    async def allowance(self, wanted: int) -> int:
        """How many of the next ``wanted`` bulk messages may go paid now."""
        if wanted <= 0:
            return 0
        cap_room, balance_room = await self.room()
        granted = max(0, min(wanted, cap_room, balance_room))
        if granted < wanted:
            self._short = "cap" if cap_room <= balance_room else "balance"
        if granted:
            self._grants.append((self._clock(), granted))
        return granted

    async def room(self) -> tuple[int, int]:
        """Messages that may still go paid: by today's cap, and by the balance."""
        held = self._held()
        cap_room = self._daily - await self._ledger.paid_on(self._today()) - held
        balance_room = await self._balance_messages() - self._since_read - held
        return max(0, cap_room), max(0, balance_room)

    async def spent(self, count: int) -> None:
        """Record ``count`` messages sent paid, for every process (the day's cap)."""
        if count <= 0:
            return
        self._settle(count)
        self._since_read += count
        await self._ledger.add(self._today(), count)

    async def went_free(self, broadcast_id: int) -> None:
        """Tell whoever started the broadcast, once, that it continues at the free pace."""
        if broadcast_id in self._told:
            return
        self._told.append(broadcast_id)
        if self._tell is not None:
            await self._tell(broadcast_id, self._short)

    async def offer(self) -> PaidOffer:
        """What paying offers now, for the preview of an announcement."""
        cap_room, balance_room = await self.room()
        return PaidOffer(self.rate, cap_room, balance_room, PRICE)

    def _held(self) -> int:
        """Room granted and not yet recorded: let go after GRANT_HOLD seconds."""
        cutoff = self._clock() - GRANT_HOLD
        while self._grants and self._grants[0][0] < cutoff:
            self._grants.popleft()
        return sum(count for _at, count in self._grants)

    def _settle(self, count: int) -> None:
        """Spent messages no longer hold room: the oldest grants are theirs."""
        while count and self._grants:
            at, held = self._grants.popleft()
            if held > count:
                self._grants.appendleft((at, held - count))
                return
            count -= held

    async def _balance_messages(self) -> int:
        """Messages the Stars balance pays for, read at most once a BALANCE_FOR."""
        async with self._reading:
            now = self._clock()
            if self._balance is None or now - self._read_at >= BALANCE_FOR:
                try:
                    amount = stars(await self._read_balance())
                except TelegramError as error:
                    # No balance known: nothing goes paid until the next reading.
                    log.warning("the bot's Stars balance could not be read: %s", error)
                    amount = Decimal(0)
                self._balance = int(amount * MESSAGES_PER_STAR)
                self._read_at, self._since_read = now, 0
            return self._balance
