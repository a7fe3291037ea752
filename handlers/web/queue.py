"""The review queue page ("Hàng chờ duyệt"): what waits, narrowed by GET parameters; one
initiative in full; and the decision, taken by the same use case as the chat's buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from domain import dialog
from domain.erased import name_text, title_text
from domain.errors import InputError, NotAllowed, NotFound
from domain.model import (
    Decision,
    FieldOfUse,
    InitiativeStatus,
    SolutionKind,
    format_number,
    parse_number,
)
from domain.ports import NARROWED_COUNT_LIMIT, UnitOfWork
from domain.review import ACTION_LABELS
from domain.review_card import PRESET_REASONS, reason_text
from domain.review_cases import Preset, Reason, ReviewOutdated, decide
from domain.review_queue import (
    MAX_WAITED_DAYS,
    Opened,
    QueueFilter,
    QueueView,
    ShownMatch,
    open_initiative,
    review_queue,
)
from domain.similar import TITLE_EXCERPT as SIMILAR_TITLE
from domain.similar import status_text
from domain.text import Day, Moment, Text, Verbatim, _
from handlers.web.context import PREFIX, Web, staff
from handlers.web.files import shown_files
from handlers.web.words import DAYS, WAITED_DAYS

# Page numbers a query may ask for; the last page there is answers anything beyond.
MAX_PAGE = 100_000
MAX_ID = 2**62
# A typed number of an original is short: "SK-000123".
MAX_TYPED = 40
ORIGINAL_EXAMPLE = _("Please type the number of the initiative it duplicates, for example "
                     "SK-000123, or choose below.")  # fmt: skip


def _number(query: Mapping[str, str], name: str, top: int) -> int:
    """A whole number from the query, 0 when absent or not one, at most ``top``."""
    text = query.get(name, "")
    return min(int(text), top) if text.isdigit() and len(text) < 20 else 0


def _choice(enum: type[Any], value: str) -> Any:
    """The enum member of that value, or None."""
    try:
        return enum(value)
    except ValueError:
        return None


def queue_filter(query: Mapping[str, str]) -> QueueFilter:
    """The filter a query asks for; anything unknown is ignored."""
    unit = _number(query, "unit", MAX_ID)
    return QueueFilter(unit=unit or None, kind=_choice(SolutionKind, query.get("kind", "")),
                       field=_choice(FieldOfUse, query.get("field", "")),
                       waited_days=_number(query, "waited", MAX_WAITED_DAYS))  # fmt: skip


def _link(only: QueueFilter, page: int) -> str:
    """The queue's address for a filter and a page."""
    params = {"unit": only.unit or "", "kind": only.kind.value if only.kind else "",
              "field": only.field.value if only.field else "",
              "waited": only.waited_days or "", "page": page or ""}  # fmt: skip
    return f"{PREFIX}/queue?" + urlencode({k: v for k, v in params.items() if v != ""})


def _text(value: object) -> Text:
    """A value as a text the translator formats (a date, a moment, a name)."""
    return Text("{value}", {"value": value})


def _reason(form: Mapping[str, Any]) -> Reason | None:
    """The preset chosen (a duplicate with the original it names, if any), else the reason
    typed, else none."""
    preset = str(form.get("preset", ""))
    if preset in PRESET_REASONS:
        return Preset(preset, _original(form) if preset == "duplicate" else None)
    typed = str(form.get("reason", "")).strip()
    return typed or None


def _original(form: Mapping[str, Any]) -> int | None:
    """The initiative a duplicate names: the number typed, else the one chosen."""
    typed = str(form.get("original_number", "")).strip()[:MAX_TYPED]
    if typed:
        number = parse_number(typed)
        if number is None:
            raise InputError(ORIGINAL_EXAMPLE)
        return number
    return _number({"o": str(form.get("original", ""))}, "o", MAX_ID) or None


def _similar(matches: Sequence[ShownMatch]) -> list[dict[str, Any]]:
    """Similar initiatives as a page lists them: a link to each the admin may read."""
    return [{
        "number": format_number(m.found.initiative_id), "status": status_text(m.found.status),
        "url": f"{PREFIX}/queue/{m.found.initiative_id}" if m.readable else None,
        "id": m.found.initiative_id, "title": title_text(m.found.title, limit=SIMILAR_TITLE),
    } for m in matches]  # fmt: skip


