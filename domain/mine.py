"""One's own initiatives: the list, page by page, and each in full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from domain import dialog
from domain.codes import ButtonCode, button_code
from domain.dialog import ResumeDraft
from domain.drafting import owned
from domain.model import Initiative, InitiativeStatus, Member
from domain.paging import Page, fetch_page, navigation
from domain.ports import InitiativeRepository
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Day, Verbatim, _
from domain.turn import Turn
from domain.ui import Button

PAGE_SIZE = 5


@button_code("m", "page")
@dataclass(frozen=True, slots=True)
class MyPage(ButtonCode):
    """m:page:2 — a page of one's initiatives, from 0."""

    page: int


@button_code("m", "open")
@dataclass(frozen=True, slots=True)
class OpenMine(ButtonCode):
    """m:open:41:2 — one's initiative in full, and the page of the list it was opened from."""

    initiative: int
    page: int


class MineStore(Protocol):
    """What listing one's initiatives reads."""

    initiatives: InitiativeRepository


async def my_initiatives(
    store: MineStore, actor: Member, page: int, page_size: int = PAGE_SIZE
) -> Page[Initiative]:
    """A page of the initiatives the actor wrote or entered for someone, newest first."""
    if page_size < 1:
        raise ValueError(f"a page holds at least one initiative, not {page_size}")
    return await fetch_page(
        lambda offset, limit: store.initiatives.by_author(actor.id, offset, limit),
        max(page, 0),
        page_size,
    )


class Mine:
    """/my: a member's initiatives, newest first."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self._tz = timezone

    def routes(self) -> Routes:
        """/my and its buttons."""
        return Routes(
            commands={"my": CommandRoute(lambda turn, _a: self._my(turn, 0))},
            buttons={"m": ButtonRoute(self._my_button, open=False)},
        )

    async def _my(self, turn: Turn, page: int) -> None:
        shown = await my_initiatives(turn.uow, turn.member, page)
        if not shown.total:
            turn.menu(_("You have no initiatives yet. Choose “📝 Submit an initiative” to send "
                        "your first idea."))  # fmt: skip
            return
        lines = [_("📋 Your initiatives ({total}), page {page}/{pages}:",
                   total=shown.total, page=shown.page + 1, pages=shown.pages)]  # fmt: skip
        for item in shown.items:
            when = (item.submitted_at or item.created_at).astimezone(self._tz).date()
            title = Verbatim(dialog.shorten(item.title or "…", 50))
            lines.append(_("{number} · {title} · {date} · {status}",
                           number=item.number, title=title,
                           date=Day(when), status=dialog.STATUS_LABELS[item.status]))  # fmt: skip
        rows = tuple(
            (Button(_("📄 Open {number}", number=item.number),
                    OpenMine(item.id, shown.page).encode()),)
            for item in shown.items
        )  # fmt: skip
        pages = navigation(shown.page, shown.pages, _("◀️ Newer"), _("Older ▶️"), MyPage)
        turn.say(*lines, buttons=rows + pages)

    async def _my_button(self, turn: Turn, press: MyPage | OpenMine) -> None:
        if isinstance(press, MyPage):
            await self._my(turn, press.page)
            return
        initiative = await owned(turn, press.initiative)
        if initiative is None:
            return
        lines = dialog.card_lines(initiative, full=True)
        lines.append(_("Created: {date}",
                       date=Day(initiative.created_at.astimezone(self._tz).date())))  # fmt: skip
        if initiative.submitted_at:
            lines.append(_("Submitted: {date} (version {version})",
                           date=Day(initiative.submitted_at.astimezone(self._tz).date()),
                           version=initiative.version))  # fmt: skip
        rows: list[tuple[Button, ...]] = []
        if initiative.status is InitiativeStatus.DRAFT:
            rows.append((Button(_("▶️ Continue this draft"), ResumeDraft(initiative.id).encode()),))
        elif initiative.status is InitiativeStatus.RETURNED:
            rows.append((Button(_("✏️ Edit and resubmit"), ResumeDraft(initiative.id).encode()),))
        rows.append((Button(_("⬅️ Back to the list"), MyPage(press.page).encode()),))
        turn.say(*lines, buttons=tuple(rows))
