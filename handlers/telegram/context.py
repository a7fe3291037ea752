"""The bot's shared resources and its typed callback context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from domain.chats import GroupChats
from domain.delivery import DeliveryService
from domain.service import ConversationService
from domain.upkeep import Upkeep
from handlers.telegram.kept import KeptUploads
from handlers.telegram.menu_button import PageMenus
from locales import Translator


@dataclass
class BotData:
    """Shared resources, made when the application starts (see ``bot.app``)."""

    service: ConversationService | None = None
    translator: Translator | None = None
    # Reply-keyboard labels in every language, mapped to the command they stand for.
    labels: dict[str, str] = field(default_factory=dict)
    deliveries: DeliveryService | None = None
    # The broadcast sender (handlers.telegram.sender.Sender), started and stopped with the bot.
    sender: Any = None
    # The weekly commendations (domain.commend.Commendations).
    commendations: Any = None
    # The scheduled work (domain.upkeep.Upkeep) and what groups and channels say
    # (domain.chats.GroupChats).
    upkeep: Upkeep | None = None
    group_chats: GroupChats | None = None
    # The language of messages to groups and channels.
    default_language: str = "vi"
    # Prometheus metrics (bot.metrics.Metrics) and the health checks (bot.web.Health).
    metrics: Any = None
    health: Any = None
    # The job lease (bot.duty.Duty): the jobs and the sender run where it is held.
    duty: Any = None
    # Files the bot keeps (a Zalo member's photos and voice notes), sent from their bytes.
    kept: KeptUploads = field(default_factory=KeptUploads)
    # What each chat's menu button was last set to.
    page_menus: PageMenus = field(default_factory=PageMenus)


class BotContext(
    CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
):
    """The callback context with our typed ``bot_data``."""

    @property
    def service(self) -> ConversationService:
        """The conversation service."""
        assert self.bot_data.service is not None
        return self.bot_data.service

    @property
    def upkeep(self) -> Upkeep:
        """The scheduled work."""
        assert self.bot_data.upkeep is not None
        return self.bot_data.upkeep

    @property
    def group_chats(self) -> GroupChats:
        """What groups and channels say to the bot."""
        assert self.bot_data.group_chats is not None
        return self.bot_data.group_chats

    @property
    def translator(self) -> Translator:
        """The translator."""
        assert self.bot_data.translator is not None
        return self.bot_data.translator


BotApplication = Application[ExtBot[None], BotContext, dict[object, object],
                             dict[object, object], BotData, JobQueue[BotContext]]  # fmt: skip
