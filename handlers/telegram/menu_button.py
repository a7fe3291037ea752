"""The menu button beside where a member types: an admin's opens the staff web view as a
Mini App (launched from there, the page gets Telegram's signed ``initData``, which a
reply-keyboard button does not give), everyone else's lists the commands."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from telegram import MenuButton, MenuButtonDefault, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

from domain.ui import PageMenu

if TYPE_CHECKING:
    from handlers.telegram.context import BotContext

log = logging.getLogger(__name__)

# Chats whose menu button this process set, remembered so that the same one is not set
# again at every main menu; a restart forgets them and sets each once more.
REMEMBERED = 50_000


class PageMenus:
    """What this process last set each chat's menu button to."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._set: OrderedDict[int, str] = OrderedDict()

    def changed(self, chat_id: int, page: str) -> bool:
        """Whether the chat's button must be set to this page ("" for the commands)."""
        if self._set.get(chat_id) == page:
            self._set.move_to_end(chat_id)
            return False
        return True

    def done(self, chat_id: int, page: str) -> None:
        """Remember what the chat's button was set to."""
        self._set[chat_id] = page
        self._set.move_to_end(chat_id)
        while len(self._set) > self._size:
            self._set.popitem(last=False)


async def show_page_menu(
    context: BotContext, chat_id: int, menu: PageMenu | None, language: str
) -> None:
    """Set the chat's menu button as the core asks, unless it already is."""
    if menu is None:
        return
    page = menu.page or ""
    remembered = context.bot_data.page_menus
    if not remembered.changed(chat_id, page):
        return
    button: MenuButton = MenuButtonDefault()
    if menu.page and menu.label is not None:
        label = context.translator.render(menu.label, language)
        button = MenuButtonWebApp(label, WebAppInfo(menu.page))
    try:
        await context.bot.set_chat_menu_button(chat_id, button)
    except TelegramError as error:
        # The reply is already out; the button is set again at the next main menu.
        log.warning("menu button of %s not set: %s", chat_id, error)
        return
    remembered.done(chat_id, page)
