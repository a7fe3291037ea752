"""Contention benchmark: many admins of one union decide the same pending initiatives.

Setup, per database engine (SQLite always, PostgreSQL when reachable), on a fresh
database (``benchmarks.harness.fresh_database``: migrated, ``examples/units.csv``
imported): 20 admins of the grassroots unit ``HN-LB-MAY10`` granted with
``domain.roles.grant_role`` (telegram ids 900001...), a few authors of that unit, and N
pending initiatives (version 1, every answer filled, submitted) written directly through
the unit of work, with the review card each admin would have been sent (as
``ReviewDesk.route`` + ``deliver`` record them), so that a decision updates every copy.

Measured, through the real ``Application`` (``bot.app.build_application`` with the fake
Bot API of ``handlers.telegram.fake``): the admins decide all at once.  Each admin walks over
ALL initiatives in its own random order and, for each, taps ``r:ok:<id>:1``; when the
answer is the confirmation prompt (a message with an ``r:yes:`` button) it taps
``r:yes:<id>:1``.  Every press is a callback-query update put on
``application.update_queue``; an admin waits until the update processor finished it
before pressing again (closed loop per admin, all admins in parallel).  Most presses
hit an initiative another admin decided already - that is the contention measured.

Reported: wall time until every admin is through; decisions/s (initiatives decided /
seconds); presses handled per second; latency of one press (put on the queue -> the
update processor finished it) p50/p99; how the presses ended (prompt, already decided,
won, lost the race).  Checked in the database afterwards: every initiative has exactly
one decision event (``initiative_events.action`` in approve/return/reject) and ended
approved; otherwise - or if the bot reported an error or an unexpected notice - the
exit status is 1.  The last line printed is one JSON object.

Usage: ``python -m benchmarks.review [--quick] [--initiatives N] [--admins A]
[--postgres-url URL] [--no-postgres] [--no-cards] [--seed S]``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import random
import sys
import time
from argparse import Namespace
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from telegram.request import RequestData

from benchmarks import harness
from benchmarks.harness import (
    PHASE_TIMEOUT,
    UNIT_CODE,
    Driver,
    Person,
    Step,
    Timed,
    connected,
    fresh_database,
    percentile_ms,
    progress,
    real_bot,
    rounded,
)
from bot.settings import UNION_TIMEZONE
from domain import dialog
from domain.model import (
    FieldOfUse,
    Initiative,
    InitiativeStatus,
    Member,
    ReviewCard,
    RoleKind,
    SolutionKind,
)
from domain.model import Step as DraftStep
from domain.privacy import NOTICE_VERSION
from domain.roles import grant_role
from domain.text import Text, Verbatim
from handlers.telegram.fake import FastFakeBotApi, button_update, parameters_of
from locales import Translator
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory

ADMINS = 20
ADMIN_BASE = 900_001  # telegram ids of the admins: 900001 ... 900020
AUTHORS = 5
AUTHOR_BASE = 910_001  # telegram ids of the authors
DEFAULT_INITIATIVES = 1000
QUICK_INITIATIVES = 300
CHANNEL = "telegram"
_MARK = "\x00"


# -- the fake Bot API, with the notice of each press -------------------------------


class ReviewFakeBotApi(FastFakeBotApi):
    """``FastFakeBotApi`` that also keeps the notice of each callback query, by its id."""

    def __init__(self) -> None:
        super().__init__()
        self.notice_of: dict[str, str] = {}
        self.edits = 0

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Remember answerCallbackQuery texts and count edits, then answer as the base does."""
        if name == "answerCallbackQuery":
            params = parameters_of(request_data)
            notice = params.get("text")
            if notice:
                self.notice_of[str(params.get("callback_query_id"))] = str(notice)
        elif name == "editMessageText":
            self.edits += 1
        return await super().answer(name, request_data)


class Admin(Person):
    """An admin in a private chat who presses review buttons by their callback data."""

    __slots__ = ("last_update_id",)

    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user["first_name"] = f"Admin{user_id - ADMIN_BASE + 1}"
        self.last_update_id = 0

    def update(self, step: Step, api: FastFakeBotApi, bare: bool) -> dict[str, Any]:
        """A callback query carrying ``step.prefix`` as its data, whatever the last answer."""
        data = button_update(self.user, self.chat, step.prefix)
        self.last_update_id = data["update_id"]
        return data


