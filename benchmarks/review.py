"""Contention benchmark: many admins of one union decide the same pending initiatives.

Setup, per database engine (SQLite always, PostgreSQL when reachable), on a fresh
database (``benchmarks.dialog.fresh_database``: migrated, ``examples/units.csv``
imported): 20 admins of the grassroots unit ``HN-LB-MAY10`` granted with
``domain.roles.grant_role`` (telegram ids 900001...), a few authors of that unit, and N
pending initiatives (version 1, every answer filled, submitted) written directly through
the unit of work, with the review card each admin would have been sent (as
``ReviewDesk.route`` + ``deliver`` record them), so that a decision updates every copy.

Measured, through the real ``Application`` (``bot.app.build_application`` with the fake
Bot API of ``benchmarks.fakeapi``): the admins decide all at once.  Each admin walks over
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

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from benchmarks.dialog import (
    DEFAULT_POSTGRES,
    PHASE_TIMEOUT,
    UNIT_CODE,
    Driver,
    Person,
    PhaseResult,
    Step,
    fresh_database,
    postgres_reachable,
    progress,
    running,
    silence_logging,
)
from benchmarks.fakeapi import TOKEN, FastFakeBotApi
from bot.app import build_application
from bot.settings import UNION_TIMEZONE, Settings
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
from domain.roles import grant_role
from domain.text import Text, Verbatim
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

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: Any = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Remember answerCallbackQuery texts and count edits, then answer as the base does."""
        name = url[url.rfind("/") + 1 :]
        if name == "answerCallbackQuery" and request_data is not None:
            notice = request_data.parameters.get("text")
            if notice:
                self.notice_of[str(request_data.parameters.get("callback_query_id"))] = str(notice)
        elif name == "editMessageText":
            self.edits += 1
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


