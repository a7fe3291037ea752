"""Weekly commendations (biểu dương): the week's highlights, once a week, to everyone.

Each unit's scope is its subtree. A scope has something to say when a unit in it
reached its target this week, or someone in it had an initiative approved that may
be shown. Each member hears from the nearest scope on their path that has something
to say, once; admins get a shareable card of their unit; linked groups get the post.
Confidential initiatives count in the totals only; members who opted out are never
named. The plan is made per unit, not per member: the database puts each unit's members
in the queue of their commendation, so two million members never pass through memory.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo

from domain.codes import ButtonCode, button_code
from domain.delivery import BroadcastExtras
from domain.model import (
    Approval,
    Figures,
    LinkedChat,
    Member,
    Phase,
    RoleKind,
    Unit,
    format_number,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.progress import phase_on
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Amount, Day, Percent, Text, Verbatim, _, n_, verbatim
from domain.turn import Turn
from domain.ui import UNREACHABLE, Button, Capabilities, Card, Reply
from domain.unit_import import is_valid_code

log = logging.getLogger(__name__)

WEEK = dt.timedelta(days=7)
TOP_PEOPLE = 5
FEATURED = 3
REACHED_SHOWN = 8
# A commendation missed by more than this (the bot was down) is skipped, not sent late.
CATCH_UP = dt.timedelta(days=1)
# Units asked for at once: well under the parameters a statement may carry.
CHUNK = 5000

Draw = Callable[[Card, str], Awaitable[bytes]]


def featured_first(approval: Approval) -> tuple[int, int]:
    """The order of featured initiatives: the highest estimated benefit first."""
    return -approval.benefit_vnd, approval.initiative_id


@dataclass
class Scope:
    """What happened in one unit's subtree during the week."""

    week: int = 0
    phase_week: int = 0
    people: Counter[int] = field(default_factory=Counter)
    names: dict[int, str] = field(default_factory=dict)
    featured: list[Approval] = field(default_factory=list)
    reached: list[Figures] = field(default_factory=list)

    def add(self, approval: Approval, phase_id: int | None) -> None:
        """Count an approval; only what may be shown is kept for showing."""
        self.week += 1
        if phase_id is not None and approval.phase_id == phase_id:
            self.phase_week += 1
        if approval.confidential:
            return
        self.featured.append(approval)
        if len(self.featured) > 2 * FEATURED:
            # Only the first few are ever shown: a national week keeps no more.
            self.featured.sort(key=featured_first)
            del self.featured[FEATURED:]
        if approval.author_named:
            self.people[approval.author_id] += 1
            self.names[approval.author_id] = approval.author_name

    @property
    def has_news(self) -> bool:
        """Whether there is something to commend."""
        return bool(self.reached or self.people or self.featured)


