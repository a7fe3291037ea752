"""``python -m bot units links``: each grassroots unit's entry on every channel the bot is
on, Telegram's deep link and Zalo's link, and with ``--qr`` its A4 poster."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import TelegramError

from bot.links import (
    ZALO_LINK_RULE,
    bot_username,
    deep_link,
    poster_sheet,
    write_poster,
    zalo_link,
)
from bot.preflight import unreachable
from bot.settings import (
    DEFAULT_API_BASE_URL,
    DEFAULT_ZALO_API_BASE_URL,
    UNION_TIMEZONE,
    SettingsError,
)
from domain.model import Unit
from handlers.zalo.api import ZaloApi, ZaloBot, ZaloError, ZaloNetworkError, ZaloUnauthorized
from locales import Translator

# A setting by name, from the environment or .env, with its default.
Env = Callable[[str, str], str]

NEED_USERNAME = "set BOT_USERNAME (in the environment or .env) or pass --bot-username NAME"
NEED_ZALO_LINK = (
    f"set ZALO_BOT_LINK (in the environment or .env) or pass --zalo-link URL: {ZALO_LINK_RULE}"
)


@dataclass(frozen=True, slots=True)
class Channels:
    """Where workers find the bot: its Telegram username, its Zalo link; None where it
    is not on that channel."""

    telegram: str | None = None
    zalo: str | None = None

    def columns(self) -> list[str]:
        """What each entry's fields after the code and the name are."""
        names = ["Telegram link"] if self.telegram else []
        if self.zalo:
            names.append("Zalo link (a worker there sends the unit's code)")
        return names


async def link_channels(username: str | None, zalo: str | None, env: Env) -> Channels:
    """Every channel the links can be printed for; SettingsError says what to set when
    there is none, or when asking a channel about its bot fails."""
    channels = Channels(await telegram_username(username, env), await zalo_bot_link(zalo, env))
    if channels.telegram is None and channels.zalo is None:
        raise SettingsError(
            f"The links need the bot's username: {NEED_USERNAME}.\n"
            f"For Zalo: set ZALO_BOT_TOKEN, and {NEED_ZALO_LINK}."
        )
    return channels


async def telegram_username(given: str | None, env: Env) -> str | None:
    """The bot's username: --bot-username, else BOT_USERNAME, else asked from Telegram
    when TELEGRAM_BOT_TOKEN is set; None without any of them."""
    name, source = given, "--bot-username"
    if not name:
        name, source = env("BOT_USERNAME", ""), "BOT_USERNAME"
    if name:
        try:
            return bot_username(name)
        except ValueError as error:
            raise SettingsError(f"{source}: {error}.") from None
    token = env("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        return None
    base_url = env("TELEGRAM_API_BASE_URL", DEFAULT_API_BASE_URL).rstrip("/")
    bot = Bot(token, base_url=f"{base_url}/bot")
    try:
        async with bot:
            return bot.username
    except TelegramError as error:
        raise SettingsError(
            f"Could not ask Telegram for the bot's username. {unreachable(error, base_url)}\n"
            f"Or, without Telegram: {NEED_USERNAME}."
        ) from None


async def zalo_bot_link(given: str | None, env: Env) -> str | None:
    """The Zalo bot's link: --zalo-link, else ZALO_BOT_LINK; None when neither it nor
    ZALO_BOT_TOKEN is set. With the token, Zalo is asked (getMe) whether it is right."""
    link, source = given, "--zalo-link"
    if not link:
        link, source = env("ZALO_BOT_LINK", ""), "ZALO_BOT_LINK"
    token = env("ZALO_BOT_TOKEN", "").strip()
    if not token and not link:
        return None
    if link:
        try:
            link = zalo_link(link)
        except ValueError as error:
            raise SettingsError(f"{source}: {error}.") from None
    if token:
        bot = await zalo_bot(token, env("ZALO_API_BASE_URL", DEFAULT_ZALO_API_BASE_URL))
        if not link:
            # getMe answers the bot's id and account name, and no link to it.
            raise SettingsError(
                f"ZALO_BOT_TOKEN is set, so every entry gets a Zalo line, which needs the "
                f"link of the bot {bot.name or bot.id}: {NEED_ZALO_LINK}."
            )
    return link


async def zalo_bot(token: str, base_url: str) -> ZaloBot:
    """The bot ``token`` belongs to, by Zalo's getMe; SettingsError in a sentence when
    Zalo refuses or cannot be reached (never with the token in it)."""
    base_url = base_url.rstrip("/")
    try:
        async with ZaloApi(token, base_url) as api:
            return await api.get_me()
    except ZaloUnauthorized:
        reason = (
            "Zalo rejected ZALO_BOT_TOKEN (getMe answered 401 Unauthorized): the token was "
            "reset or mistyped. Copy the current one from Zalo Bot Creator into .env."
        )
    except ZaloNetworkError as error:
        check = "this machine's internet connection, DNS and firewall"
        if base_url != DEFAULT_ZALO_API_BASE_URL:
            check += f", and ZALO_API_BASE_URL ({base_url})"
        host = urlsplit(base_url).hostname or base_url
        reason = f"Zalo's Bot API at {host} cannot be reached ({error.reason}). Check {check}."
    except ZaloError as error:
        reason = f"Zalo answered getMe with {error.error_code} {error.description}".strip() + "."
    raise SettingsError(f"Could not ask Zalo about the bot (getMe). {reason}")


def print_entries(
    units: Sequence[Unit], channels: Channels, posters: Path | None, language: str
) -> None:
    """One line per unit: its code, its name, its link on each channel, and the poster
    written with ``posters``; what the columns are goes to stderr first."""
    columns = ["code", "name", *channels.columns(), *(["poster"] if posters else [])]
    print(f"Columns: {', '.join(columns)}.", file=sys.stderr)
    translator = Translator(UNION_TIMEZONE)
    for unit in units:
        telegram = deep_link(channels.telegram, unit.code) if channels.telegram else None
        fields = [unit.code, unit.name, *(link for link in (telegram, channels.zalo) if link)]
        if posters is not None:
            sheet = poster_sheet(unit.code, unit.name, telegram=telegram, zalo=channels.zalo,
                                 translator=translator, language=language)  # fmt: skip
            fields.append(str(write_poster(posters, sheet)))
        print("\t".join(fields))
