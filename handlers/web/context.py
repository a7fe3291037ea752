"""What every page of the web view shares: its configuration, the pages' renderer, and
the signed-in admin of a request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import hdrs, web

from domain.actions import Actions
from domain.ports import Renderer, UnitOfWorkFactory
from domain.ports_files import ChannelFiles
from domain.reports import Exporter
from domain.ui import Chart
from domain.web_access import DEFAULT_SESSION_LIFETIME, Staff
from handlers.web.pages import Pages

UNION_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
ChartDrawer = Callable[[Chart, str], Awaitable[bytes]]
# Where the web view is served; the session cookie is sent only there.
PREFIX = "/web"
COOKIE = "sk_web"
STAFF = web.RequestKey("staff", Staff)


@dataclass(frozen=True)
class WebConfig:
    """How the web view is set up (``bot.runtime`` builds it from the settings)."""

    units_of_work: UnitOfWorkFactory
    actions: Actions
    renderer: Renderer
    clock: Callable[[], dt.datetime]
    # PUBLIC_URL is https: the cookie is sent over https only.
    secure: bool
    session_lifetime: dt.timedelta = DEFAULT_SESSION_LIFETIME
    default_language: str = "vi"
    # Telegram's Mini App: the bot's token checks its launch data; empty turns it off.
    telegram_token: str = ""
    init_data_max_age: dt.timedelta = dt.timedelta(days=1)
    telegram_channel: str = "telegram"
    page_size: int = 20
    # The union's clock: which day "today" is for a phase's days left and pace.
    timezone: dt.tzinfo = UNION_TIMEZONE
    # The Excel reports, and the progress chart as a PNG (drawn off the event loop).
    exporter: Exporter | None = None
    chart: ChartDrawer | None = None
    # Files kept by a channel's own file id (Telegram's; the bot keeps Zalo's itself);
    # None: such files are listed, not shown.
    channel_files: ChannelFiles | None = None


@dataclass(frozen=True)
class Web:
    """The configuration and the page renderer, handed to every page's routes."""

    config: WebConfig
    pages: Pages

    def set_session(
        self, response: web.StreamResponse, session_id: str, embedded: bool = False
    ) -> None:
        """Give the browser its session's cookie. Telegram Web runs the Mini App in a
        frame of another site, where a Lax cookie is never sent: a session started there
        is SameSite=None, in a jar of that site alone (Partitioned), over https only.
        The CSRF token every POST carries keeps such a cookie from acting cross-site."""
        cross_site = embedded and self.config.secure
        response.set_cookie(
            COOKIE, session_id, path=PREFIX, httponly=True,
            samesite="None" if cross_site else "Lax", secure=self.config.secure,
            max_age=int(self.config.session_lifetime.total_seconds()),
        )  # fmt: skip
        if cross_site:
            # Python's cookies know "Partitioned" only from 3.14: the header is finished here.
            morsel = response.cookies.pop(COOKIE)
            response.headers.add(hdrs.SET_COOKIE, f"{morsel.OutputString()}; Partitioned")

    def clear_session(self, response: web.StreamResponse) -> None:
        """Make the browser forget its session's cookie, and the Mini App's in Telegram
        Web (a partitioned cookie is only replaced by a partitioned one)."""
        response.del_cookie(COOKIE, path=PREFIX)
        if self.config.secure:
            response.headers.add(hdrs.SET_COOKIE, f"{COOKIE}=; Max-Age=0; Path={PREFIX}; "
                                 "HttpOnly; Secure; SameSite=None; Partitioned")  # fmt: skip


def staff(request: web.Request) -> Staff:
    """The admin signed in for this request (checked by the guard)."""
    found: Staff = request[STAFF]
    return found