class Admin(Person):
    """An admin in a private chat who presses review buttons by their callback data."""

    __slots__ = ("last_update_id",)

    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user["first_name"] = f"Admin{user_id - ADMIN_BASE + 1}"
        self.last_update_id = 0

    def update(self, step: Step, api: FastFakeBotApi, bare: bool) -> dict[str, Any]:
        """A callback query carrying ``step.prefix`` as its data, whatever the last answer."""
        data = super().update(step, api, True)
        data["callback_query"]["data"] = step.prefix
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
            _role, member, _unit = await grant_role(
                units_of_work,
                unit_code=UNIT_CODE,
                channel=CHANNEL,
                external_id=str(ADMIN_BASE + i),
                kind=RoleKind.ADMIN,
                now=now,
            )
            admin_members.append(member)
        async with units_of_work() as uow:
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
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            wrong = (
                await connection.execute(
                    text(
                        "SELECT count(*) FROM initiatives i WHERE (SELECT count(*) "
                        "FROM initiative_events e WHERE e.initiative_id = i.id "
                        "AND e.action IN ('approve', 'return', 'reject')) <> 1"
                    )
                )
            ).scalar_one()
            not_approved = (
                await connection.execute(
                    text("SELECT count(*) FROM initiatives WHERE status <> 'approved'")
                )
            ).scalar_one()
            decided = (
                await connection.execute(
                    text("SELECT count(*) FROM initiatives WHERE status = 'approved'")
                )
            ).scalar_one()
            rows = (
                await connection.execute(
                    text(
                        "SELECT m.external_id, count(*) FROM initiative_events e "
                        "JOIN members m ON m.id = e.actor_id "
                        "WHERE e.action IN ('approve', 'return', 'reject') "
                        "GROUP BY m.external_id"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    by_admin = {str(row[0]): int(row[1]) for row in rows}
    return Check(int(wrong), int(not_approved), int(decided), sum(by_admin.values()), by_admin)


# -- the measurement -------------------------------------------------------------


@dataclass
class ReviewResult:
    """One engine's run."""

    engine: str
    initiatives: int
    admins: int
    seeded: Seeded
    presses: PhaseResult  # every press: rate = presses/s, percentiles in ms
    ok_latencies: list[float]
    yes_latencies: list[float]
    outcomes: Counter[str]
    check: Check
    errors: int
    edits: int
    notes: list[str] = field(default_factory=list)

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


def _already_decided_prefix(language: str = "vi") -> str:
    """What the notice of a press on a decided initiative starts with, in the admin's language."""
    translator = Translator(UNION_TIMEZONE)
    rendered = translator.render(
        Text("Already decided: {decided}", {"decided": Verbatim(_MARK)}), language
    )
    return rendered.split(_MARK, 1)[0]


def _percentile(values: Sequence[float], q: float) -> float:
    return PhaseResult("", "", 0, len(values), 0.0, list(values)).percentile(q)


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
        settings = Settings(
            telegram_bot_token=TOKEN, database_url=url, migrate_on_start=False, limit_replies=False
        )
        api = ReviewFakeBotApi()
        application = build_application(settings, request=api)
        driver = Driver(application, api)
        people = [Admin(ADMIN_BASE + i) for i in range(admins)]
        already = _already_decided_prefix()
        ok_latencies: list[float] = []
        yes_latencies: list[float] = []
        outcomes: Counter[str] = Counter()
        samples: list[str] = []

        def unexpected(kind: str, admin: Admin, data: str) -> None:
            outcomes[f"unexpected {kind}"] += 1
            if len(samples) < 3:
                samples.append(
                    f"{kind} after {data} from {admin.id}: notice "
                    f"{api.notice_of.get(str(admin.last_update_id))!r}, buttons "
                    f"{api.buttons.get(admin.id)!r}, text {api.last_text.get(admin.id, '')[:120]!r}"
                )

        async def run(index: int, admin: Admin) -> None:
            order = list(seeded.initiative_ids)
            random.Random(seed_ * 1_000_003 + index).shuffle(order)
            for initiative_id in order:
                ok_data = f"r:ok:{initiative_id}:1"
                yes_data = f"r:yes:{initiative_id}:1"
                put, done = await driver.send(admin, Step(prefix=ok_data))
                ok_latencies.append(done - put)
                notice = api.notice_of.pop(str(admin.last_update_id), None)
                prompt = api.button(admin.id, "r:yes:")
                if prompt is not None and notice is None:
                    if prompt != yes_data:
                        unexpected("prompt", admin, ok_data)
                        continue
                    outcomes["ok: prompt"] += 1
                elif notice is not None and notice.startswith(already):
                    outcomes["ok: already decided"] += 1
                    continue
                else:
                    unexpected("ok answer", admin, ok_data)
                    continue
                put, done = await driver.send(admin, Step(prefix=yes_data))
                yes_latencies.append(done - put)
                notice = api.notice_of.pop(str(admin.last_update_id), None)
                if notice is None and api.button(admin.id, "r:") is None:
                    outcomes["yes: decided"] += 1
                elif notice is not None and notice.startswith(already):
                    outcomes["yes: lost the race"] += 1
                else:
                    unexpected("yes answer", admin, yes_data)

        async with running(application, post_init=True):
            gc.collect()
            start = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(*(run(i, admin) for i, admin in enumerate(people))),
                PHASE_TIMEOUT,
            )
            seconds = time.perf_counter() - start
        checked = await check(url)
    latencies = ok_latencies + yes_latencies
    presses = PhaseResult(engine_name, "review", admins, len(latencies), seconds, latencies)
    return ReviewResult(
        engine=engine_name,
        initiatives=initiatives,
        admins=admins,
        seeded=seeded,
        presses=presses,
        ok_latencies=ok_latencies,
        yes_latencies=yes_latencies,
        outcomes=outcomes,
        check=checked,
        errors=len(driver.errors),
        edits=api.edits,
        notes=[repr(e)[:200] for e in driver.errors[:3]] + samples,
    )


# -- output ----------------------------------------------------------------------


def table(results: Sequence[ReviewResult]) -> str:
    """A readable table per engine."""
    lines: list[str] = []
    for r in results:
        p = r.presses
        lines += [
            f"== {r.engine}: {r.admins} admins x {r.initiatives} initiatives "
            f"({r.seeded.cards} review cards) ==",
            f"  wall time                     {r.seconds:10.2f} s",
            f"  decisions/s                   {r.decisions_per_s:10.1f}",
            f"  presses handled               {p.updates:10d}"
            f"   ({len(r.ok_latencies)} r:ok, {len(r.yes_latencies)} r:yes)",
            f"  presses/s                     {p.rate:10.1f}",
            f"  press latency p50/p90/p99/max {p.percentile(50):7.1f} / {p.percentile(90):.1f}"
            f" / {p.percentile(99):.1f} / {p.percentile(100):.1f} ms",
            f"  r:ok  p50/p99                 {_percentile(r.ok_latencies, 50):7.1f} / "
            f"{_percentile(r.ok_latencies, 99):.1f} ms",
            f"  r:yes p50/p99                 {_percentile(r.yes_latencies, 50):7.1f} / "
            f"{_percentile(r.yes_latencies, 99):.1f} ms",
            "  outcomes                      "
            + ", ".join(f"{kind} {n}" for kind, n in sorted(r.outcomes.items())),
            f"  card edits sent               {r.edits:10d}",
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

    def rounded(value: float | None, digits: int = 1) -> float | None:
        return None if value is None else round(value, digits)

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


async def main_async(args: argparse.Namespace) -> int:
    """Run every engine, print the tables and the JSON line; 0 when every check passed."""
    results: list[ReviewResult] = []
    progress(f"sqlite: {args.admins} admins x {args.initiatives} initiatives")
    results.append(
        await review_phase("sqlite", "", args.initiatives, args.admins, args.cards, args.seed)
    )
    postgres_note: str | None
    if args.no_postgres:
        postgres_note = "skipped (--no-postgres)"
    else:
        postgres_note = await postgres_reachable(args.postgres_url)
    if postgres_note is None:
        progress(f"postgres: {args.admins} admins x {args.initiatives} initiatives")
        results.append(
            await review_phase(
                "postgres", args.postgres_url, args.initiatives, args.admins, args.cards,
                args.seed,
            )
        )  # fmt: skip
    else:
        progress(f"postgres not measured: {postgres_note}")
    print()
    print(
        "Every admin taps r:ok on every initiative (own random order), then r:yes when "
        "prompted; one press = put on the update queue -> handled; latencies in ms."
    )
    print(table(results))
    out, ok = summary(results, args.initiatives, args.admins, postgres_note)
    if not ok:
        print(
            "CHECK FAILED: an initiative without exactly one decision, not approved, "
            "a bot error, or an unexpected answer",
            file=sys.stderr,
        )
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.review", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_INITIATIVES} initiatives instead of {DEFAULT_INITIATIVES}",
    )
    parser.add_argument("--initiatives", type=int, default=None, help="pending initiatives")
    parser.add_argument("--admins", type=int, default=ADMINS, help=f"admins (default {ADMINS})")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the benchmark databases from",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
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
    silence_logging()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