# -- preparing the database ------------------------------------------------------


@dataclass
class Seeded:
    """What was written before the measurement."""

    initiative_ids: list[int]
    cards: int
    seconds: float


def _initiative(number: int, author: Member, unit_id: int, now: dt.datetime) -> Initiative:
    return Initiative(
        id=0,
        author_id=author.id,
        entered_by_id=author.id,
        unit_id=unit_id,
        status=InitiativeStatus.DRAFT,
        created_at=now,
        updated_at=now,
        step=DraftStep.SUMMARY,
        title=f"Cải tiến số {number}: giá treo cuộn chỉ xoay cho chuyền may",
        kind=SolutionKind.TECHNICAL,
        field=FieldOfUse.PRODUCTION,
        problem="Công nhân phải cúi người thay cuộn chỉ, mất 5 phút mỗi lần, 8 lần mỗi ca.",
        solution="Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút.",
        applied=True,
        applied_since=now.date(),
        effect="Giảm thời gian dừng máy, đỡ đau lưng cho công nhân.",
        benefit_vnd=1_200_000,
        benefit_known=True,
        coauthors_done=True,
        confidential=False,
        version=0,
    )


async def seed(url: str, initiatives: int, admins: int, cards: bool) -> Seeded:
    """Admins by ``grant_role``; authors, pending initiatives and cards by the unit of work."""
    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    ids: list[int] = []
    card_count = 0
    try:
        admin_members: list[Member] = []
        for i in range(admins):
            held = await grant_role(
                units_of_work,
                unit_code=UNIT_CODE,
                channel=CHANNEL,
                external_id=str(ADMIN_BASE + i),
                kind=RoleKind.ADMIN,
                now=now,
            )
            admin_members.append(held.member)
        async with units_of_work() as uow:
            # The admins agreed to the privacy notice before: reviewing is measured, not
            # the notice asked first.
            for admin in admin_members:
                admin.consent_version = NOTICE_VERSION
                await uow.members.save(admin, now)
            unit = await uow.units.by_code(UNIT_CODE)
            assert unit is not None and unit.is_grassroots, UNIT_CODE
            authors: list[Member] = []
            for k in range(AUTHORS):
                author = Member(
                    id=0,
                    channel=CHANNEL,
                    external_id=str(AUTHOR_BASE + k),
                    display_name=f"Tác giả {k + 1}",
                    language="vi",
                    full_name=f"Nguyễn Thị Tác Giả {k + 1}",
                    unit_id=unit.id,
                )
                authors.append(await uow.members.add(author, now))
            for number in range(initiatives):
                author = authors[number % len(authors)]
                initiative = await uow.initiatives.add(
                    _initiative(number + 1, author, unit.id, now)
                )
                await uow.initiatives.record(initiative, author.id, "created", now)
                # As ``ConversationService._submit`` does it.
                initiative.status = InitiativeStatus.PENDING
                initiative.version = 1
                initiative.submitted_at = now
                assert dialog.missing_answer(initiative) is None
                await uow.initiatives.save(initiative)
                await uow.initiatives.record(initiative, author.id, "submitted", now,
                                             role="author")  # fmt: skip
                if cards:
                    for admin in admin_members:
                        await uow.cards.add(
                            ReviewCard(initiative.id, 1, admin.id, admin.external_id,
                                       1_000 + initiative.id),
                            now,
                        )  # fmt: skip
                        card_count += 1
                ids.append(initiative.id)
            await uow.commit()
        async with units_of_work() as uow:
            pending = await uow.initiatives.count(InitiativeStatus.PENDING)
        assert pending == initiatives, (pending, initiatives)
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return Seeded(ids, card_count, time.perf_counter() - started)


@dataclass
class Check:
    """What the database says after the measurement."""

    without_exactly_one_decision: int
    not_approved: int
    decided: int
    decision_events: int
    by_admin: dict[str, int]


