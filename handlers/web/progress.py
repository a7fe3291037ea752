"""The progress page ("Tiến độ"): a unit of the admin's scope and the units below it, with
the figures /stats shows; down to a unit below, up by the path, to another phase; the
chart the chat sends; and the emulation groups' rankings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from domain.model import Figures, Member
from domain.ports import UnitOfWork
from domain.progress_cases import ChildrenProgress, children_progress
from domain.progress_page import ProgressPage, progress_page
from domain.stats import progress_chart
from domain.text import Amount, Day, Percent, Text, Verbatim, _
from handlers.web.context import PREFIX, Web, staff
from handlers.web.words import WORDS

MAX_ID = 2**62
# Units below shown a page at a time: an upper-level unit may have hundreds.
ROWS_PER_PAGE = 50
# A chart of the units below changes only when figures do; a browser may keep it briefly.
CHART_CACHE = "private, max-age=60"

PAGE_WORDS: dict[str, Text] = {
    "units_below": _("Units below, best first"),
    "target": _("Target"),
    "approved": _("Approved"),
    "percent": _("Percent of target"),
    "rank": _("Rank"),
    "pending": _("Awaiting review"),
    "returned": _("Returned"),
    "submissions": _("Submissions"),
    "people": _("Participants"),
    "benefit": _("Estimated benefit"),
    "phase": _("Phase"),
    "chart": _("Chart: percent of target; the dashed line is where units should be today."),
    "groups": _("Emulation groups"),
    "no_units_below": _("This unit has no units below it."),
    "no_target": _("—"),
    "earlier_units": _("◀️ Previous units"),
    "later_units": _("Next units ▶️"),
}


def ident(query: Mapping[str, str], name: str) -> int | None:
    """A positive id from the query; None when absent or not one."""
    text = query.get(name, "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text) if 0 < int(text) < MAX_ID else None


def address(path: str, unit: int, phase: int) -> str:
    """A page of the web view for a unit in a phase."""
    return f"{PREFIX}/{path}?" + urlencode({"unit": unit, "phase": phase})


def _value(value: object) -> Text:
    """A value the translator formats the member's way (a count, a percent, a sum)."""
    return Text("{value}", {"value": value})


def row(figures: Figures, rank: int, of: int) -> dict[str, Any]:
    """A unit's figures as the table shows them: what /stats says of it."""
    percent = figures.percent
    return {
        "id": figures.unit.id,
        "name": figures.unit.name,
        "target": _value(figures.target) if figures.target else PAGE_WORDS["no_target"],
        "approved": _value(figures.approved),
        "percent": _value(Percent(percent)) if percent is not None else PAGE_WORDS["no_target"],
        "rank": _("{rank}/{of}", rank=rank, of=of),
        "pending": _value(figures.pending),
        "returned": _value(figures.returned),
        "submissions": _value(figures.approved + figures.pending + figures.returned),
        "people": _value(figures.people),
        "benefit": _value(Amount(figures.benefit_vnd)),
    }


def _header(shown: ProgressPage) -> Text:
    """The phase, its dates and the days left, as /stats heads its answer."""
    phase = shown.view.phase
    return _("📊 {phase} ({start} – {end}), {days} days left",
             phase=Verbatim(phase.name), start=Day(phase.starts_on), end=Day(phase.ends_on),
             days=shown.view.days_left)  # fmt: skip


class ProgressPages:
    """The progress page and its chart: each re-checked in the core."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The page's routes."""
        table = web.RouteTableDef()
        table.get("/progress", name="progress")(self.progress)
        table.get("/progress/chart.png", name="progress_chart")(self.chart)
        return table

    def _today(self) -> dt.date:
        """Today in the union's clock."""
        return self._config.clock().astimezone(self._config.timezone).date()

    async def progress(self, request: web.Request) -> web.StreamResponse:
        """A unit of the admin's scope in a phase, with the units below it."""
        member = staff(request).member
        unit_id, phase_id = ident(request.query, "unit"), ident(request.query, "phase")
        today = self._today()

        async def case(uow: UnitOfWork, actor: Member, _now: dt.datetime) -> ProgressPage:
            return await progress_page(uow, actor, unit_id, phase_id, today)

        shown = await self._config.actions.run(member.id, case)
        return self._render(request, shown, ident(request.query, "page") or 0)

    def _render(self, request: web.Request, shown: ProgressPage, page: int) -> web.Response:
        """The page of a unit's progress, with one page of the units below it."""
        signed_in = staff(request)
        view, unit, phase = shown.view, shown.unit, shown.view.phase
        children = view.children
        pages = max((len(children) + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE, 1)
        page = min(page, pages - 1)
        first = page * ROWS_PER_PAGE
        here = address("progress", unit.id, phase.id)
        return self._pages.page(
            "progress.html", signed_in.member.language, member=signed_in.member,
            csrf=signed_in.session.csrf, pw=PAGE_WORDS, unit=unit, phase=phase,
            header=_header(shown), path=shown.path, phases=shown.phases,
            own=row(view.own.figures, view.own.rank, view.own.of),
            rows=[row(f, rank, len(children)) for rank, f in
                  enumerate(children[first:first + ROWS_PER_PAGE], start=first + 1)],
            earlier=f"{here}&page={page - 1}" if page > 0 else None,
            later=f"{here}&page={page + 1}" if page + 1 < pages else None,
            chart=(address("progress/chart.png", unit.id, phase.id)
                   if any(f.target for f in children) else None),
            groups=[{"name": g.name, "mine": g.mine.id,
                     "rows": [row(f, rank, len(g.ranked))
                              for rank, f in enumerate(g.ranked, start=1)]}
                    for g in shown.groups],
            exports={kind: address(f"export/{kind}", unit.id, phase.id)
                     for kind in ("initiatives", "progress")},
        )  # fmt: skip

    async def chart(self, request: web.Request) -> web.StreamResponse:
        """The chart the chat's "📈 Chart" button sends, as a PNG."""
        member = staff(request).member
        unit_id, phase_id = ident(request.query, "unit"), ident(request.query, "phase")
        draw = self._config.chart
        if unit_id is None or draw is None:
            return self._pages.message(404, member.language, WORDS["not_found"])
        today = self._today()

        async def case(uow: UnitOfWork, actor: Member, _now: dt.datetime) -> ChildrenProgress:
            return await children_progress(uow, actor, unit_id, phase_id, today)

        below = await self._config.actions.run(member.id, case)
        chart = progress_chart(below)
        if chart is None:
            return self._pages.message(404, member.language,
                                       _("No unit below has a target yet."))  # fmt: skip
        picture = await draw(chart, member.language)
        return web.Response(body=picture, content_type="image/png",
                            headers={"Cache-Control": CHART_CACHE,
                                     "X-Content-Type-Options": "nosniff"})  # fmt: skip