class QueuePages:
    """The queue, one initiative, a decision: each re-checked in the core."""

    def __init__(self, view: Web) -> None:
        self._config = view.config
        self._pages = view.pages

    def routes(self) -> web.RouteTableDef:
        """The page's routes."""
        table = web.RouteTableDef()
        table.get("/", name="home")(self.home)
        table.get("/queue", name="queue")(self.queue)
        table.get(r"/queue/{id:\d{1,18}}", name="initiative")(self.initiative)
        table.post(r"/queue/{id:\d{1,18}}/decide", name="decide")(self.decision)
        return table

    async def home(self, request: web.Request) -> web.StreamResponse:
        """The web view's address leads to the queue."""
        raise web.HTTPSeeOther(f"{PREFIX}/queue")

    async def queue(self, request: web.Request) -> web.StreamResponse:
        """What waits in the admin's units, oldest first, as narrowed."""
        config, pages = self._config, self._pages
        member = staff(request).member
        only = queue_filter(request.query)
        page = _number(request.query, "page", MAX_PAGE)

        async def case(uow: UnitOfWork, actor: Any, now: dt.datetime) -> QueueView:
            return await review_queue(uow, actor, only, now, page, config.page_size)

        shown = await config.actions.run(member.id, case)
        listing = shown.listing
        return pages.page(
            "queue.html", member.language, member=member, listing=listing, only=only,
            total=_total(only, listing.total),
            rows=_rows(shown, config.clock()), units=shown.units, kinds=dialog.KIND_LABELS,
            fields=dialog.FIELD_LABELS,
            waited=[(days, pages.text(_plural_days(days), member.language))
                    for days in WAITED_DAYS],
            older=_link(only, listing.page + 1) if listing.page + 1 < listing.pages else None,
            newer=_link(only, listing.page - 1) if listing.page > 0 else None,
            csrf=staff(request).session.csrf, exports=_exports(only, shown),
        )  # fmt: skip

    async def show(self, request: web.Request, initiative_id: int, notice: Text | None = None,
                   status: int = 200) -> web.StreamResponse:  # fmt: skip
        """One initiative in full, its files and record, and the decision form while it
        waits."""
        pages = self._pages
        signed_in = staff(request)
        member = signed_in.member

        async def case(uow: UnitOfWork, actor: Any, _now: dt.datetime) -> Opened:
            return await open_initiative(uow, actor, initiative_id)

        opened = await self._config.actions.run(member.id, case)
        initiative = opened.initiative
        return pages.page(
            "initiative.html", member.language, status=status, member=member,
            initiative=initiative, title=title_text(initiative.title),
            lines=dialog.card_lines(initiative, full=True),
            unit=opened.unit.name if opened.unit else "",
            files=shown_files(initiative, self._config.channel_files is not None),
            history=_history(opened), notice=notice, presets=PRESET_REASONS,
            similar=_similar(opened.similar),
            pending=initiative.status is InitiativeStatus.PENDING, csrf=signed_in.session.csrf,
        )  # fmt: skip

    async def initiative(self, request: web.Request) -> web.StreamResponse:
        """GET one initiative."""
        return await self.show(request, int(request.match_info["id"]))

    async def decision(self, request: web.Request) -> web.StreamResponse:
        """Approve, return or reject the version shown: the same use case as the chat's
        buttons, so of two reviewers at once one wins and the other is told who."""
        initiative_id = int(request.match_info["id"])
        form = await request.post()
        chosen = _choice(Decision, str(form.get("decision", "")))
        version = _number({"v": str(form.get("version", ""))}, "v", MAX_ID)
        if chosen is None or not version:
            return await self.show(request, initiative_id, status=400)
        try:
            reason = _reason(form)
        except InputError as wrong:
            return await self.show(request, initiative_id, wrong.text, status=400)

        async def case(uow: UnitOfWork, actor: Any, now: dt.datetime) -> Any:
            return await decide(uow, actor, initiative_id, version, chosen, reason, now)

        member = staff(request).member
        try:
            await self._config.actions.run(member.id, case)
        except ReviewOutdated as stale:
            return await self.show(request, initiative_id, stale.text, status=409)
        except (NotAllowed, NotFound) as refusal:
            return self._pages.message(403, member.language, refusal.text)
        except InputError as wrong:
            return await self.show(request, initiative_id, wrong.text, status=400)
        raise web.HTTPSeeOther(f"{PREFIX}/queue/{initiative_id}")


def _exports(only: QueueFilter, shown: QueueView) -> dict[str, str]:
    """The two reports of the unit the queue is narrowed to (else the admin's first) in
    today's phase."""
    unit = only.unit or (shown.units[0].id if shown.units else None)
    if unit is None:
        return {}
    return {kind: f"{PREFIX}/export/{kind}?unit={unit}" for kind in ("initiatives", "progress")}


def _rows(shown: QueueView, now: dt.datetime) -> list[dict[str, Any]]:
    """The queue's table rows."""
    names = shown.unit_names
    rows = []
    for item in shown.listing.items:
        since = item.submitted_at or item.created_at
        rows.append({
            "id": item.id, "number": item.number, "title": title_text(item.title),
            "unit": names.get(item.unit_id, ""),
            "kind": dialog.KIND_LABELS[item.kind] if item.kind else None,
            "field": dialog.FIELD_LABELS[item.field] if item.field else None,
            "submitted": _text(Day(since.astimezone(now.tzinfo).date())),
            "days": (now - since).days, "similar": _similar(shown.similar.get(item.id, ())),
        })  # fmt: skip
    return rows


def _history(opened: Opened) -> list[dict[str, Any]]:
    """The initiative's record, oldest first."""
    return [{
        "moment": _text(Moment(entry.at)),
        "action": ACTION_LABELS.get(entry.action, _text(Verbatim(entry.action))),
        "version": entry.version, "name": name_text(entry.actor_name),
        "reason": reason_text(entry.note),
    } for entry in opened.trail.entries]  # fmt: skip


def _total(only: QueueFilter, total: int) -> Text:
    """How many wait, as the heading says it: a narrowed queue is counted only so far."""
    narrowed = only.kind is not None or only.field is not None or only.waited_days > 0
    if narrowed and total > NARROWED_COUNT_LIMIT:
        return _("more than {count}", count=NARROWED_COUNT_LIMIT)
    return _text(total)


def _plural_days(days: int) -> Text:
    """ "7 days", as the waiting filter offers it."""
    return Text(DAYS.msgid, {"days": days})
