"""One's own initiatives: the list, page by page, and each in full."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from domain import dialog
from domain.drafting import owned
from domain.model import InitiativeStatus
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Day, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, encode, number_at

PAGE_SIZE = 5


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
        items, total = await turn.uow.initiatives.by_author(
            turn.member.id, page * PAGE_SIZE, PAGE_SIZE
        )
        if not total:
            turn.menu(_("You have no initiatives yet. Tap “📝 Submit an initiative” to send "
                        "your first idea."))  # fmt: skip
            return
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        if page >= pages:
            # A button from when there were more: show the last page there is now.
            page = pages - 1
            items, total = await turn.uow.initiatives.by_author(
                turn.member.id, page * PAGE_SIZE, PAGE_SIZE
            )
        lines = [_("📋 Your initiatives ({total}), page {page}/{pages}:",
                   total=total, page=page + 1, pages=pages)]  # fmt: skip
        for item in items:
            when = (item.submitted_at or item.created_at).astimezone(self._tz).date()
            title = Verbatim(dialog.shorten(item.title or "…", 50))
            lines.append(_("{number} · {title} · {date} · {status}",
                           number=item.number, title=title,
                           date=Day(when), status=dialog.STATUS_LABELS[item.status]))  # fmt: skip
        rows: list[tuple[Button, ...]] = [
            (Button(_("📄 Open {number}", number=item.number), encode("m", "open", item.id, page)),)
            for item in items
        ]
        navigation = []
        if page > 0:
            navigation.append(Button(_("◀️ Newer"), encode("m", "page", page - 1)))
        if page + 1 < pages:
            navigation.append(Button(_("Older ▶️"), encode("m", "page", page + 1)))
        if navigation:
            rows.append(tuple(navigation))
        turn.say(*lines, buttons=tuple(rows))

    async def _my_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if parts[1] == "page" and len(parts) == 3:
            await self._my(turn, number_at(parts, 2))
            return
        if parts[1] != "open" or len(parts) != 4:
            raise Forged
        page = number_at(parts, 3)
        initiative = await owned(turn, number_at(parts, 2))
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
            rows.append((Button(_("▶️ Continue this draft"), encode("n", "resume", initiative.id)),))
        elif initiative.status is InitiativeStatus.RETURNED:
            rows.append((Button(_("✏️ Edit and resubmit"), encode("n", "resume", initiative.id)),))
        rows.append((Button(_("⬅️ Back to the list"), encode("m", "page", page)),))
        turn.say(*lines, buttons=tuple(rows))
