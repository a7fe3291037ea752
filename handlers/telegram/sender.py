"""The sender: takes queued messages and sends them at Telegram's pace.

About 30 messages a second for the whole bot, one a second to one chat and 20 a
minute to one group are Telegram's limits. The sender takes its messages from the
bot's shared budget (``handlers.telegram.budget``: whatever interactive replies leave of
``BROADCAST_RATE``, default 29/s), waits out a RetryAfter and marks a member who
blocked the bot as unreachable.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.metrics import Metrics
from domain.delivery import DeliveryService, Outgoing
from handlers.telegram.budget import BROADCAST, SendBudget, wait_asked
from handlers.telegram.render import remove_buttons
from locales import Translator

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0
# Groups and channels (negative chat ids in Telegram) take at most 20 messages a minute.
PER_GROUP_INTERVAL = 3.0
REPORT_EVERY = 1000
# Claimed by a slot at a time: small, so that a notification queued meanwhile waits little.
BATCH = 5
IDLE = 0.5
RETRY_PAUSE = 1.0
# How often a slot looks again while an earlier message to the same chat goes first.
TURN_TICK = 0.001


# Messages in flight at once: Telegram answers in tens to hundreds of milliseconds, and
# 29 a second needs several requests open. Each slot has one message in flight, so a
# crash can leave at most one message per slot uncertain (sent but not yet recorded).
SLOTS = 8


class Sender:
    """Sending slots sharing one budget and one per-chat pace."""

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
    ) -> None:
        self._bot = bot
        self._slots = slots
        self._metrics = metrics or Metrics()
        # Whether this process still holds the job lease (bot.duty): checked before each
        # message, so that a process cut off from the database stops sending in time.
        self._may_send = may_send
        self._translator = translator
        self._since_report: dict[int, int] = {}
        self._deliveries = deliveries
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._last_in_chat: dict[str, float] = {}
        # Per chat: the messages slots are waiting to send, in the order they must go.
        self._waiting: dict[str, list[tuple[bool, int]]] = {}
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def start(self) -> None:
        """Start sending in the background (again, after a stop)."""
        self._stopping = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sender")

    async def stop(self) -> None:
        """Finish the message in flight and stop."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass  # killed earlier (tests of a crash)

    @property
    def slots(self) -> int:
        """Messages in flight at once: each may repeat at a crash."""
        return self._slots

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
        slots = [asyncio.create_task(self._slot(), name=f"sender-{n}") for n in range(self._slots)]
        try:
            await asyncio.gather(*slots)
        finally:
            for slot in slots:
                slot.cancel()

    async def _slot(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._round()
            except Exception:
                # The database or the network failed for a moment: the slot carries on.
                # Rows it held as "sending" go back to the queue at the next start.
                log.exception("sending slot failed; retrying in %s s", RETRY_PAUSE)
                await self._sleep(RETRY_PAUSE)

    async def _round(self) -> None:
        if not self._may_send():
            await self._sleep(IDLE)
            return
        # Cleared before looking: a wake() after this finds the new rows committed.
        self._wake.clear()
        batch = await self._deliveries.claim(BATCH)
        if not batch:
            try:
                await asyncio.wait_for(self._wake.wait(), IDLE)
            except TimeoutError:
                pass
            return
        for item in batch:
            if self._stopping.is_set() or not self._may_send():
                # Claimed but not sent: the next start puts them back in the queue.
                return
            await self._send(item)
            self._since_report[item.broadcast_id] = self._since_report.get(item.broadcast_id, 0) + 1
        for broadcast_id in {item.broadcast_id for item in batch}:
            await self._report(broadcast_id)

    async def _report(self, broadcast_id: int) -> None:
        """Tell whoever started a broadcast how it goes, every REPORT_EVERY and at the end."""
        due = self._since_report.get(broadcast_id, 0) >= REPORT_EVERY
        if due:  # reset before waiting, so that another slot does not report it too
            self._since_report[broadcast_id] = 0
        report = await self._deliveries.report(broadcast_id, final_only=not due)
        if report is None or report.delivery.member.channel != "telegram":
            return
        member = report.delivery.member
        text = self._translator.lines(report.delivery.reply.text, member.language)
        try:
            await self._bot.send_message(int(member.external_id), text)
        except TelegramError as error:
            log.warning("progress report for broadcast %s not sent: %s", broadcast_id, error)
        if report.stop_button is not None:
            await remove_buttons(self._bot, *report.stop_button)

    async def _pace(self, item: Outgoing) -> None:
        chat_id = item.chat_id
        # A notification to one person is paced like a reply: Telegram tolerates short
        # bursts in a private chat. Bulk messages keep to one a second per chat.
        interval = (PER_GROUP_INTERVAL if chat_id.startswith("-")
                    else 0.0 if item.urgent else PER_CHAT_INTERVAL)  # fmt: skip
        # Slots holding messages to the same chat let them go in queue order (notifications
        # first), whichever slot wakes first.
        turn = (not item.urgent, item.id)
        queue = self._waiting.setdefault(chat_id, [])
        bisect.insort(queue, turn)
        try:
            while True:
                now = self._clock()
                last = self._last_in_chat.get(chat_id, -interval)
                wait = max(self._paused_until, last + interval) - now
                if wait <= 0 and queue[0] == turn:
                    break
                await self._sleep(max(wait, TURN_TICK))
            # Held for this slot from now: another slot with a message to the chat waits.
            self._last_in_chat[chat_id] = now
        finally:
            queue.remove(turn)
            if not queue:
                del self._waiting[chat_id]
        await self._budget.take()
        now = self._clock()
        self._last_in_chat[chat_id] = now
        if len(self._last_in_chat) > 10_000:
            cutoff = now - PER_GROUP_INTERVAL
            self._last_in_chat = {c: t for c, t in self._last_in_chat.items() if t > cutoff}

    def wake(self) -> None:
        """Something urgent was queued: look now rather than at the next poll."""
        self._wake.set()

    async def _post(self, item: Outgoing) -> Message:
        chat = int(item.chat_id)
        if not item.photo and not item.has_image:
            keyboard = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=code) for label, code in row]
                 for row in item.buttons]
            ) if item.buttons else None  # fmt: skip
            return await self._bot.send_message(
                chat, item.text, reply_markup=keyboard, rate_limit_args=BROADCAST
            )
        photo, image = await self._deliveries.picture(item)
        picture = photo or image
        if picture is None:
            raise TelegramError("the broadcast's picture is missing")
        message = await self._bot.send_photo(
            chat, picture, caption=item.text or None, rate_limit_args=BROADCAST
        )
        if photo is None and message.photo:
            await self._deliveries.uploaded(item, message.photo[-1].file_id)
        return message

    async def _send(self, item: Outgoing) -> None:
        await self._pace(item)
        try:
            message = await self._post(item)
        except RetryAfter as error:
            seconds = wait_asked(error)
            log.warning("Telegram asked to wait %s s", seconds)
            self._metrics.too_many.inc()
            await self._deliveries.later(item)
            self._paused_until = self._clock() + seconds
            return
        except Forbidden:
            self._metrics.blocked.inc()
            await self._deliveries.blocked(item)
            return
        except TelegramError as error:
            log.warning("message %s to chat %s failed: %s", item.id, item.chat_id, error)
            await self._deliveries.failed(item, str(error))
            return
        await self._deliveries.sent(item, message.message_id)
        self.sent += 1
        self._metrics.sent.labels("queued").inc()