async def check(url: str) -> Check:
    """Count initiatives whose number of decision events is not one, and the statuses."""
    async with connected(url) as connection:

        async def count(sql: str) -> int:
            return int((await connection.execute(text(sql))).scalar_one())

        wrong = await count(
            "SELECT count(*) FROM initiatives i WHERE (SELECT count(*) "
            "FROM initiative_events e WHERE e.initiative_id = i.id "
            "AND e.action IN ('approve', 'return', 'reject')) <> 1"
        )
        not_approved = await count("SELECT count(*) FROM initiatives WHERE status <> 'approved'")
        decided = await count("SELECT count(*) FROM initiatives WHERE status = 'approved'")
        rows = await connection.execute(
            text(
                "SELECT m.external_id, count(*) FROM initiative_events e "
                "JOIN members m ON m.id = e.actor_id "
                "WHERE e.action IN ('approve', 'return', 'reject') "
                "GROUP BY m.external_id"
            )
        )
        by_admin = {str(row[0]): int(row[1]) for row in rows}
    return Check(wrong, not_approved, decided, sum(by_admin.values()), by_admin)


# -- the measurement -------------------------------------------------------------


def _already_decided_prefix(language: str = "vi") -> str:
    """What the notice of a press on a decided initiative starts with, in the admin's language."""
    translator = Translator(UNION_TIMEZONE)
    rendered = translator.render(
        Text("Already decided: {decided}", {"decided": Verbatim(_MARK)}), language
    )
    return rendered.split(_MARK, 1)[0]


class Reviewers:
    """The admins deciding at once, and how their presses went."""

    def __init__(self, api: ReviewFakeBotApi, initiative_ids: list[int], seed_: int) -> None:
        self.api = api
        self.initiative_ids = initiative_ids
        self.seed = seed_
        self.already = _already_decided_prefix()
        self.ok_latencies: list[float] = []
        self.yes_latencies: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.samples: list[str] = []

    async def walk(self, driver: Driver, index: int, admin: Admin) -> None:
        """One admin through every initiative, in its own random order."""
        order = list(self.initiative_ids)
        random.Random(self.seed * 1_000_003 + index).shuffle(order)
        for initiative_id in order:
            if await self._approve(driver, admin, initiative_id):
                await self._confirm(driver, admin, initiative_id)

    async def _approve(self, driver: Driver, admin: Admin, initiative_id: int) -> bool:
        """Tap r:ok; whether the bot asked to confirm."""
        data = f"r:ok:{initiative_id}:1"
        put, done = await driver.send(admin, Step(prefix=data))
        self.ok_latencies.append(done - put)
        notice = self.api.notice_of.pop(str(admin.last_update_id), None)
        prompt = self.api.button(admin.id, "r:yes:")
        if prompt is not None and notice is None:
            if prompt == f"r:yes:{initiative_id}:1":
                self.outcomes["ok: prompt"] += 1
                return True
            self._unexpected("prompt", admin, data)
        elif notice is not None and notice.startswith(self.already):
            self.outcomes["ok: already decided"] += 1
        else:
            self._unexpected("ok answer", admin, data)
        return False

    async def _confirm(self, driver: Driver, admin: Admin, initiative_id: int) -> None:
        """Tap r:yes: the decision, or another admin's came first."""
        data = f"r:yes:{initiative_id}:1"
        put, done = await driver.send(admin, Step(prefix=data))
        self.yes_latencies.append(done - put)
        notice = self.api.notice_of.pop(str(admin.last_update_id), None)
        if notice is None and self.api.button(admin.id, "r:") is None:
            self.outcomes["yes: decided"] += 1
        elif notice is not None and notice.startswith(self.already):
            self.outcomes["yes: lost the race"] += 1
        else:
            self._unexpected("yes answer", admin, data)

    def _unexpected(self, kind: str, admin: Admin, data: str) -> None:
        self.outcomes[f"unexpected {kind}"] += 1
        if len(self.samples) < 3:
            api = self.api
            self.samples.append(
                f"{kind} after {data} from {admin.id}: notice "
                f"{api.notice_of.get(str(admin.last_update_id))!r}, buttons "
                f"{api.buttons.get(admin.id)!r}, text {api.last_text.get(admin.id, '')[:120]!r}"
            )


