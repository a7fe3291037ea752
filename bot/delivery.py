"""The sender: takes queued messages and sends them at Telegram's pace.

About 30 messages a second for the whole bot, one a second to one chat and 20 a
minute to one group are Telegram's limits. The sender takes its messages from the
bot's shared budget (``bot.budget``: whatever interactive replies leave of
``BROADCAST_RATE``, default 29/s), waits out a RetryAfter and marks a member who
blocked the bot as unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.budget import BROADCAST, SendBudget
from domain.delivery import DeliveryService, Outgoing
from locales import Translator

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0
# Groups and channels (negative chat ids in Telegram) take at most 20 messages a minute.
PER_GROUP_INTERVAL = 3.0
REPORT_EVERY = 1000
# Claimed at a time: small, so that a notification queued meanwhile waits little.
BATCH = 10
IDLE = 0.5


class Sender:
    """One sending slot: a message is in flight at a time, so a crash can leave at most
    one message uncertain (sent but not yet recorded)."""

    def __init__(
        self,
        bot: ExtBot[str],
        deliveries: DeliveryService,
        budget: SendBudget,
        translator: Translator,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._bot = bot
        self._translator = translator
        self._since_report: dict[int, int] = {}
        self._deliveries = deliveries
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._last_in_chat: dict[str, float] = {}
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def start(self) -> None:
        """Start sending in the background."""
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
        while not self._stopping.is_set():
            batch = await self._deliveries.claim(BATCH)
            if not batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE)
                except TimeoutError:
                    pass
                continue
            for item in batch:
                if self._stopping.is_set():
                    # Claimed but not sent: the next start puts them back in the queue.
                    return
                await self._send(item)
                self._since_report[item.broadcast_id] = (
                    self._since_report.get(item.broadcast_id, 0) + 1
                )
            for broadcast_id in {item.broadcast_id for item in batch}:
                await self._report(broadcast_id)

    async def _report(self, broadcast_id: int) -> None:
        """Tell whoever started a broadcast how it goes, every REPORT_EVERY and at the end."""
        due = self._since_report.get(broadcast_id, 0) >= REPORT_EVERY
        report = await self._deliveries.report(broadcast_id, final_only=not due)
        if due:
            self._since_report[broadcast_id] = 0
        if report is None or report.member.channel != "telegram":
            return
        text = self._translator.lines(report.reply.text, report.member.language)
        try:
            await self._bot.send_message(int(report.member.external_id), text)
        except TelegramError as error:
            log.warning("progress report for broadcast %s not sent: %s", broadcast_id, error)

    async def _pace(self, item: Outgoing) -> None:
        chat_id = item.chat_id
        now = self._clock()
        # A notification to one person is paced like a reply: Telegram tolerates short
        # bursts in a private chat. Bulk messages keep to one a second per chat.
        interval = (PER_GROUP_INTERVAL if chat_id.startswith("-")
                    else 0.0 if item.urgent else PER_CHAT_INTERVAL)  # fmt: skip
        wait = max(self._paused_until, self._last_in_chat.get(chat_id, -interval) + interval) - now
        if wait > 0:
            await self._sleep(wait)
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
            delay = error.retry_after
            seconds = delay if isinstance(delay, (int, float)) else delay.total_seconds()
            log.warning("Telegram asked to wait %s s", seconds)
            await self._deliveries.later(item)
            self._paused_until = self._clock() + seconds
            return
        except Forbidden:
            await self._deliveries.blocked(item)
            return
        except TelegramError as error:
            log.warning("message %s to chat %s failed: %s", item.id, item.chat_id, error)
            await self._deliveries.failed(item, str(error))
            return
        await self._deliveries.sent(item, message.message_id)
        self.sent += 1
