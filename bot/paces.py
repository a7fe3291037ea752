"""Each channel's pace for bulk messages, and Telegram's paid broadcasts when the union
pays (PAID_BROADCAST): wired here, where the settings, the database and the bot meet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from telegram import Bot

from bot.settings import Settings
from domain.announce_cases import FreePaceNotices, Pace, PaidOffers
from handlers.telegram import CHANNEL as TELEGRAM
from handlers.telegram.paid import NoPaid, PaidBroadcasts, PaidPace
from handlers.zalo.render import CHANNEL as ZALO
from storage.paid import PaidSends

if TYPE_CHECKING:
    from bot.graph import Graph


def free_rates(settings: Settings) -> dict[str, float]:
    """Messages a second each running channel sends bulk messages at, free."""
    rates: dict[str, float] = {}
    if settings.telegram_bot_token:
        rates[TELEGRAM] = settings.broadcast_rate
    if settings.zalo_bot_token:
        rates[ZALO] = settings.zalo_rate
    return rates


class ChannelPaces:
    """The paces an announcement's preview shows (``domain.announce_cases.Paces``): each
    channel's free rate, and what paying offers where a channel pays."""

    def __init__(self, free: Mapping[str, float]) -> None:
        self._free = dict(free)
        self._paid: dict[str, PaidOffers] = {}

    def pays(self, channel: str, offers: PaidOffers) -> None:
        """The channel sends paid when it can: the preview shows what it offers."""
        self._paid[channel] = offers

    async def pace(self, channel: str) -> Pace:
        """The channel's pace now."""
        paid = self._paid.get(channel)
        return Pace(self._free.get(channel, 0.0), await paid.offer() if paid else None)


def telegram_paid(graph: Graph, bot: Bot) -> PaidPace:
    """Telegram's paid pace: nothing goes paid unless the union chose to pay."""
    settings = graph.settings
    if not settings.paid_broadcast:
        return NoPaid()
    notices = FreePaceNotices(graph.units_of_work, graph.clock)
    paid = PaidBroadcasts(
        bot.get_my_star_balance, PaidSends(graph.units_of_work),
        rate=settings.paid_broadcast_rate, daily_stars=settings.paid_broadcast_daily_stars,
        # The cap is a day of the union's clock.
        today=lambda: graph.clock().astimezone(settings.timezone).date(),
        clock=graph.pace_clock, tell=notices.tell,
    )  # fmt: skip
    graph.paces.pays(TELEGRAM, paid)
    return paid