@dataclass
class ReviewResult:
    """One engine's run."""

    engine: str
    admins: int
    seeded: Seeded
    presses: Timed  # every press: rate = presses/s, percentiles in ms
    reviewers: Reviewers
    check: Check
    errors: int
    notes: list[str] = field(default_factory=list)

    @property
    def initiatives(self) -> int:
        """Pending initiatives at the start."""
        return len(self.seeded.initiative_ids)

    @property
    def outcomes(self) -> Counter[str]:
        """How the presses ended, by kind."""
        return self.reviewers.outcomes

    @property
    def seconds(self) -> float:
        """Wall time until every admin finished."""
        return self.presses.seconds

    @property
    def decisions_per_s(self) -> float:
        """Initiatives decided per second."""
        return self.check.decided / self.seconds if self.seconds else 0.0

    @property
    def unexpected(self) -> int:
        """Presses that ended neither in a prompt, a decision nor an 'already decided'."""
        return sum(n for kind, n in self.outcomes.items() if kind.startswith("unexpected"))

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return (
            self.check.without_exactly_one_decision == 0
            and self.check.not_approved == 0
            and self.outcomes["yes: decided"] == self.initiatives
            and self.errors == 0
            and self.unexpected == 0
        )


async def review_phase(
    engine_name: str, postgres_url: str, initiatives: int, admins: int, cards: bool, seed_: int
) -> ReviewResult:
    """Fresh database, seed, then every admin through every initiative at once."""
    async with fresh_database(engine_name, postgres_url) as url:
        seeded = await seed(url, initiatives, admins, cards)
        progress(
            f"{engine_name}: seeded {initiatives} pending initiatives, {admins} admins, "
            f"{seeded.cards} cards in {seeded.seconds:.1f}s; deciding"
        )
        api = ReviewFakeBotApi()
        reviewers = Reviewers(api, seeded.initiative_ids, seed_)
        people = [Admin(ADMIN_BASE + i) for i in range(admins)]
        async with real_bot(url, api) as driver:
            gc.collect()
            start = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(reviewers.walk(driver, i, a) for i, a in enumerate(people))),
                PHASE_TIMEOUT,
            )
            seconds = time.perf_counter() - start
        checked = await check(url)
    presses = Timed(seconds, reviewers.ok_latencies + reviewers.yes_latencies)
    notes = [repr(e)[:200] for e in driver.errors[:3]] + reviewers.samples
    errors = len(driver.errors)
    return ReviewResult(engine_name, admins, seeded, presses, reviewers, checked, errors, notes)


# -- output ----------------------------------------------------------------------


def table(results: Sequence[ReviewResult]) -> str:
    """A readable table per engine."""
    lines: list[str] = []
    for r in results:
        p = r.presses
        ok, yes = r.reviewers.ok_latencies, r.reviewers.yes_latencies
        lines += [
            f"== {r.engine}: {r.admins} admins x {r.initiatives} initiatives "
            f"({r.seeded.cards} review cards) ==",
            f"  wall time                     {r.seconds:10.2f} s",
            f"  decisions/s                   {r.decisions_per_s:10.1f}",
            f"  presses handled               {p.updates:10d}   ({len(ok)} r:ok, {len(yes)} r:yes)",
            f"  presses/s                     {p.rate:10.1f}",
            f"  press latency p50/p90/p99/max {p.percentile(50):7.1f} / {p.percentile(90):.1f}"
            f" / {p.percentile(99):.1f} / {p.percentile(100):.1f} ms",
            f"  r:ok  p50/p99                 {percentile_ms(ok, 50):7.1f} / "
            f"{percentile_ms(ok, 99):.1f} ms",
            f"  r:yes p50/p99                 {percentile_ms(yes, 50):7.1f} / "
            f"{percentile_ms(yes, 99):.1f} ms",
            "  outcomes                      "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(r.outcomes.items())),
            f"  card edits sent               {r.reviewers.api.edits:10d}",
            f"  decisions per admin           min {min(r.check.by_admin.values(), default=0)}"
            f" / max {max(r.check.by_admin.values(), default=0)}"
            f" over {len(r.check.by_admin)} admins",
            f"  db: decided {r.check.decided}, decision events {r.check.decision_events}, "
            f"not approved {r.check.not_approved}, "
            f"initiatives_without_exactly_one_decision {r.check.without_exactly_one_decision}",
            f"  bot errors {r.errors}, unexpected answers {r.unexpected}"
            + ("" if r.ok else "   <-- CHECK FAILED"),
        ]
        lines += [f"    ! {note}" for note in r.notes]
    return "\n".join(lines)


