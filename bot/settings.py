"""One typed settings object, read once from the environment and an optional ``.env``."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update

from domain.ports_similar import SimilarField, SimilarRules
from handlers.zalo.channel import DEFAULT_RATE as DEFAULT_ZALO_RATE

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/sangkien.db"
DEFAULT_API_BASE_URL = "https://api.telegram.org"
DEFAULT_ZALO_API_BASE_URL = "https://bot-api.zaloplatforms.com"
UNION_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
# What Telegram's webhook secret may be made of.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
# Zalo's setWebhook secret_token: "8 to 256 characters"; it travels in a header, so
# visible ASCII only.
_ZALO_SECRET = re.compile(r"^[!-~]{8,256}$")
# How long a link to a picture at PUBLIC_URL works: Zalo fetches it when it is sent, and
# a reviewer may open a voice note's link days later (a weekend).
DEFAULT_PUBLIC_LINK_HOURS = 72.0
MAX_PUBLIC_LINK_HOURS = 720
DEFAULT_WEB_SESSION_HOURS = 8.0
MAX_WEB_SESSION_HOURS = 72
DEFAULT_WEB_INIT_DATA_HOURS = 24.0
MAX_WEB_INIT_DATA_HOURS = 168
# Paid broadcasts: above Telegram's free bulk pace (about 30 a second), at most its 1.000.
FREE_LIMIT = 30
MAX_PAID_RATE = 1000.0
# Messages a second to Zalo at most: the platform documents no limit; Telegram's is 30.
MAX_ZALO_RATE = 30.0
# Read only when Telegram's channel is on: with Zalo alone they mean nothing.
TELEGRAM_ONLY = ("TELEGRAM_API_BASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET",
                 "WEBHOOK_MAX_CONNECTIONS", "WEBHOOK_ALLOWED_UPDATES", "BROADCAST_RATE",
                 "SEND_SLOTS", "PAID_BROADCAST", "PAID_BROADCAST_RATE",
                 "PAID_BROADCAST_DAILY_STARS")  # fmt: skip
# The updates the bot handles: messages (and a channel's posts, for /linkchat), button
# presses, and being blocked or removed.
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member", "channel_post")


class SettingsError(Exception):
    """A setting is missing or wrong; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with: at least one channel's token."""

    # Telegram's channel is on when its token is set, Zalo's when its token is.
    telegram_bot_token: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    timezone: ZoneInfo = UNION_TIMEZONE
    default_language: str = "vi"
    migrate_on_start: bool = True
    max_concurrent_updates: int = 256
    review_reminder_days: int = 7
    invite_days: int = 7
    nudge_drafts: bool = True
    # Drafts untouched this many months get a notice, then go 14 days later.
    draft_retention_months: int = 12
    nudge_milestones: bool = True
    nudge_lagging: bool = True
    nudge_quiet_from: int = 21
    nudge_quiet_until: int = 7
    broadcast_rate: float = 29.0
    send_slots: int = 8
    zalo_bot_token: str = ""
    zalo_api_base_url: str = DEFAULT_ZALO_API_BASE_URL
    # Messages a second the Zalo sender sends (ZALO_RATE).
    zalo_rate: float = DEFAULT_ZALO_RATE
    # Zalo's webhook mode, beside Telegram's, served by the same HTTP server.
    zalo_webhook_url: str = ""
    zalo_webhook_secret: str = ""
    # The bot's public https address (PUBLIC_URL): it serves pictures there for Zalo's
    # sendPhoto, each at an unguessable link that lasts PUBLIC_LINK_HOURS.
    public_url: str = ""
    public_link_hours: float = DEFAULT_PUBLIC_LINK_HOURS
    # The staff web view at PUBLIC_URL/web: how long a sign-in lasts, and how old
    # Telegram's Mini App launch data may be.
    web_session_hours: float = DEFAULT_WEB_SESSION_HOURS
    web_init_data_hours: float = DEFAULT_WEB_INIT_DATA_HOURS
    # Webhook mode (``python -m bot run --webhook``) and the HTTP side (health, metrics).
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_max_connections: int = 40
    allowed_updates: tuple[str, ...] = ALLOWED_UPDATES
    http_listen: str = "0.0.0.0"
    http_port: int | None = None
    # Seconds the job lease lasts unrenewed: a dead holder is replaced within this.
    job_lease_seconds: float = 30.0
    # The Telegram chat (a person or a group of operators) told of errors; None: nobody.
    alert_chat_id: int | None = None
    review_reminder_time: dt.time = dt.time(8, 0)
    weekly_day: int = 0
    weekly_time: dt.time = dt.time(8, 0)
    # The union pays for faster broadcasts (Telegram's allow_paid_broadcast, 0,1 Star a
    # message): at this rate, spending at most this many Stars a day in its clock.
    paid_broadcast: bool = False
    paid_broadcast_rate: float = MAX_PAID_RATE
    paid_broadcast_daily_stars: int = 0
    # Similar initiatives shown while writing and reviewing: how close, on which answers
    # (SIMILAR_THRESHOLD, SIMILAR_FIELDS).
    similar_rules: SimilarRules = field(default_factory=SimilarRules)

    def check_webhook(self) -> None:
        """Webhook mode needs, for each channel that is on, a public https address and a
        secret the platform will send back."""
        if self.telegram_bot_token:
            self.check_telegram_webhook()
        if self.zalo_bot_token:
            self.check_zalo_webhook()

    def check_telegram_webhook(self) -> None:
        """Telegram's webhook: a public https address and a secret Telegram sends back."""
        url = urlsplit(self.webhook_url)
        if url.scheme != "https" or not url.hostname:
            raise SettingsError(
                "WEBHOOK_URL must be the public https address Telegram posts updates to, "
                "e.g. https://bot.congdoan.vn/telegram."
            )
        if not _SECRET.match(self.webhook_secret):
            raise SettingsError(
                "WEBHOOK_SECRET must be 16 to 256 letters, digits, _ or -; for example the "
                "output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )

    def check_zalo_webhook(self) -> None:
        """Zalo's webhook needs the same: its own https address (on a path other than
        Telegram's when both are on), and a secret Zalo will send back."""
        url = urlsplit(self.zalo_webhook_url)
        if url.scheme != "https" or not url.hostname:
            raise SettingsError(
                "ZALO_WEBHOOK_URL must be the public https address Zalo posts events to, "
                "e.g. https://bot.congdoan.vn/zalo (ZALO_BOT_TOKEN is set, so webhook mode "
                "needs it)."
            )
        if self.telegram_bot_token and self.zalo_webhook_path == self.webhook_path:
            raise SettingsError(
                "ZALO_WEBHOOK_URL and WEBHOOK_URL must have different paths (e.g. /zalo and "
                "/telegram): one HTTP server serves both."
            )
        if not _ZALO_SECRET.match(self.zalo_webhook_secret):
            raise SettingsError(
                "ZALO_WEBHOOK_SECRET must be 8 to 256 characters without spaces (letters, "
                "digits and punctuation); for example the output of: "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )

    @property
    def webhook_path(self) -> str:
        """The path of the webhook address, which the bot serves."""
        return urlsplit(self.webhook_url).path or "/"

    @property
    def zalo_webhook_path(self) -> str:
        """The path of Zalo's webhook address, served beside Telegram's."""
        return urlsplit(self.zalo_webhook_url).path or "/"

    def __repr__(self) -> str:
        """Never show the token."""
        return (
            f"Settings(database_url={self.database_url!r}, "
            f"telegram_api_base_url={self.telegram_api_base_url!r}, timezone={self.timezone}, "
            f"default_language={self.default_language!r}, "
            f"telegram_bot_token={'***' if self.telegram_bot_token else ''!r}, "
            f"zalo_api_base_url={self.zalo_api_base_url!r}, "
            f"zalo_bot_token={'***' if self.zalo_bot_token else ''!r}, "
            f"zalo_rate={self.zalo_rate})"
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read settings; the process environment wins over the ``.env`` file."""
        values = dict(read_env_file(env_file)) if env_file else {}
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        """Validate settings given as strings."""
        token, zalo_token = _tokens(values)
        if not token:
            values = {name: value for name, value in values.items() if name not in TELEGRAM_ONLY}
        zone = values.get("BOT_TIMEZONE", "Asia/Ho_Chi_Minh")
        try:
            timezone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise SettingsError(f"BOT_TIMEZONE {zone!r} is not a known time zone.") from error
        language = values.get("BOT_DEFAULT_LANGUAGE", "vi")
        if language not in ("vi", "en"):
            raise SettingsError("BOT_DEFAULT_LANGUAGE must be vi or en.")
        try:
            reminder_days = int(values.get("REVIEW_REMINDER_DAYS", "7"))
            invite_days = int(values.get("INVITE_DAYS", "7"))
            quiet_from = int(values.get("NUDGE_QUIET_FROM", "21"))
            quiet_until = int(values.get("NUDGE_QUIET_UNTIL", "7"))
            reminder_time = _time(values.get("REVIEW_REMINDER_TIME", "08:00"))
            weekly_time = _time(values.get("WEEKLY_TIME", "08:00"))
        except ValueError as error:
            raise SettingsError(
                "REVIEW_REMINDER_DAYS and INVITE_DAYS must be whole numbers of days, "
                "NUDGE_QUIET_FROM and NUDGE_QUIET_UNTIL whole hours, and REVIEW_REMINDER_TIME "
                "and WEEKLY_TIME a time like 08:00."
            ) from error
        if not (0 <= quiet_from <= 24 and 0 <= quiet_until <= 24):
            raise SettingsError("NUDGE_QUIET_FROM and NUDGE_QUIET_UNTIL are hours from 0 to 24.")
        if reminder_days < 1 or invite_days < 1:
            raise SettingsError("REVIEW_REMINDER_DAYS and INVITE_DAYS must be at least 1.")
        weekday = values.get("WEEKLY_DAY", "mon").strip().lower()[:3]
        if weekday not in WEEKDAYS:
            raise SettingsError("WEEKLY_DAY must be a day of the week: mon, tue, ... sun.")
        return cls(
            weekly_day=WEEKDAYS.index(weekday),
            weekly_time=weekly_time,
            review_reminder_days=reminder_days,
            review_reminder_time=reminder_time,
            invite_days=invite_days,
            nudge_drafts=_switch(values, "NUDGE_DRAFTS"),
            nudge_milestones=_switch(values, "NUDGE_MILESTONES"),
            nudge_lagging=_switch(values, "NUDGE_LAGGING"),
            nudge_quiet_from=quiet_from,
            nudge_quiet_until=quiet_until,
            broadcast_rate=_rate(values),
            send_slots=_slots(values),
            **_paid(values),
            alert_chat_id=_alert_chat(values, telegram=bool(token)),
            **_web(values),
            **_retention(values),
            similar_rules=_similar(values),
            **_public(values),
            telegram_bot_token=token,
            database_url=values.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            telegram_api_base_url=(
                values.get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL
            ).rstrip("/"),
            zalo_bot_token=zalo_token,
            zalo_rate=_zalo_rate(values),
            zalo_api_base_url=(values.get("ZALO_API_BASE_URL") or DEFAULT_ZALO_API_BASE_URL).rstrip(
                "/"
            ),
            timezone=timezone,
            default_language=language,
            migrate_on_start=values.get("BOT_MIGRATE_ON_START", "1") not in ("0", "false", "no"),
        )


def _tokens(values: Mapping[str, str]) -> tuple[str, str]:
    """Telegram's token and Zalo's: either alone is a working bot, both run together."""
    token = values.get("TELEGRAM_BOT_TOKEN", "").strip()
    zalo_token = values.get("ZALO_BOT_TOKEN", "").strip()
    if not token and not zalo_token:
        raise SettingsError(
            "Neither TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN is set: the bot needs at least one. "
            "For Telegram, create a bot with @BotFather (send /newbot); for Zalo, create one in "
            "the Zalo Bot Creator console. Put the token in the environment or in .env (see "
            ".env.example)."
        )
    if token and not _TOKEN.match(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then about "
            "35 letters). Copy it again from @BotFather in Telegram (/mybots → API Token)."
        )
    return token, zalo_token


def _zalo_rate(values: Mapping[str, str]) -> float:
    """Messages a second to Zalo: the platform documents no limit, so a cautious default."""
    text = values.get("ZALO_RATE", "").strip()
    if not text:
        return DEFAULT_ZALO_RATE
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    # NaN and infinity are numbers to float() but not a pace.
    if not 0 < rate <= MAX_ZALO_RATE:
        raise SettingsError(
            f"ZALO_RATE must be a number of messages a second above 0 and at most "
            f"{MAX_ZALO_RATE:g} (default {DEFAULT_ZALO_RATE:g}; Zalo documents no limit)."
        )
    return rate


def _public(values: Mapping[str, str]) -> dict[str, Any]:
    """The bot's public address, where Zalo fetches pictures, and how long links last."""
    url = values.get("PUBLIC_URL", "").strip().rstrip("/")
    parts = urlsplit(url)
    if url and (parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment):
        raise SettingsError(
            "PUBLIC_URL must be the bot's public https address, where its HTTP server "
            "(HTTP_PORT) is reached, e.g. https://bot.congdoan.vn: Zalo fetches the pictures "
            "the bot sends from there."
        )
    try:
        hours = float(values.get("PUBLIC_LINK_HOURS", "").strip() or DEFAULT_PUBLIC_LINK_HOURS)
    except ValueError:
        hours = 0.0
    if not 1 <= hours <= MAX_PUBLIC_LINK_HOURS:
        raise SettingsError(
            f"PUBLIC_LINK_HOURS must be a number of hours from 1 to {MAX_PUBLIC_LINK_HOURS} "
            f"(default {DEFAULT_PUBLIC_LINK_HOURS:g}): how long a picture's link works."
        )
    return {"public_url": url, "public_link_hours": hours, **_staff_web(values)}


def _hours(values: Mapping[str, str], name: str, default: float, top: int) -> float:
    """A number of hours from 1 to ``top``."""
    try:
        hours = float(values.get(name, "").strip() or default)
    except ValueError:
        hours = 0.0
    if not 1 <= hours <= top:
        raise SettingsError(f"{name} must be a number of hours from 1 to {top} "
                            f"(default {default:g}).")  # fmt: skip
    return hours


def _staff_web(values: Mapping[str, str]) -> dict[str, Any]:
    """The staff web view: how long a sign-in lasts, how old a Mini App launch may be."""
    return {
        "web_session_hours": _hours(values, "WEB_SESSION_HOURS", DEFAULT_WEB_SESSION_HOURS,
                                    MAX_WEB_SESSION_HOURS),
        "web_init_data_hours": _hours(values, "WEB_INIT_DATA_HOURS",
                                      DEFAULT_WEB_INIT_DATA_HOURS, MAX_WEB_INIT_DATA_HOURS),
    }  # fmt: skip


def _rate(values: Mapping[str, str]) -> float:
    """Messages a second for the whole bot, replies and broadcasts together: Telegram
    allows about 30, and the budget may let one more through in a second."""
    try:
        rate = float(values.get("BROADCAST_RATE", "29"))
    except ValueError as error:
        raise SettingsError("BROADCAST_RATE must be a number of messages a second.") from error
    if not 0 < rate <= 29:
        raise SettingsError(
            "BROADCAST_RATE must be above 0 and at most 29 (Telegram allows about 30 a second)."
        )
    return rate


def _web(values: Mapping[str, str]) -> dict[str, Any]:
    """The webhook and HTTP settings; whether webhook mode has what it needs is checked
    when it starts (``Settings.check_webhook``)."""
    names = values.get("WEBHOOK_ALLOWED_UPDATES", "").split(",")
    allowed = tuple(name.strip() for name in names if name.strip())
    unknown = sorted(set(allowed) - set(Update.ALL_TYPES))
    if unknown:
        raise SettingsError(f"WEBHOOK_ALLOWED_UPDATES: unknown update types {', '.join(unknown)}.")
    try:
        connections = int(values.get("WEBHOOK_MAX_CONNECTIONS", "40"))
        port = values.get("HTTP_PORT", "").strip()
        http_port = int(port) if port else None
    except ValueError as error:
        raise SettingsError(
            "WEBHOOK_MAX_CONNECTIONS and HTTP_PORT must be whole numbers."
        ) from error
    if not 1 <= connections <= 100:
        raise SettingsError("WEBHOOK_MAX_CONNECTIONS must be from 1 to 100, as Telegram allows.")
    if http_port is not None and not 0 < http_port < 65536:
        raise SettingsError("HTTP_PORT must be a port number from 1 to 65535.")
    try:
        lease = float(values.get("JOB_LEASE_SECONDS", "30"))
    except ValueError as error:
        raise SettingsError("JOB_LEASE_SECONDS must be a number of seconds.") from error
    if not 3 <= lease <= 60:
        raise SettingsError("JOB_LEASE_SECONDS must be from 3 to 60.")
    return {
        "job_lease_seconds": lease,
        "webhook_url": values.get("WEBHOOK_URL", "").strip(),
        "webhook_secret": values.get("WEBHOOK_SECRET", "").strip(),
        "zalo_webhook_url": values.get("ZALO_WEBHOOK_URL", "").strip(),
        "zalo_webhook_secret": values.get("ZALO_WEBHOOK_SECRET", "").strip(),
        "webhook_max_connections": connections,
        "allowed_updates": allowed or ALLOWED_UPDATES,
        "http_listen": values.get("HTTP_LISTEN", "0.0.0.0").strip(),
        "http_port": http_port,
    }


def _alert_chat(values: Mapping[str, str], *, telegram: bool) -> int | None:
    """The Telegram chat errors are told to: a person's id, or a group's (negative)."""
    chat = values.get("ALERT_CHAT_ID", "").strip()
    if not chat:
        return None
    if not telegram:
        raise SettingsError(
            "ALERT_CHAT_ID is a Telegram chat, and alerts go through the Telegram bot: set "
            "TELEGRAM_BOT_TOKEN too, or leave ALERT_CHAT_ID empty (errors are still logged)."
        )
    try:
        chat_id = int(chat)
    except ValueError:
        chat_id = 0
    if chat_id == 0:
        raise SettingsError(
            "ALERT_CHAT_ID must be a Telegram chat id: a whole number, such as 123456789 "
            "for a person or -1001234567890 for a group."
        )
    return chat_id


def _slots(values: Mapping[str, str]) -> int:
    """Messages the sender keeps in flight at once."""
    try:
        slots = int(values.get("SEND_SLOTS", "8"))
    except ValueError as error:
        raise SettingsError("SEND_SLOTS must be a whole number from 1 to 32.") from error
    if not 1 <= slots <= 32:
        raise SettingsError("SEND_SLOTS must be a whole number from 1 to 32.")
    return slots


def _paid(values: Mapping[str, str]) -> dict[str, Any]:
    """PAID_BROADCAST and its rate and daily cap in Stars (required when it is on)."""
    switch = values.get("PAID_BROADCAST", "0").strip().lower() or "0"
    if switch not in ("0", "1", "false", "true", "no", "yes", "off", "on"):
        raise SettingsError("PAID_BROADCAST must be 1 (the union pays for faster broadcasts, "
                            "0,1 Star a message) or 0 (the default: the free pace).")  # fmt: skip
    try:
        rate = float(values.get("PAID_BROADCAST_RATE", "").strip() or MAX_PAID_RATE)
    except ValueError:
        rate = 0.0
    if not FREE_LIMIT < rate <= MAX_PAID_RATE:
        raise SettingsError(
            f"PAID_BROADCAST_RATE must be a number of messages a second above {FREE_LIMIT} and "
            f"at most {MAX_PAID_RATE:g} (default {MAX_PAID_RATE:g}, Telegram's limit for paid "
            "broadcasts)."
        )
    on = switch in ("1", "true", "yes", "on")
    cap = values.get("PAID_BROADCAST_DAILY_STARS", "").strip()
    if on and not cap:
        raise SettingsError(
            "PAID_BROADCAST=1 needs PAID_BROADCAST_DAILY_STARS: the most Telegram Stars the bot "
            "may spend on broadcasts a day (0,1 Star a message: 1000 Stars send 10000 messages)."
        )
    if cap and not (cap.isascii() and cap.isdigit() and int(cap) >= 1):
        raise SettingsError("PAID_BROADCAST_DAILY_STARS must be a whole number of Stars, at "
                            "least 1: the most spent on broadcasts a day.")  # fmt: skip
    return {"paid_broadcast": on, "paid_broadcast_rate": rate,
            "paid_broadcast_daily_stars": int(cap) if cap else 0}  # fmt: skip


def _time(value: str) -> dt.time:
    """A time of day such as 08:00."""
    hour, _, minute = value.partition(":")
    return dt.time(int(hour), int(minute or 0))


def _retention(values: Mapping[str, str]) -> dict[str, Any]:
    """DRAFT_RETENTION_MONTHS: a whole number of months, at least 1."""
    months = values.get("DRAFT_RETENTION_MONTHS", "12").strip()
    if not (months.isascii() and months.isdigit()) or not 1 <= int(months) <= 1200:
        raise SettingsError("DRAFT_RETENTION_MONTHS must be a whole number of months, at least 1.")
    return {"draft_retention_months": int(months)}


SIMILAR_THRESHOLD_RANGE = (0.1, 0.95)
_DEFAULT_SIMILAR = SimilarRules()


def _similar(values: Mapping[str, str]) -> SimilarRules:
    """SIMILAR_THRESHOLD: how alike (0,1 to 0,95); SIMILAR_FIELDS: title and/or solution."""
    low, high = SIMILAR_THRESHOLD_RANGE
    raw = values.get("SIMILAR_THRESHOLD", "").strip().replace(",", ".")
    try:
        threshold = float(raw) if raw else _DEFAULT_SIMILAR.threshold
    except ValueError:
        threshold = -1.0
    if not low <= threshold <= high:
        raise SettingsError(
            f"SIMILAR_THRESHOLD must be a number from {low} to {high} (how alike two "
            f"initiatives must be to be shown as similar), e.g. {_DEFAULT_SIMILAR.threshold}."
        )
    names = [name.strip().lower() for name in
             values.get("SIMILAR_FIELDS", "title,solution").split(",") if name.strip()]  # fmt: skip
    fields = tuple(dict.fromkeys(name for name in names if name in get_args(SimilarField)))
    if not fields or len(fields) != len(set(names)):
        raise SettingsError(
            "SIMILAR_FIELDS must name the answers compared, separated by commas: title, "
            "solution or both (title,solution)."
        )
    return SimilarRules(threshold=threshold, fields=cast(tuple[SimilarField, ...], fields))


def _switch(values: Mapping[str, str], name: str) -> bool:
    """A setting that is on unless set to 0, false, no or off."""
    return values.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a ``.env`` file; comments and blank lines are skipped."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("\"'")
    return values
