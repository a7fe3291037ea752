"""The sender: takes Telegram's queued messages, renders each in its reader's language of
the moment, and sends them at Telegram's pace.

About 30 bulk messages a second for the whole bot (up to 1.000 with
``allow_paid_broadcast``, paid in Stars), one a second to one chat and 20 a minute to one
group are Telegram's limits. Two lanes share them:

- the urgent lane sends notifications of someone's action (a card to admins, a decision to
  its author) one by one, as soon as they are queued: they spend from the bulk budget at
  once (``SendBudget.spend``) and never wait behind a broadcast;
- the bulk lane claims messages in batches, hands each to the bulk budget's pace (the free
  one, ``BROADCAST_RATE``, or the paid one when ``PaidPace`` allows), keeps many requests
  in flight, and records what went out in batches.

A message is "sending" from its claim until it is recorded: at a crash, at most those
(``slots`` of them) go out again, and none is missed. A RetryAfter is waited out; a member
who blocked the bot is marked unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.metrics import Metrics
from domain.delivery import DeliveryService, Outgoing
from domain.model import AttachmentKind
from domain.ui import caption_length
from handlers.telegram.budget import BROADCAST, SendBudget, wait_asked
from handlers.telegram.kept import KeptUploads
from handlers.telegram.paid import NoPaid, PaidPace
from handlers.telegram.render import CAPABILITIES, CHANNEL, Notification, notification
from handlers.telegram.reports import REPORT_CHECK, Reports
from locales import Translator

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0
# Groups and channels (negative chat ids in Telegram) take at most 20 messages a minute.
PER_GROUP_INTERVAL = 3.0
# Urgent messages claimed at a time, and bulk messages at most.
URGENT_BATCH = 5
BULK_BATCH = 200
IDLE = 0.5
RETRY_PAUSE = 1.0
# Queued messages rendered, by (broadcast, language): a broadcast to 100.000 members is
# translated once per language, not once per member.
RENDERED = 256
# Messages in flight at once (given their turn, not yet recorded): Telegram answers in
# tens to hundreds of milliseconds, and 29 a second needs several requests open. One of
# them is the urgent lane's.
SLOTS = 8
# At the paid pace: in flight for this long at the paid rate (1.000/s: 300 messages).
PAID_IN_FLIGHT_SECONDS = 0.3
# What the paid pace keeps of Telegram's 1.000 a second: the free messages that may go
# meanwhile (29) and the network's jitter between our count and Telegram's.
PAID_SHARE = 0.95
# Sent messages are recorded together once this many gathered, or after this long (real
# seconds): one transaction for many, instead of one each.
RECORD_AT = 100
RECORD_DELAY = 0.05


class Sender:
    """The urgent lane and the bulk lane, sharing the bulk budget and one per-chat pace."""

    def __init__(
        self,
        bot: ExtBot[str],
        deliveries: DeliveryService,
        budget: SendBudget,
        translator: Translator,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        slots: int = SLOTS,
        metrics: Metrics | None = None,
        may_send: Callable[[], bool] = lambda: True,
        default_language: str = "vi",
        kept: KeptUploads | None = None,
        paid: PaidPace | None = None,
    ) -> None:
        self._bot = bot
        self._kept = kept or KeptUploads()
        # What a group or channel chat reads; a member reads their own language.
        self._default_language = default_language
        self._rendered: OrderedDict[tuple[int, str], asyncio.Future[Notification | None]] = (
            OrderedDict()
        )
        self._paid: PaidPace = paid or NoPaid()
        rate = self._paid.rate
        self._paid_budget = (
            SendBudget(rate * PAID_SHARE, clock, sleep, limit=int(rate),
                       burst=max(5.0, rate / 50), margin=int(rate * (1 - PAID_SHARE)))
            if rate > 0 else None
        )  # fmt: skip
        # In flight on the bulk lane: enough for the paid rate, when the union may pay.
        self._bulk_slots = max(1, slots - 1, math.ceil(rate * PAID_IN_FLIGHT_SECONDS))
        self._metrics = metrics or Metrics()
        # Whether this process still holds the job lease (bot.duty): checked before each
        # message, so that a process cut off from the database stops sending in time.
        self._may_send = may_send
        self._translator = translator
        self._deliveries = deliveries
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        # Per chat: when it may get its next message (reserved as each message is paced).
        self._next_in_chat: dict[str, float] = {}
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._wake_bulk = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # The bulk lane: claimed messages waiting for their turn (with whether they go
        # paid), messages in flight (given their turn, not yet recorded: at most the
        # lane's slots), those sent and to record.
        self._ready: deque[tuple[Outgoing, bool]] = deque()
        self._ready_cap = min(BULK_BATCH, self._bulk_slots)
        self._readied = asyncio.Event()
        self._taken = asyncio.Event()
        self._in_flight = 0
        self._freed = asyncio.Event()
        # Set when every slot is in flight: what went out is recorded at once then.
        self._starved = asyncio.Event()
        self._went: list[tuple[Outgoing, int | None, bool]] = []
        self._to_record = asyncio.Event()
        self._posting: set[asyncio.Task[None]] = set()
        self._reports = Reports(bot, deliveries, translator)
        self._drained = False
        self.sent = 0

    def start(self) -> None:
        """Start sending in the background (again, after a stop)."""
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sender")

    async def stop(self) -> None:
        """Finish the messages in flight, record them and stop."""
        self._stopping.set()
        self._wake.set()
        self._wake_bulk.set()
        self._readied.set()
        self._taken.set()
        self._freed.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass  # killed earlier (tests of a crash)

    @property
    def slots(self) -> int:
        """Messages in flight at once: each may repeat at a crash."""
        return self._bulk_slots + 1

    @property
    def running(self) -> bool:
        """Whether the sender is sending (not stopped, not crashed)."""
        return self._task is not None and not self._task.done()

    def kill(self) -> None:
        """Stop at once, as a crash would (for tests of resuming)."""
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        recovered = await self._deliveries.recover()
        if recovered:
            log.info("resuming %s messages left mid-send", recovered)
        self._ready.clear()
        self._went.clear()
        self._in_flight = 0
        self._drained = False
        steps = (self._urgent_step, self._claim_step, self._dispatch_step, self._record_step)
        tasks = [asyncio.create_task(self._carry_on(step), name=f"sender-{step.__name__}")
                 for step in steps]  # fmt: skip
        try:
            await asyncio.gather(*tasks[:3])
            await asyncio.gather(*self._posting)
            self._drained = True
            self._to_record.set()
            await tasks[3]
        finally:
            for task in (*tasks, *self._posting):
                task.cancel()

    async def _carry_on(self, step: Callable[[], Awaitable[bool]]) -> None:
        """Take a lane's steps until it is done; a failure of the database or the network
        for a moment is logged and the lane carries on (rows it held as "sending" go back
        to the queue at the next start)."""
        while True:
            try:
                if await step():
                    return
            except Exception:
                log.exception("sender's %s failed; retrying in %s s", step.__name__, RETRY_PAUSE)
                await self._sleep(RETRY_PAUSE)

    # -- the urgent lane ---------------------------------------------------------------

    async def _urgent_step(self) -> bool:
        """Send the notifications queued now, one by one, before any bulk message."""
        if self._stopping.is_set():
            return True
        if not self._may_send():
            await self._sleep(IDLE)
            return False
        # Cleared before looking: a wake() after this finds the new rows committed.
        self._wake.clear()
        batch = await self._deliveries.claim(CHANNEL, URGENT_BATCH, urgent=True)
        if not batch:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE)
            return False
        for item in batch:
            if self._stopping.is_set() or not self._may_send():
                # Claimed but not sent: the next start puts them back in the queue.
                return False
            shown = await self._notification(item)
            if shown is None:
                await self._deliveries.refused(item, "its broadcast is gone or unreadable")
                continue
            due = await self._waited_for(item)
            if (wait := due - self._clock()) > 0:
                await self._sleep(wait)
            await self._budget.spend()
            self._turn(item)
            went, message_id = await self._attempt(item, shown, self._budget, paid=False)
            if went:
                await self._deliveries.sent(item, message_id)
                self._counted(1)
        return False

    # -- the bulk lane -----------------------------------------------------------------

    async def _claim_step(self) -> bool:
        """Claim a batch of bulk messages when half of those claimed before have gone."""
        if self._stopping.is_set():
            return True
        if not self._may_send():
            await self._sleep(IDLE)
            return False
        room = self._ready_cap - len(self._ready)
        if room < max(1, self._ready_cap // 2):
            self._taken.clear()
            await self._taken.wait()
            return False
        self._wake_bulk.clear()
        batch = await self._deliveries.claim(CHANNEL, room, urgent=False)
        self._reports.queue_short = len(batch) < room
        if not batch:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_bulk.wait(), IDLE)
            return False
        try:
            paid = await self._allowance(batch)
        except Exception:
            log.exception("the paid allowance is unknown; this batch goes at the free pace")
            paid = set()
        self._ready.extend((item, item.id in paid) for item in batch)
        self._readied.set()
        return False

    async def _allowance(self, batch: list[Outgoing]) -> set[int]:
        """The messages of the batch that go paid: as many of the eligible as the union's
        paid pace allows now."""
        if self._paid_budget is None:
            return set()
        eligible = [item for item in batch if item.may_go_paid]
        allowed = await self._paid.allowance(len(eligible)) if eligible else 0
        paid = eligible[: max(0, allowed)]
        # Paid sending stopped (today's cap, the balance): whoever started it is told, once.
        for broadcast_id in {item.broadcast_id for item in eligible[len(paid) :]}:
            await self._paid.went_free(broadcast_id)
        return {item.id for item in paid}

    async def _dispatch_step(self) -> bool:
        """Give the next claimed message its turn (its chat's and the budget's) and send it,
        without waiting for the answer."""
        if self._stopping.is_set():
            # Claimed but not sent: the next start puts them back in the queue.
            return True
        if not self._ready:
            self._readied.clear()
            await self._readied.wait()
            return False
        if not self._may_send():
            await self._sleep(IDLE)
            return False
        if self._in_flight >= self._bulk_slots:
            self._starved.set()
            self._freed.clear()
            await self._freed.wait()
            return False
        item, paid = self._ready.popleft()
        self._taken.set()
        self._in_flight += 1
        try:
            shown = await self._notification(item)
        except Exception:
            await self._settle(item, requeue=True)
            raise
        if shown is None:
            await self._deliveries.refused(item, "its broadcast is gone or unreadable")
            await self._settle(item)
            return False
        budget = self._paid_budget if paid and self._paid_budget is not None else self._budget
        due = await self._waited_for(item)
        if due > self._clock():
            # This chat had a message a moment ago: the rest of the batch goes on meanwhile.
            self._spawn(self._deliver(item, shown, budget, paid, due))
            return False
        await budget.take()
        self._turn(item)
        self._spawn(self._deliver(item, shown, budget, paid, None))
        # Let it start before the next takes its turn: the budget counts a message when it
        # is taken, and one that set off late would crowd the next second at Telegram.
        await asyncio.sleep(0)
        return False

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)

    async def _deliver(
        self, item: Outgoing, shown: Notification, budget: SendBudget, paid: bool,
        due: float | None,
    ) -> None:  # fmt: skip
        """Send one bulk message (after its chat's turn, if it must wait for it) and pass
        it on to be recorded."""
        try:
            if due is not None:
                # Its chat's turn, and no sooner than a RetryAfter that came meanwhile.
                await self._sleep(max(0.0, due - self._clock(), self._paused_until - self._clock()))
                await budget.take()
                self._turn(item)
            went, message_id = await self._attempt(item, shown, budget, paid)
        except Exception:
            log.exception("message %s to chat %s not sent", item.id, item.chat_id)
            await self._settle(item, requeue=True)
            return
        if not went:
            await self._settle(item)
            return
        self._went.append((item, message_id, paid))
        self._to_record.set()

    async def _settle(self, item: Outgoing, requeue: bool = False) -> None:
        """A bulk message ended otherwise than sent (or failed here): its slot is free."""
        if requeue:
            try:
                await self._deliveries.later(item)
            except Exception:
                # Left "sending": the next start puts it back in the queue.
                log.exception("message %s not put back in the queue", item.id)
        self._reports.ended(item.broadcast_id)
        self._release(1)

    def _release(self, count: int) -> None:
        self._in_flight -= count
        self._freed.set()

    async def _record_step(self) -> bool:
        """Record what went out, many messages in one transaction; tell whoever started a
        broadcast how it goes."""
        if not self._went:
            if self._drained:
                return True
            self._to_record.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._to_record.wait(), REPORT_CHECK)
            await self._reports.due()
            return False
        if len(self._went) < RECORD_AT and not self._stopping.is_set():
            # Real time: let a batch gather, unless every slot waits for this.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._starved.wait(), RECORD_DELAY)
        self._starved.clear()
        went = self._went[:]
        await self._deliveries.sent_all([(item, message_id) for item, message_id, _ in went])
        del self._went[: len(went)]
        self._counted(len(went))
        self._release(len(went))
        for item, _, _ in went:
            self._reports.ended(item.broadcast_id, sent=True)
        if paid := sum(1 for *_, was_paid in went if was_paid):
            try:
                await self._paid.spent(paid)
            except Exception:
                # They went and are recorded: the day's count of paid messages misses them.
                log.exception("%s paid messages not counted towards today's cap", paid)
        await self._reports.due()
        return False

    def _counted(self, count: int) -> None:
        self.sent += count
        self._metrics.sent.labels("queued").inc(count)

    # -- reports and pacing --------------------------------------------------------------

    async def _waited_for(self, item: Outgoing) -> float:
        """Wait out a RetryAfter; reserve the chat's next turn and return when this
        message may go (in queue order: each chat's turns are handed out one by one)."""
        if (pause := self._paused_until - self._clock()) > 0:
            await self._sleep(pause)
        chat_id = item.chat_id
        now = self._clock()
        due = max(now, self._next_in_chat.get(chat_id, now))
        self._next_in_chat[chat_id] = due + _interval(item)
        if len(self._next_in_chat) > 10_000:
            self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}
        return due

    def _turn(self, item: Outgoing) -> None:
        """The message goes now: its chat's next turn is no sooner than an interval on."""
        chat_id = item.chat_id
        at = self._clock() + _interval(item)
        self._next_in_chat[chat_id] = max(self._next_in_chat.get(chat_id, at), at)

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()
        self._wake_bulk.set()

    async def _notification(self, item: Outgoing) -> Notification | None:
        """The item's broadcast in its reader's language of now: rendered once for all its
        readers of that language, whichever slot asks first."""
        key = (item.broadcast_id, item.language or self._default_language)
        if key not in self._rendered:
            self._rendered[key] = asyncio.ensure_future(self._render(*key))
            if len(self._rendered) > RENDERED:
                self._rendered.popitem(last=False)
        self._rendered.move_to_end(key)
        rendering = self._rendered[key]
        try:
            return rendering.result() if rendering.done() else await asyncio.shield(rendering)
        except Exception:
            # The database failed for a moment: the next message of it tries again.
            if self._rendered.get(key) is rendering:
                del self._rendered[key]
            raise

    async def _render(self, broadcast_id: int, language: str) -> Notification | None:
        try:
            said = await self._deliveries.content(broadcast_id)
            return notification(said, self._translator, language) if said is not None else None
        except (KeyError, IndexError, ValueError):
            # A stored message that cannot be read or filled in would fail every time.
            log.exception("broadcast %s cannot be rendered in %s", broadcast_id, language)
            return None

    async def _post(
        self, item: Outgoing, shown: Notification, budget: SendBudget, paid: bool
    ) -> Message | None:
        chat = int(item.chat_id)
        if item.edit is not None:
            # One message is edited: a card longer than Telegram's limit keeps its first piece.
            await self._bot.edit_message_text(
                shown.pieces[0], chat_id=chat, message_id=item.edit, reply_markup=shown.keyboard
            )
            return None
        # Telegram takes the parameter only when true.
        pay = True if paid else None
        if item.photo or item.has_image:
            if caption_length(shown.text) <= CAPABILITIES.caption_limit:
                return await self._photo(item, shown.text or None, shown.keyboard, pay)
            # Too long for a caption: the picture, then the whole text.
            await self._photo(item, None, None, pay)
            await budget.take()
        message: Message | None = None
        for index, piece in enumerate(shown.pieces):
            if index:
                await budget.take()
            last = index == len(shown.pieces) - 1
            message = await self._bot.send_message(
                chat, piece, reply_markup=shown.keyboard if last else None,
                allow_paid_broadcast=pay, rate_limit_args=BROADCAST,
            )  # fmt: skip
        return message

    async def _photo(
        self, item: Outgoing, caption: str | None, keyboard: InlineKeyboardMarkup | None,
        pay: bool | None,
    ) -> Message:  # fmt: skip
        photo, image = await self._deliveries.picture(item)
        # A kept photo (an announcement a Zalo admin made) is uploaded from its bytes.
        kept = await self._kept.media(photo, AttachmentKind.PHOTO) if photo else None
        picture = kept or image
        if picture is None:
            raise TelegramError("the broadcast's picture is missing")
        message = await self._bot.send_photo(
            int(item.chat_id), picture, caption=caption, reply_markup=keyboard,
            allow_paid_broadcast=pay, rate_limit_args=BROADCAST,
        )  # fmt: skip
        if photo is None and message.photo:
            await self._deliveries.uploaded(item, message.photo[-1].file_id)
        elif photo is not None:
            self._kept.uploaded(photo, AttachmentKind.PHOTO, message)
        return message

    async def _attempt(
        self, item: Outgoing, shown: Notification, budget: SendBudget, paid: bool
    ) -> tuple[bool, int | None]:
        """Send a message: whether it went (with the id of the message it made); if not,
        what happened is recorded."""
        try:
            message = await self._post(item, shown, budget, paid)
        except RetryAfter as error:
            seconds = wait_asked(error)
            log.warning("Telegram asked to wait %s s", seconds)
            self._metrics.too_many.inc()
            self._paused_until = self._clock() + seconds
            await self._deliveries.later(item)
            return False, None
        except Forbidden:
            self._metrics.blocked.inc()
            await self._deliveries.blocked(item)
            return False, None
        except TelegramError as error:
            await self._failed(item, error)
            return False, None
        return True, message.message_id if message is not None else None

    async def _failed(self, item: Outgoing, error: TelegramError) -> None:
        if item.edit is not None and isinstance(error, BadRequest):
            # Telegram refuses an edit that changes nothing, or of a message deleted since:
            # trying again cannot help.
            log.info("card %s/%s not updated: %s", item.chat_id, item.edit, error)
            await self._deliveries.refused(item, str(error))
            return
        log.warning("message %s to chat %s failed: %s", item.id, item.chat_id, error)
        await self._deliveries.failed(item, str(error))


def _interval(item: Outgoing) -> float:
    """The least time between two messages to the item's chat: a notification to one
    person is paced like a reply (Telegram tolerates short bursts in a private chat); bulk
    messages keep to one a second per chat."""
    if item.chat_id.startswith("-"):
        return PER_GROUP_INTERVAL
    return 0.0 if item.urgent else PER_CHAT_INTERVAL
