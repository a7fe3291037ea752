"""The sender: takes Telegram's queued messages, renders each in its reader's language of
the moment, and sends them at Telegram's pace.

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
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.metrics import Metrics
from domain.delivery import DeliveryService, Outgoing
from domain.model import AttachmentKind
from domain.ui import caption_length
from handlers.telegram.budget import BROADCAST, SendBudget, wait_asked
from handlers.telegram.kept import KeptUploads
from handlers.telegram.render import (
    CAPABILITIES,
    CHANNEL,
    Notification,
    notification,
    remove_buttons,
)
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
# Queued messages rendered, by (broadcast, language): a broadcast to 100.000 members is
# translated once per language, not once per member.
RENDERED = 256


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
        default_language: str = "vi",
        kept: KeptUploads | None = None,
    ) -> None:
        self._bot = bot
        self._kept = kept or KeptUploads()
        # What a group or channel chat reads; a member reads their own language.
        self._default_language = default_language
        self._rendered: OrderedDict[tuple[int, str], asyncio.Future[Notification | None]] = (
            OrderedDict()
        )
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
        batch = await self._deliveries.claim(CHANNEL, BATCH)
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
        if report is None or report.delivery.member.channel != CHANNEL:
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

    async def _post(self, item: Outgoing, shown: Notification) -> Message | None:
        chat = int(item.chat_id)
        if item.edit is not None:
            # One message is edited: a card longer than Telegram's limit keeps its first piece.
            await self._bot.edit_message_text(
                shown.pieces[0], chat_id=chat, message_id=item.edit, reply_markup=shown.keyboard
            )
            return None
        if item.photo or item.has_image:
            if caption_length(shown.text) <= CAPABILITIES.caption_limit:
                return await self._photo(item, shown.text or None, shown.keyboard)
            # Too long for a caption: the picture, then the whole text.
            await self._photo(item, None, None)
            await self._budget.take()
        message: Message | None = None
        for index, piece in enumerate(shown.pieces):
            if index:
                await self._budget.take()
            last = index == len(shown.pieces) - 1
            message = await self._bot.send_message(
                chat, piece, reply_markup=shown.keyboard if last else None,
                rate_limit_args=BROADCAST,
            )  # fmt: skip
        return message

    async def _photo(
        self, item: Outgoing, caption: str | None, keyboard: InlineKeyboardMarkup | None
    ) -> Message:
        photo, image = await self._deliveries.picture(item)
        # A kept photo (an announcement a Zalo admin made) is uploaded from its bytes.
        kept = await self._kept.media(photo, AttachmentKind.PHOTO) if photo else None
        picture = kept or image
        if picture is None:
            raise TelegramError("the broadcast's picture is missing")
        message = await self._bot.send_photo(
            int(item.chat_id), picture, caption=caption, reply_markup=keyboard,
            rate_limit_args=BROADCAST,
        )  # fmt: skip
        if photo is None and message.photo:
            await self._deliveries.uploaded(item, message.photo[-1].file_id)
        elif photo is not None:
            self._kept.uploaded(photo, AttachmentKind.PHOTO, message)
        return message

    async def _send(self, item: Outgoing) -> None:
        shown = await self._notification(item)
        if shown is None:
            await self._deliveries.refused(item, "its broadcast is gone or unreadable")
            return
        await self._pace(item)
        try:
            message = await self._post(item, shown)
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
            await self._failed(item, error)
            return
        await self._deliveries.sent(item, message.message_id if message is not None else None)
        self.sent += 1
        self._metrics.sent.labels("queued").inc()

    async def _failed(self, item: Outgoing, error: TelegramError) -> None:
        if item.edit is not None and isinstance(error, BadRequest):
            # Telegram refuses an edit that changes nothing, or of a message deleted since:
            # trying again cannot help.
            log.info("card %s/%s not updated: %s", item.chat_id, item.edit, error)
            await self._deliveries.refused(item, str(error))
            return
        log.warning("message %s to chat %s failed: %s", item.id, item.chat_id, error)
        await self._deliveries.failed(item, str(error))
