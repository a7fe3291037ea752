"""Zalo's updates in, the core's answers out: long polling ``getUpdates``, which gives one
event a call. The loop hands each event on and polls again at once: one member's events
are handled one at a time in the order they came, many members' side by side."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from domain.service import ConversationService
from domain.text import Text
from domain.ui import Outcome
from handlers.zalo.api import (
    ZaloApi,
    ZaloError,
    ZaloEvent,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloRateLimited,
    ZaloUnauthorized,
)
from handlers.zalo.inbound import UNSUPPORTED_HERE, FileKeeper, FileNotKept, inbound_of
from handlers.zalo.pictures import Message, ZaloPictures, deliver
from handlers.zalo.webhook import DEFAULT_CONCURRENCY, MemberOrder
from locales import Translator

log = logging.getLogger(__name__)

# Seconds getUpdates waits for an event before answering "nothing new".
POLL_TIMEOUT = 30
# After a network failure or a 429, wait this long, doubling up to the maximum.
RETRY_FIRST, RETRY_MAX = 1.0, 60.0


class ZaloPoller:
    """Takes Zalo's events to the core, each in its member's order, and sends what it
    answers."""

    def __init__(
        self,
        api: ZaloApi,
        service: ConversationService,
        translator: Translator,
        default_language: str,
        *,
        poll_timeout: int = POLL_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_handled: Callable[[ZaloEvent, float], None] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        keeper: FileKeeper | None = None,
        pictures: ZaloPictures | None = None,
    ) -> None:
        self._api = api
        # Photos and voice notes are fetched and kept before the core sees them.
        self._keeper = keeper
        self._pictures = pictures or ZaloPictures(translator)
        self._service = service
        self._translator = translator
        self._default_language = default_language
        self._poll_timeout = poll_timeout
        self._sleep = sleep
        # Told of each event done with and the seconds it took (metrics; benchmarks
        # chain onto it).
        self.on_handled = on_handled
        # Events taken from Zalo and done with, answered or not.
        self.handled = 0
        # Polled or posted to the webhook, every event goes through this.
        self.order = MemberOrder(self.handle, concurrency)
        # Polling pauses while this many polled events are in flight: a backlog waits at
        # Zalo rather than in this process's memory.
        self._room = asyncio.Semaphore(concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set or the task is cancelled, then wait for the events in
        flight, so none taken from Zalo is dropped; a wrong token ends the loop with an
        error logged."""
        try:
            await self._poll(stop)
        finally:
            await self.drain()

    async def _poll(self, stop: asyncio.Event) -> None:
        """Take events while there is room for them, backing off after a failure."""
        wait = RETRY_FIRST
        while not stop.is_set():
            await self._room.acquire()
            event = None
            try:
                event = await self._api.get_updates(self._poll_timeout)
            except ZaloUnauthorized:
                log.error("Zalo refused the bot token (401): the Zalo channel stops")
                return
            except (ZaloNetworkError, ZaloRateLimited, ZaloError) as error:
                log.warning("Zalo getUpdates failed, retrying in %.0f s: %s", wait, error)
                await self._sleep(wait)
                wait = min(wait * 2, RETRY_MAX)
                continue
            finally:
                if event is None:  # the room is the dispatched event's until it is done
                    self._room.release()
            wait = RETRY_FIRST
            if event is not None:
                self._dispatch(event)

    def _dispatch(self, event: ZaloEvent) -> None:
        """Start the event's handling and return: tasks start in the order they are made,
        so the member's lock is queued for in the order Zalo gave the events."""
        task = asyncio.create_task(self.order(event), name=f"zalo-event-{event.message_id}")
        self._in_flight.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """An event is done with: its room goes to the next poll."""
        self._in_flight.discard(task)
        self._room.release()

    async def drain(self) -> None:
        """Wait until every polled event in flight is handled (cancelling this wait leaves
        them running)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def handle(self, event: ZaloEvent) -> None:
        """One event: to the core, and its answer back; nothing a member sends stops the
        loop. Polled or posted to the webhook, every event comes this way."""
        start = time.perf_counter()
        try:
            await self._handle(event)
        except Exception:
            log.exception("Zalo message %s from %s failed", event.message_id, event.sender_id)
        finally:
            self.handled += 1
            if self.on_handled is not None:
                self.on_handled(event, time.perf_counter() - start)

    async def _handle(self, event: ZaloEvent) -> None:
        if event.sender_is_bot:
            return  # two bots must not keep answering each other
        try:
            attachment = await self._keeper.attachment(event) if self._keeper else None
        except FileNotKept as refusal:
            # Nothing reached the core: the member sends it again, and loses nothing.
            await self._send(event.chat_id, [self._say(refusal.text, None)])
            return
        inbound = inbound_of(event, attachment)
        if inbound is None:
            # Protected users, groups: a kind word, and nothing stored.
            await self._send(event.chat_id, [self._say(UNSUPPORTED_HERE, None)])
            return
        outcome = await self._service.handle(inbound)
        if outcome.duplicate:
            log.info("ignored redelivered Zalo message %s", event.message_id)
            return
        await self._send(event.chat_id, await self._messages(outcome))

    async def _messages(self, outcome: Outcome) -> list[Message]:
        """What the member reads: a refused or stale press's notice (Zalo shows no toast),
        a card's new face, then the replies, pictures included."""
        language = outcome.language
        messages: list[Message] = []
        if outcome.notice is not None:
            messages.append(self._say(outcome.notice, language))
        if outcome.pressed is not None:
            messages += await self._pictures.messages(outcome.pressed, language)
        for reply in outcome.replies:
            messages += await self._pictures.messages(reply, language)
        return messages

    def _say(self, text: Text, language: str | None) -> str:
        return self._translator.render(text, language or self._default_language)

    async def _send(self, chat_id: str, messages: list[Message]) -> None:
        for message in messages:
            try:
                await deliver(self._api, chat_id, message)
            except ZaloForbidden:
                log.info("Zalo user %s cannot be messaged", chat_id)
                return
