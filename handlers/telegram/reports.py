"""Reports to whoever started a broadcast: its progress as it goes, and once when done."""

from __future__ import annotations

import logging
import time

from telegram.error import TelegramError
from telegram.ext import ExtBot

from domain.delivery import DeliveryService
from handlers.telegram.render import CHANNEL, remove_buttons
from locales import Translator

log = logging.getLogger(__name__)

# Progress reports: every this many messages, and no more often than every REPORT_GAP
# seconds (at the paid pace, 1.000 messages take one second).
REPORT_EVERY = 1000
REPORT_GAP = 10.0
# A broadcast's tally (is it done?) is read at most this often, in seconds, once the
# queue runs short (and every REPORT_IDLE seconds while it is long): counting 100.000 rows
# at every batch would slow the sending itself and the database for everyone.
REPORT_CHECK = 1.0
REPORT_IDLE = 30.0
# Broadcasts whose times are remembered before the old ones are let go.
REMEMBERED = 256


class Reports:
    """Which broadcasts are due a report, and the reports."""

    def __init__(
        self, bot: ExtBot[str], deliveries: DeliveryService, translator: Translator
    ) -> None:
        self._bot = bot
        self._deliveries = deliveries
        self._translator = translator
        # Messages recorded since the last progress report, when it was, and when each
        # broadcast's tally was last read.
        self._since_report: dict[int, int] = {}
        self._reported_at: dict[int, float] = {}
        self._checked: dict[int, float] = {}
        # Broadcasts with messages ended since their tally was last read.
        self._pending: set[int] = set()
        # Whether the last bulk claim found fewer messages than it asked for: then the
        # broadcasts in flight may be ending.
        self.queue_short = True

    def ended(self, broadcast_id: int, sent: bool = False) -> None:
        """A message of the broadcast went out (or ended otherwise)."""
        if sent:
            self._since_report[broadcast_id] = self._since_report.get(broadcast_id, 0) + 1
        self._pending.add(broadcast_id)

    async def due(self) -> None:
        """Report the broadcasts due a report: their progress, and once done."""
        now = time.monotonic()
        wait = REPORT_CHECK if self.queue_short else REPORT_IDLE
        for broadcast_id in list(self._pending):
            due = self._progress_is_due(broadcast_id, now)
            if not due and now - self._checked.get(broadcast_id, -wait) < wait:
                continue
            self._pending.discard(broadcast_id)
            self._checked[broadcast_id] = now
            await self._report(broadcast_id, due)
        if len(self._checked) > REMEMBERED:
            self._checked = {b: t for b, t in self._checked.items() if now - t < REPORT_IDLE}
            self._reported_at = {b: t for b, t in self._reported_at.items()
                                 if now - t < REPORT_GAP}  # fmt: skip

    def _progress_is_due(self, broadcast_id: int, now: float) -> bool:
        """Every REPORT_EVERY messages, at most every REPORT_GAP seconds."""
        last = self._reported_at.get(broadcast_id, -REPORT_GAP)
        return self._since_report.get(broadcast_id, 0) >= REPORT_EVERY and now - last >= REPORT_GAP

    async def _report(self, broadcast_id: int, due: bool) -> None:
        """Tell whoever started a broadcast how it goes, or that it is done."""
        if due:
            self._since_report[broadcast_id] = 0
            self._reported_at[broadcast_id] = time.monotonic()
        report = await self._deliveries.report(broadcast_id, final_only=not due)
        if report is not None and not due:
            self._since_report.pop(broadcast_id, None)  # done
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
