"""The announcements page ("Thông báo"): what the admin announced, newest first, how far
each has gone (the chat's "Sent 12/40"), and the stop button, which calls the same use
case as the chat's "⛔ Stop sending"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from domain.announce_cases import Stopped, stop_announcement
from domain.delivery import OutgoingState
from domain.model import Member
from domain.paging import Page
from domain.ports import UnitOfWork
from domain.ports_lists import SentAnnouncement
from domain.staff_lists import sent_announcements
from domain.text import Moment, Text, _
from handlers.web.context import PREFIX, Web, staff
from handlers.web.queue import MAX_ID, MAX_PAGE, _number

# How much of an announcement's text the list shows.
PREVIEW = 300
STATES: dict[str, Text] = {
    "running": _("Sending"),
    "done": _("Done"),
    "cancelled": _("Stopped"),
}
# The chat's own words for progress and for a stop, so both say the same.
SENT = _("📣 Sent {done}/{total}")
STOPPED = _("Stopped: {count} messages will not be sent.")


def _progress(item: SentAnnouncement) -> Text:
    """ "📣 Sent 12/40", counted as the chat counts it."""
    total = sum(item.tally.values())
    waiting = item.tally[OutgoingState.QUEUED] + item.tally[OutgoingState.SENDING]
    return Text(SENT.msgid, {"done": total - waiting, "total": total})


class AnnouncementPages:
    """The admin's announcements and stopping one."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The page's routes."""
        table = web.RouteTableDef()
        table.get("/announcements", name="announcements")(self.announcements)
        table.post(r"/announcements/{id:\d{1,18}}/stop", name="stop")(self.stop)
        return table

    def _rows(self, shown: Page[SentAnnouncement], language: str) -> list[dict[str, Any]]:
        """The table's rows, the texts in the reader's language."""
        rows = []
        for item in shown.items:
            said = "\n".join(self._pages.text(line, language) for line in item.reply.text)
            tally = item.tally
            rows.append({
                "id": item.broadcast_id,
                "moment": Text("{value}", {"value": Moment(item.created_at)}),
                "text": said if len(said) <= PREVIEW else said[: PREVIEW - 1] + "…",
                "progress": _progress(item), "state": STATES.get(item.status, STATES["done"]),
                "sent": tally[OutgoingState.SENT], "blocked": tally[OutgoingState.BLOCKED],
                "failed": tally[OutgoingState.FAILED], "cancelled": tally[OutgoingState.CANCELLED],
                "stoppable": item.status == "running" and tally[OutgoingState.QUEUED] > 0,
            })  # fmt: skip
        return rows

    async def announcements(self, request: web.Request) -> web.StreamResponse:
        """A page of the admin's announcements, newest first."""
        config, pages = self._config, self._pages
        signed_in = staff(request)
        member = signed_in.member
        page = _number(request.query, "page", MAX_PAGE)
        stopped = request.query.get("stopped", "")

        async def case(uow: UnitOfWork, actor: Member, _now: dt.datetime) -> Page[SentAnnouncement]:
            return await sent_announcements(uow, actor, page, config.page_size)

        shown = await config.actions.run(member.id, case)
        notice = Text(STOPPED.msgid, {"count": int(stopped)}) if stopped.isdigit() and len(
            stopped) < 10 else None  # fmt: skip
        return pages.page(
            "announcements.html", member.language, member=member, notice=notice,
            rows=self._rows(shown, member.language), total=shown.total,
            older=f"{PREFIX}/announcements?page={shown.page + 1}"
            if shown.page + 1 < shown.pages else None,
            newer=f"{PREFIX}/announcements?page={shown.page - 1}" if shown.page > 0 else None,
            csrf=signed_in.session.csrf,
        )  # fmt: skip

    async def stop(self, request: web.Request) -> web.StreamResponse:
        """Stop sending an announcement: only its sender may, as in chat."""
        broadcast_id = _number({"id": request.match_info["id"]}, "id", MAX_ID)
        member = staff(request).member

        async def case(uow: UnitOfWork, actor: Member, _now: dt.datetime) -> Stopped:
            return await stop_announcement(uow, actor, broadcast_id)

        stopped = await self._config.actions.run(member.id, case)
        raise web.HTTPSeeOther(f"{PREFIX}/announcements?stopped={stopped.cancelled}")
