"""Who gets into the staff web view, and how: ``/web`` in chat sends an admin a one-time
link; opening it (or Telegram's Mini App, once its data is checked) starts a session.

Links and sessions are kept as hashes: what sits in the database opens nothing. A
session is a row, so signing out ends it at once, and every request re-checks that its
member is still an admin: a revoked admin is out at the next click.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from domain.errors import NotAllowed
from domain.model import Member, RoleKind
from domain.ports import UnitOfWork, WebSession
from domain.roles import units_held
from domain.routes import CommandRoute, Routes
from domain.text import Verbatim, _
from domain.turn import Turn
from domain.ui import Button, Capabilities, PageMenu

LOGIN_LIFETIME = dt.timedelta(minutes=10)
DEFAULT_SESSION_LIFETIME = dt.timedelta(hours=8)
# Where the login links lead, under the bot's public address.
LOGIN_PATH = "/web/login/"
# The page a Mini App opens: it signs the admin in with Telegram's launch data.
APP_PATH = "/web/app"
ADMIN_PAGE = _("🖥 Admin page")


def secret_hash(kind: str, secret: str) -> str:
    """What is stored of a link's token or a session's id."""
    return hashlib.sha256(f"web-{kind}:{secret}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Staff:
    """A signed-in admin, checked at this request: who, and their session."""

    member: Member
    session: WebSession
    # The units they are an admin of now.
    units: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the id for the browser's cookie (never stored) and the row."""

    session_id: str
    staff: Staff


class WebDesk:
    """/web: a one-time link to the staff web view, for admins."""

    def __init__(self, address: str) -> None:
        # The bot's public address (PUBLIC_URL); empty when the web view is not set up.
        self._address = address.rstrip("/")

    def routes(self) -> Routes:
        """Open before joining (admins need not join a unit); the dialog stays."""
        return Routes(commands={"web": CommandRoute(self._web, open=True, leaves=False)})

    async def _web(self, turn: Turn, _argument: str) -> None:
        if not await units_held(turn.uow, turn.member.id, RoleKind.ADMIN):
            turn.say(_("Sorry, the web view is for union admins only."))
            return
        if not self._address:
            turn.say(_("The web view is not set up on this bot yet. Please ask the bot's "
                       "operator to set its public address (PUBLIC_URL)."))  # fmt: skip
            return
        token = secrets.token_urlsafe(32)
        expires = turn.now + LOGIN_LIFETIME
        await turn.uow.web.issue_login(secret_hash("login", token), turn.member.id, expires,
                                       turn.now)  # fmt: skip
        link = f"{self._address}{LOGIN_PATH}{token}"
        lines = (
            _("🖥 Your link to the web view, valid for {minutes} minutes and only once: {link}",
              minutes=int(LOGIN_LIFETIME.total_seconds()) // 60, link=Verbatim(link)),
            _("Do not forward it: whoever opens it first signs in as you."),
        )  # fmt: skip
        page = app_page(self._address, turn.capabilities)
        if page is None:
            turn.say(*lines)
            return
        turn.say(*lines, _("Inside this app, the button below opens it without a link, and "
                           "so does the menu button “{label}” beside where you type.",
                           label=ADMIN_PAGE),
                 buttons=((Button(ADMIN_PAGE, "", web=page),),))  # fmt: skip
        turn.outcome.page_menu = PageMenu(ADMIN_PAGE, page)


def app_page(address: str, capabilities: Capabilities) -> str | None:
    """The address of the staff web view inside the member's app, where it has pages and
    the bot an https address (an app opens pages only from one); else None."""
    if not capabilities.pages or not address.startswith("https://"):
        return None
    return f"{address.rstrip('/')}{APP_PATH}"


async def page_menu(uow: UnitOfWork, member_id: int, page: str) -> PageMenu | None:
    """The menu button a member's chat should have: the staff web view for an admin, the
    commands again for one who no longer is; for everyone else it stays as it is."""
    if await units_held(uow, member_id, RoleKind.ADMIN):
        return PageMenu(ADMIN_PAGE, page)
    return PageMenu() if await uow.roles.ever_held(member_id, RoleKind.ADMIN) else None


async def admin_units(uow: UnitOfWork, member_id: int) -> tuple[int, ...]:
    """The units the member is an admin of now; refused when none."""
    held = await units_held(uow, member_id, RoleKind.ADMIN)
    if not held:
        raise NotAllowed(_("Sorry, the web view is for union admins only."))
    return tuple(held)


async def open_session(
    uow: UnitOfWork, member_id: int, now: dt.datetime, lifetime: dt.timedelta
) -> Opened:
    """Start a session for an admin (the caller commits)."""
    member = (await uow.members.by_ids([member_id])).get(member_id)
    if member is None:
        raise NotAllowed(_("This account is not known to the bot."))
    units = await admin_units(uow, member_id)
    session_id = secrets.token_urlsafe(32)
    session = WebSession(secret_hash("session", session_id), member_id,
                         secrets.token_urlsafe(32), now + lifetime)  # fmt: skip
    await uow.web.open_session(session, now)
    return Opened(session_id, Staff(member, session, units))


async def sign_in_by_link(
    uow: UnitOfWork, token: str, now: dt.datetime, lifetime: dt.timedelta
) -> Opened:
    """Use a login link once, and start its admin's session."""
    member_id = await uow.web.use_login(secret_hash("login", token), now)
    if member_id is None:
        raise NotAllowed(_("This link has expired or was already used. Send /web to the bot "
                           "for a new one."))  # fmt: skip
    return await open_session(uow, member_id, now, lifetime)


async def sign_in_on_telegram(
    uow: UnitOfWork, channel: str, user_id: int, now: dt.datetime, lifetime: dt.timedelta
) -> Opened:
    """Start a session for the member a checked Mini App launch names."""
    member = await uow.members.by_external_id(channel, str(user_id))
    if member is None:
        raise NotAllowed(_("Sorry, the web view is for union admins only."))
    return await open_session(uow, member.id, now, lifetime)


async def staff_of(uow: UnitOfWork, session_id: str, now: dt.datetime) -> Staff | None:
    """The admin a browser's session belongs to, checked now: None when there is no such
    session or it has ended; refused (and ended) when they are no longer an admin."""
    session = await uow.web.session(secret_hash("session", session_id), now)
    if session is None:
        return None
    member = (await uow.members.by_ids([session.member_id])).get(session.member_id)
    held = await units_held(uow, session.member_id, RoleKind.ADMIN)
    if member is None or not held:
        await uow.web.end_session(session.session_hash)
        raise NotAllowed(_("Sorry, the web view is for union admins only."))
    return Staff(member, session, tuple(held))


async def sign_out(uow: UnitOfWork, session_id: str) -> None:
    """End a browser's session."""
    await uow.web.end_session(secret_hash("session", session_id))