def summary(
    results: Sequence[ReviewResult], initiatives: int, admins: int, postgres_note: str | None
) -> tuple[dict[str, Any], bool]:
    """The final JSON object, and whether every check passed."""
    by = {r.engine: r for r in results}
    sqlite, postgres = by["sqlite"], by.get("postgres")

    out: dict[str, Any] = {
        "decisions_per_s": rounded(sqlite.decisions_per_s),
        "initiatives_without_exactly_one_decision": sum(
            r.check.without_exactly_one_decision for r in results
        ),
        "postgres_decisions_per_s": rounded(postgres.decisions_per_s) if postgres else None,
        "initiatives": initiatives,
        "admins": admins,
        "presses_per_s": rounded(sqlite.presses.rate),
        "press_p50_ms": rounded(sqlite.presses.percentile(50), 2),
        "press_p99_ms": rounded(sqlite.presses.percentile(99), 2),
        "postgres_presses_per_s": rounded(postgres.presses.rate) if postgres else None,
        "postgres_press_p50_ms": rounded(postgres.presses.percentile(50), 2) if postgres else None,
        "postgres_press_p99_ms": rounded(postgres.presses.percentile(99), 2) if postgres else None,
        "presses": sqlite.presses.updates,
        "seconds": round(sqlite.seconds, 2),
        "postgres_seconds": round(postgres.seconds, 2) if postgres else None,
        "not_approved": sum(r.check.not_approved for r in results),
        "lost_races": {r.engine: r.outcomes["yes: lost the race"] for r in results},
        "errors": sum(r.errors + r.unexpected for r in results),
        "review_cards": sqlite.seeded.cards > 0,
    }
    if postgres_note:
        out["postgres_unavailable"] = postgres_note[:200]
    ok = all(r.ok for r in results)
    out["ok"] = ok
    return out, ok


# -- main ------------------------------------------------------------------------


async def main_async(args: Namespace) -> int:
    """Run every engine, print the tables and the JSON line; 0 when every check passed."""
    plan = (args.initiatives, args.admins, args.cards, args.seed)
    results, postgres_note = await harness.on_each_engine(
        args,
        lambda engine, url: review_phase(engine, url, *plan),
        f"{args.admins} admins x {args.initiatives} initiatives",
    )
    print()
    print(
        "Every admin taps r:ok on every initiative (own random order), then r:yes when "
        "prompted; one press = put on the update queue -> handled; latencies in ms."
    )
    print(table(results))
    out, ok = summary(results, args.initiatives, args.admins, postgres_note)
    failed = "an initiative without exactly one decision, not approved, a bot error, "
    return harness.figures_line(out, ok, failed + "or an unexpected answer")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.review", __doc__,
        f"{QUICK_INITIATIVES} initiatives instead of {DEFAULT_INITIATIVES}",
    )  # fmt: skip
    parser.add_argument("--initiatives", type=int, default=None, help="pending initiatives")
    parser.add_argument("--admins", type=int, default=ADMINS, help=f"admins (default {ADMINS})")
    parser.add_argument(
        "--no-cards",
        dest="cards",
        action="store_false",
        help="do not record the admins' review cards (a decision then edits none)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the admins' orders")
    args = parser.parse_args(argv)
    if args.initiatives is None:
        args.initiatives = QUICK_INITIATIVES if args.quick else DEFAULT_INITIATIVES
    if args.initiatives < 1 or args.admins < 1:
        parser.error("--initiatives and --admins must be at least 1")
    return harness.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
