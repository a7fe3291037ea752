"""The initiatives page ("Sáng kiến"): those of the admin's units and below, found by
words of the title or the author's name (diacritics and case ignored) or by number,
newest first, a page at a time; each opens in full on the queue's page for it, which
re-checks who may read it."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from domain import dialog
from domain.erased import name_text, title_text
from domain.model import InitiativeStatus, Member, format_number
from domain.paging import Page
from domain.parsing import SEARCH_INPUT_MAX
from domain.ports import UnitOfWork
from domain.ports_lists import Listed
from domain.staff_lists import LISTED_STATUSES, initiative_list, list_query
from domain.text import Day, Text
from handlers.web.context import PREFIX, Web, staff
from handlers.web.queue import MAX_PAGE, _choice, _number


def _link(typed: str, status: InitiativeStatus | None, page: int) -> str:
    """The list's address for a search, a status and a page."""
    params = {"q": typed, "status": status.value if status else "", "page": page or ""}
    return f"{PREFIX}/initiatives?" + urlencode({k: v for k, v in params.items() if v != ""})


def _day(moment: dt.datetime | None, zone: dt.tzinfo | None) -> Text | None:
    """A moment's date in the union's clock, for the translator to format."""
    return Text("{value}", {"value": Day(moment.astimezone(zone).date())}) if moment else None


def _rows(shown: Page[Listed], zone: dt.tzinfo | None) -> list[dict[str, Any]]:
    """The table's rows."""
    return [{
        "id": item.id, "number": format_number(item.id), "title": title_text(item.title),
        "author": name_text(item.author), "unit": item.unit,
        "status": dialog.STATUS_LABELS[item.status],
        "submitted": _day(item.submitted_at, zone), "updated": _day(item.updated_at, zone),
    } for item in shown.items]  # fmt: skip


class InitiativePages:
    """The searchable list of initiatives."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The page's routes."""
        table = web.RouteTableDef()
        table.get("/initiatives", name="initiatives")(self.initiatives)
        return table

    async def initiatives(self, request: web.Request) -> web.StreamResponse:
        """A page of the initiatives in the admin's scope, as searched."""
        config, pages = self._config, self._pages
        signed_in = staff(request)
        member: Member = signed_in.member
        typed = request.query.get("q", "")[:SEARCH_INPUT_MAX].strip()
        status = _choice(InitiativeStatus, request.query.get("status", ""))
        query = list_query(typed, status)
        page = _number(request.query, "page", MAX_PAGE)

        async def case(uow: UnitOfWork, actor: Member, _now: dt.datetime) -> Page[Listed]:
            return await initiative_list(uow, actor, query, page, config.page_size)

        shown = await config.actions.run(member.id, case)
        return pages.page(
            "initiatives.html", member.language, member=member, typed=typed,
            chosen=query.status, statuses=[(s, dialog.STATUS_LABELS[s]) for s in LISTED_STATUSES],
            rows=_rows(shown, config.clock().tzinfo), total=shown.total,
            older=_link(typed, query.status, shown.page + 1)
            if shown.page + 1 < shown.pages else None,
            newer=_link(typed, query.status, shown.page - 1) if shown.page > 0 else None,
            csrf=signed_in.session.csrf,
        )  # fmt: skip
