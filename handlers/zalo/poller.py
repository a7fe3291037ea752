"""Zalo's updates in, the core's answers out: long polling ``getUpdates``, one event at a
time, so one member's messages are handled in the order they were sent."""

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
from handlers.zalo.inbound import UNSUPPORTED_HERE, inbound_of
from handlers.zalo.render import render
from locales import Translator

log = logging.getLogger(__name__)

# Seconds getUpdates waits for an event before answering "nothing new".
POLL_TIMEOUT = 30
# After a network failure or a 429, wait this long, doubling up to the maximum.
RETRY_FIRST, RETRY_MAX = 1.0, 60.0


class ZaloPoller:
    """Takes Zalo's events one by one to the core and sends what it answers."""

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
    ) -> None:
        self._api = api
        self._service = service
        self._translator = translator
        self._default_language = default_language
        self._poll_timeout = poll_timeout
        self._sleep = sleep
        self._on_handled = on_handled
        # Events taken from Zalo and done with, answered or not.
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a wrong token ends the loop with an error logged."""
        wait = RETRY_FIRST
        while not stop.is_set():
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
            wait = RETRY_FIRST
            if event is not None:
                await self.handle(event)

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
            if self._on_handled is not None:
                self._on_handled(event, time.perf_counter() - start)

    async def _handle(self, event: ZaloEvent) -> None:
        if event.sender_is_bot:
            return  # two bots must not keep answering each other
        inbound = inbound_of(event)
        if inbound is None:
            # Protected users, groups: a kind word, and nothing stored.
            await self._send_texts(event.chat_id, [self._say(UNSUPPORTED_HERE, None)])
            return
        outcome = await self._service.handle(inbound)
        if outcome.duplicate:
            log.info("ignored redelivered Zalo message %s", event.message_id)
            return
        await self._send_texts(event.chat_id, self._texts(outcome))

    def _texts(self, outcome: Outcome) -> list[str]:
        """What the member reads: a refused or stale press's notice (Zalo shows no toast),
        a card's new face, then the replies."""
        language = outcome.language
        texts = []
        if outcome.notice is not None:
            texts.append(self._say(outcome.notice, language))
        if outcome.pressed is not None:
            texts += render(outcome.pressed, self._translator, language)
        for reply in outcome.replies:
            texts += render(reply, self._translator, language)
        return texts

    def _say(self, text: Text, language: str | None) -> str:
        return self._translator.render(text, language or self._default_language)

    async def _send_texts(self, chat_id: str, texts: list[str]) -> None:
        for text in texts:
            try:
                await self._api.send_message(chat_id, text)
            except ZaloForbidden:
                log.info("Zalo user %s cannot be messaged", chat_id)
                return