@dataclass(frozen=True)
class Commendation:
    """One unit's commendation for one week."""

    unit: Unit
    first_day: dt.date
    last_day: dt.date
    week_count: int
    phase: Phase | None
    figures: Figures | None
    reached: tuple[Figures, ...]
    people: tuple[tuple[str, int], ...]
    featured: tuple[Approval, ...]
    unit_names: Mapping[int, str]

    def _heading(self) -> Text:
        return _("🏅 Commendation of the week {first}–{last} · {unit}", first=Day(self.first_day),
                 last=Day(self.last_day), unit=Verbatim(self.unit.name))  # fmt: skip

    def _featured_line(self, approval: Approval) -> Text:
        line = _("• {number} “{title}” · {unit}", number=format_number(approval.initiative_id),
                 title=Verbatim(approval.title),
                 unit=Verbatim(self.unit_names.get(approval.unit_id, "")))  # fmt: skip
        if approval.author_named:
            line = _("{line} · {author}", line=line, author=Verbatim(approval.author_name))
        if approval.benefit_vnd > 0:
            line = _("{line} · benefit {benefit}", line=line, benefit=Amount(approval.benefit_vnd))
        return line

    def sections(self) -> list[tuple[Text, tuple[Text, ...]]]:
        """The highlights: units that reached their target, people, featured initiatives."""
        sections = []
        if self.reached:
            shown = self.reached[:REACHED_SHOWN]
            lines = [_("• {unit}: {percent}", unit=Verbatim(f.unit.name),
                       percent=Percent(f.percent or 0)) for f in shown]  # fmt: skip
            if len(self.reached) > len(shown):
                lines.append(_("… and {count} more", count=len(self.reached) - len(shown)))
            sections.append((_("🎯 Reached the target this week:"), tuple(lines)))
        if self.people:
            sections.append((_("👏 Most active this week:"), tuple(
                n_("• {name}: {count} initiative", "• {name}: {count} initiatives", count,
                   name=Verbatim(name)) for name, count in self.people)))  # fmt: skip
        if self.featured:
            sections.append((_("💡 Featured initiatives:"),
                             tuple(self._featured_line(a) for a in self.featured)))  # fmt: skip
        return sections

    def _totals(self) -> Text | None:
        figures, phase = self.figures, self.phase
        if figures is None or phase is None:
            return None
        if figures.target:
            return _("📊 {phase}: {approved}/{target} initiatives · {percent} of the target · "
                     "{people} taking part · estimated benefit {benefit}",
                     phase=Verbatim(phase.name), approved=figures.approved, target=figures.target,
                     percent=Percent(figures.percent or 0), people=figures.people,
                     benefit=Amount(figures.benefit_vnd))  # fmt: skip
        return _("📊 {phase}: {approved} initiatives · {people} taking part · estimated "
                 "benefit {benefit}", phase=Verbatim(phase.name), approved=figures.approved,
                 people=figures.people, benefit=Amount(figures.benefit_vnd))  # fmt: skip

    def message(self) -> tuple[Text, ...]:
        """The commendation as one message."""
        blank = verbatim("")
        lines = [
            self._heading(),
            n_("This week {count} initiative was approved.",
               "This week {count} initiatives were approved.", self.week_count),
        ]  # fmt: skip
        for heading, items in self.sections():
            lines += [blank, heading, *items]
        totals = self._totals()
        if totals is not None:
            lines += [blank, totals]
        lines.append(_("Thank you all, and keep the ideas coming! 💪"))
        return tuple(lines)

    def card(self) -> Card:
        """The commendation as a shareable picture."""
        figures: list[tuple[Text, Text]] = [
            (_("Approved this week"), Text("{n}", {"n": self.week_count}))
        ]
        if self.figures is not None and self.phase is not None:
            total = self.figures
            approved = (Text("{a}/{t}", {"a": total.approved, "t": total.target})
                        if total.target else Text("{a}", {"a": total.approved}))  # fmt: skip
            figures.append((_("Approved in the phase"), approved))
            if total.target:
                figures.append(
                    (_("Of the target"), Text("{p}", {"p": Percent(total.percent or 0)}))
                )
            figures.append((_("Taking part"), Text("{n}", {"n": total.people})))
            figures.append((_("Estimated benefit"), Text("{b}", {"b": Amount(total.benefit_vnd)})))
        return Card(
            title=_("COMMENDATION OF THE WEEK"),
            subtitle=_(
                "{unit} · {first}–{last}",
                unit=Verbatim(self.unit.name),
                first=Day(self.first_day),
                last=Day(self.last_day),
            ),
            figures=tuple(figures),
            sections=tuple(self.sections()),
            footer=_("“1 million initiatives” programme · Vietnam trade unions"),
        )

    def caption(self) -> tuple[Text, ...]:
        """What goes with the card sent to admins."""
        return (_("🖼 The week's commendation card for {unit}, to share on the unit's Zalo "
                  "and Facebook pages.", unit=Verbatim(self.unit.name)),)  # fmt: skip


@dataclass
class WeeklyItem:
    """One unit's commendation and who gets it."""

    commendation: Commendation
    # How many members hear it (the units in ``WeeklyPlan.reach`` that point to it).
    members: int
    # language -> admin ids, for the card drawn in their language.
    admins: dict[str, list[int]]
    chats: list[str]


@dataclass
class WeeklyPlan:
    """A week's commendations, made once (``key``)."""

    key: str
    items: list[WeeklyItem]
    # Each unit whose members hear something -> the unit whose commendation they hear.
    reach: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Schedule:
    """When commendations go out: a weekday (0 = Monday) and a time in the union's clock."""

    weekday: int
    at: dt.time
    timezone: ZoneInfo

    def due(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled time at or before ``now``, in the union's clock."""
        local = now.astimezone(self.timezone)
        day = local.date() - dt.timedelta(days=(local.weekday() - self.weekday) % 7)
        when = dt.datetime.combine(day, self.at, tzinfo=self.timezone)
        return when if when <= local else when - WEEK


def week_before(due: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The seven whole days before the day of ``due``, in its clock."""
    end = dt.datetime.combine(due.date(), dt.time(0), tzinfo=due.tzinfo)
    return end - WEEK, end


class Path:
    """Units' paths to the root, from one load of the tree."""

    def __init__(self, parents: dict[int, int | None]) -> None:
        self._parents = parents
        self._paths: dict[int, tuple[int, ...]] = {}

    def __call__(self, unit_id: int) -> tuple[int, ...]:
        """The unit and its ancestors, nearest first."""
        path = self._paths.get(unit_id)
        if path is None:
            chain = []
            current: int | None = unit_id
            while current is not None and current not in chain:
                chain.append(current)
                current = self._parents.get(current)
            path = self._paths[unit_id] = tuple(chain)
        return path

    def nearest(self, unit_id: int, among: set[int], memo: dict[int, int | None]) -> int | None:
        """The nearest unit on the unit's path that is ``among``, keeping no path (this is
        asked for every unit with members); ``memo`` keeps the answers for the next call."""
        chain: list[int] = []
        current: int | None = unit_id
        while (current is not None and current not in memo and current not in among
               and current not in chain):  # fmt: skip
            chain.append(current)
            current = self._parents.get(current)
        if current is None or current in chain:
            found = None
        else:
            found = current if current in among else memo[current]
        memo.update(dict.fromkeys(chain, found))
        return found


async def scopes(
    uow: UnitOfWork,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    phase: Phase | None,
    path: Path,
    under: int | None = None,
) -> dict[int, Scope]:
    """Each unit's week: approvals counted up the tree, and targets reached."""
    found: dict[int, Scope] = {}
    phase_id = phase.id if phase is not None else None
    for approval in await uow.weekly.approvals(start, end, under):
        for unit_id in path(approval.unit_id):
            found.setdefault(unit_id, Scope()).add(approval, phase_id)
    if phase is None:
        return found
    # Figures are as of now; approvals since the week ended are taken back out.
    since: Counter[int] = Counter()
    for approval in await uow.weekly.approvals(end, now, under):
        if approval.phase_id == phase.id:
            since.update(path(approval.unit_id))
    # Only a unit with approvals of the phase this week can have reached its target in it.
    moved = sorted(unit_id for unit_id, scope in found.items() if scope.phase_week)
    for start_at in range(0, len(moved), CHUNK):
        chunk = moved[start_at : start_at + CHUNK]
        units = await uow.weekly.units(chunk)
        for figures in await uow.progress.figures([units[u] for u in chunk], phase.id):
            scope = found[figures.unit.id]
            at_end = figures.approved - since[figures.unit.id]
            if figures.target and at_end >= figures.target > at_end - scope.phase_week:
                for unit_id in path(figures.unit.id):
                    if under is None or under in path(unit_id):
                        found[unit_id].reached.append(figures)
    return found


async def commendation(
    uow: UnitOfWork, unit: Unit, scope: Scope, phase: Phase | None, first: dt.date, last: dt.date
) -> Commendation:
    """A unit's commendation from its week."""
    return (await commendations(uow, [(unit, scope)], phase, first, last))[0]


async def commendations(
    uow: UnitOfWork,
    weeks: Sequence[tuple[Unit, Scope]],
    phase: Phase | None,
    first: dt.date,
    last: dt.date,
) -> list[Commendation]:
    """Units' commendations from their weeks, with a few queries for them all."""
    figures: dict[int, Figures] = {}
    for start in range(0, len(weeks) if phase is not None else 0, CHUNK):
        chunk = [unit for unit, _scope in weeks[start : start + CHUNK]]
        assert phase is not None
        figures.update((f.unit.id, f) for f in await uow.progress.figures(chunk, phase.id))
    made = []
    for unit, scope in weeks:
        people = sorted(scope.people.items(), key=lambda item: (-item[1], scope.names[item[0]]))
        featured = sorted(scope.featured, key=featured_first)
        reached = sorted(scope.reached, key=lambda f: (-(f.percent or 0), f.unit.name))
        made.append(Commendation(
            unit=unit, first_day=first, last_day=last, week_count=scope.week, phase=phase,
            figures=figures.get(unit.id), reached=tuple(reached),
            people=tuple((scope.names[m], count) for m, count in people[:TOP_PEOPLE]),
            featured=tuple(featured[:FEATURED]), unit_names={},
        ))  # fmt: skip
    names = await uow.weekly.units([a.unit_id for c in made for a in c.featured])
    return [replace(c, unit_names={a.unit_id: names[a.unit_id].name for a in c.featured
                                   if a.unit_id in names}) for c in made]  # fmt: skip


async def _reach(
    uow: UnitOfWork, path: Path, news: set[int]
) -> tuple[dict[int, int], Counter[int]]:
    """Per unit, not per member: each unit whose members hear something -> the nearest
    unit on its path with news; and how many members hear each of those."""
    reach: dict[int, int] = {}
    members: Counter[int] = Counter()
    memo: dict[int, int | None] = {}
    for unit_id, count in (await uow.weekly.audience()).items():
        scope_id = path.nearest(unit_id, news, memo)
        if scope_id is not None:
            reach[unit_id] = scope_id
            members[scope_id] += count
    return reach, members


class Commendations:
    """Makes the week's commendations once, at the scheduled time, into the queue."""

    def __init__(
        self,
        units_of_work: UnitOfWorkFactory,
        *,
        clock: Callable[[], dt.datetime],
        schedule: Schedule,
        draw: Draw,
        channels: Mapping[str, Capabilities],
    ) -> None:
        self._uow = units_of_work
        # Admins hear of the commendation on the channels whose messages can be queued.
        self._channels = channels
        self._clock = clock
        self._schedule = schedule
        self._draw = draw

    async def run(self) -> int:
        """Queue this week's commendations if they are due and not made yet; return how
        many broadcasts were queued."""
        now = self._clock()
        due = self._schedule.due(now)
        if now - due > CATCH_UP:
            return 0
        plan = await self.plan(due, now)
        if plan is None:
            return 0
        images = {}
        for item in plan.items:
            for language in item.admins:
                card = item.commendation.card()
                images[item.commendation.unit.id, language] = await self._draw(card, language)
        return await self._queue(plan, images, now)

    async def plan(self, due: dt.datetime, now: dt.datetime) -> WeeklyPlan | None:
        """Who gets which commendation for the week before ``due``; None when done."""
        key = f"weekly:{due.date().isoformat()}"
        start, end = week_before(due)
        async with self._uow() as uow:
            if await uow.outbox.keyed(key):
                return None
            phase = await phase_on(uow, (end - dt.timedelta(seconds=1)).date())
            path = Path(await uow.weekly.parents())
            found = await scopes(uow, start, end, now, phase, path)
            with_news = sorted(unit_id for unit_id, scope in found.items() if scope.has_news)
            reach, members = await _reach(uow, path, set(with_news))
            units = await uow.weekly.units(with_news)
            admins: dict[int, list[Member]] = {}
            chats: dict[int, list[LinkedChat]] = {}
            for start_at in range(0, len(with_news), CHUNK):
                chunk = with_news[start_at : start_at + CHUNK]
                admins.update(await uow.roles.holders(chunk, RoleKind.ADMIN))
                chats.update(await uow.chats.of_units(chunk))
            heard: list[tuple[int, dict[str, list[int]], list[str]]] = []
            for unit_id in with_news:
                by_language: dict[str, list[int]] = {}
                for admin in admins.get(unit_id, []):
                    if self._channels.get(admin.channel, UNREACHABLE).queued:
                        by_language.setdefault(admin.language, []).append(admin.id)
                linked = [c.chat_id for c in chats.get(unit_id, []) if c.chat_id]
                if members[unit_id] or by_language or linked:
                    heard.append((unit_id, by_language, linked))
            first, last = start.date(), (end - dt.timedelta(days=1)).date()
            made = await commendations(
                uow, [(units[u], found[u]) for u, _a, _c in heard], phase, first, last
            )
        items = [WeeklyItem(c, members[u], by_language, linked)
                 for c, (u, by_language, linked) in zip(made, heard, strict=True)]  # fmt: skip
        return WeeklyPlan(key, items, reach)

    async def _queue(
        self, plan: WeeklyPlan, images: dict[tuple[int, str], bytes], now: dt.datetime
    ) -> int:
        """Queue every message of the plan and mark the week done, in one transaction."""
        queued = 0
        async with self._uow() as uow:
            if await uow.outbox.keyed(plan.key):
                return 0
            broadcasts: dict[int, int] = {}
            for item in plan.items:
                # Kept as the core says it: each reader gets it in their language when sent.
                message, unit_id = Reply(item.commendation.message()), item.commendation.unit.id
                if item.members:
                    # Its members are put in its queue below, all commendations at once.
                    made = await uow.outbox.create("weekly", message, [], None, now,
                                                   BroadcastExtras())  # fmt: skip
                    if made is not None:
                        broadcasts[unit_id] = made
                    queued += 1
                if item.chats:
                    await uow.outbox.create("weekly", message, [], None, now,
                                            BroadcastExtras(chats=item.chats))  # fmt: skip
                    queued += 1
                caption = Reply(item.commendation.caption())
                for language, admin_ids in item.admins.items():
                    # The picture is drawn in the admins' language of now, once for them all.
                    image = BroadcastExtras(image=images[unit_id, language])
                    await uow.outbox.create("card", caption, admin_ids, None, now, image)
                    queued += 1
            members = await uow.weekly.queue_members(
                {unit_id: broadcasts[scope_id] for unit_id, scope_id in plan.reach.items()
                 if scope_id in broadcasts}
            )  # fmt: skip
            await uow.outbox.create("mark", "", [], None, now, BroadcastExtras(key=plan.key))
            await uow.commit()
        log.info("weekly commendations queued: %s broadcasts for %s units, %s members", queued,
                 len(plan.items), members)  # fmt: skip
        return queued


@button_code("k")
@dataclass(frozen=True, slots=True)
class CardWeek(ButtonCode):
    """k:12:now — the unit's card of last week, or of this week so far."""

    unit: int
    week: Literal["last", "now"]


class CardDesk:
    """/card: an admin's commendation card, of last week or of this week so far."""

    def __init__(self, schedule: Schedule) -> None:
        self._schedule = schedule

    async def _units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)

    def routes(self) -> Routes:
        """/card and its buttons."""
        return Routes(
            commands={"card": CommandRoute(self.card, open=True)},
            buttons={"k": ButtonRoute(self.button)},
        )

    async def card(self, turn: Turn, argument: str) -> None:
        """/card [CODE]: the card of the admin's unit, or of a unit below it."""
        held = await self._units(turn)
        if not held:
            turn.say(_("This command is for union admins."))
            return
        unit = await turn.uow.units.get(held[0])
        code = argument.strip()
        if code:
            unit = await turn.uow.units.by_code(code) if is_valid_code(code) else None
            if unit is None or not await covers(turn.uow, held, unit):
                turn.say(_("There is no unit with the code “{code}” among yours.",
                           code=Verbatim(code[:64])))  # fmt: skip
                return
        assert unit is not None
        await self._show(turn, unit, this_week=False)

    async def button(self, turn: Turn, press: CardWeek) -> None:
        """Switch between last week and this week so far."""
        unit = await turn.uow.units.get(press.unit)
        if unit is None or not await covers(turn.uow, await self._units(turn), unit):
            turn.outcome.notice = _("This is not among your units.")
            return
        await self._show(turn, unit, this_week=press.week == "now")

    async def _show(self, turn: Turn, unit: Unit, this_week: bool) -> None:
        now = turn.now
        start, end = week_before(self._schedule.due(now))
        if this_week:
            start, end = end, now
        local_end = (end - dt.timedelta(seconds=1)).astimezone(self._schedule.timezone)
        phase = await phase_on(turn.uow, local_end.date())
        path = Path(await turn.uow.weekly.parents())
        found = await scopes(turn.uow, start, end, now, phase, path, under=unit.id)
        commended = await commendation(turn.uow, unit, found.get(unit.id, Scope()), phase,
                                       start.date(), local_end.date())  # fmt: skip
        other = (
            Button(_("📅 Last week"), CardWeek(unit.id, "last").encode())
            if this_week
            else Button(_("📅 This week so far"), CardWeek(unit.id, "now").encode())
        )
        turn.outcome.replies.append(Reply(
            commended.caption(), card=commended.card(), buttons=((other,),),
        ))  # fmt: skip
