"""Broadcast benchmark: one announcement to many members at Telegram's pace, with dialogs.

Setup, per database engine (SQLite always, PostgreSQL when reachable), on a fresh
database (``benchmarks.harness.fresh_database``: migrated, ``examples/units.csv``
imported): N members (telegram ids 50000000...) inserted in bulk into ``members``.
Then, through the real ``Application`` (``bot.app.build_application``: the delivery
queue, the sender, the shared send budget of ``handlers.telegram.budget``), one broadcast to all of
them is queued with ``bot_data.deliveries.broadcast`` and the benchmark waits until
``deliveries.tally`` shows nothing queued or being sent.

The Bot API is faked at the ``BaseRequest`` boundary (``benchmarks.virtual_time``), and the
fake ENFORCES Telegram's limits: at most 30 sendMessage/sendPhoto calls in any sliding
1-second window for the whole bot and at most one message a second to one private chat;
beyond that it answers HTTP 429 "retry after 1", as Telegram does.

Time runs ``--speed`` times faster than real (default 10): the sender and the send
budget get a virtual clock and sleep as ``pace``, and the fake judges its limits by the
same clock.  Everything that costs real time (database, event loop, the fake itself)
therefore weighs ``speed`` times more in virtual time than in production: the run is
what a machine ``speed`` times slower would do in real time.  Virtual sleeps end on
time to within microseconds (``VirtualClock``); ``--coarse-sleep`` leaves them to
asyncio's timer, which wakes up to a millisecond late, i.e. ``speed`` ms virtual.

While the broadcast runs, a few simulated members (``--workers``) each go through the
submission dialog of ``benchmarks.harness.DIALOG`` (join + submit), one step every
``--think`` virtual seconds on average (each pause drawn between half and one and a half
times that, from ``--seed``), starting over as a new member after each submission.
Their replies go through the same fake, which holds them to their chat's pace only: they
are no bulk messages, in Telegram's terms and in the bot's budget.
The latency of one dialog update is real time from putting it on
``application.update_queue`` until the update processor finished it.

Reported per engine: recipients, the bot's achieved rate as a fraction of Telegram's
30/s (``rate_fraction_of_limit``: every message the bot sent, broadcast and dialog
replies, per virtual second from the broadcast's first delivery to its last), the
broadcast's own share (``broadcast_fraction_of_limit``: the limit is on it alone),
429 answers, recipients who got the text twice (duplicates) or never (missed), dialog
latency percentiles during the broadcast, and figures that explain a shortfall: the
budget's ceiling (29/s), gaps between deliveries, how much of
the time the sender waited for the budget, event-loop lag.  The last line printed is one
JSON object: the SQLite figures at the top level and PostgreSQL's under ``postgresql``.
The exit status is 1 when any recipient was missed or served twice.

Usage: ``python -m benchmarks.broadcast [--quick] [--recipients N] [--speed S]
[--workers W] [--think T] [--seed N] [--coarse-sleep] [--postgres-url URL]
[--no-postgres] [--no-paid]``; ``--paid``: only the paid mode; ``--weekly [--keep DIR]``:
the weekly commendations at national scale instead (``benchmarks.weekly``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import itertools
import random
import sys
import time
from argparse import Namespace
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select

from benchmarks import harness, weekly
from benchmarks.harness import (
    DIALOG,
    MEASURED_BASE,
    WARMUP_BASE,
    DialogError,
    Driver,
    Person,
    count_submitted,
    fresh_database,
    percentile_ms,
    progress,
    real_bot,
    rounded,
)
from benchmarks.virtual_time import (
    PER_CHAT_SECONDS,
    TELEGRAM_PER_SECOND,
    LimitedFakeBotApi,
    VirtualClock,
)
from bot.settings import Settings
from domain.delivery import DeliveryService, OutgoingState
from handlers.telegram.budget import BURST
from handlers.telegram.fake import TOKEN
from storage.db import create_engine
from storage.models import MemberRow

TEXT = "📣 Thông báo: hạn nộp sáng kiến giai đoạn 2 là 30/09/2023. Mời các bạn tham gia!"
RECIPIENT_BASE = 50_000_000  # telegram ids of the recipients: 50000000 + i
DEFAULT_RECIPIENTS = 100_000
QUICK_RECIPIENTS = 5_000
DEFAULT_SPEED = 10.0
DEFAULT_WORKERS = 5
# A member types an answer or taps a button about every 10 s; this also keeps the
# dialog replies (about one message a step) small beside the broadcast's 29/s.
DEFAULT_THINK = 10.0
BROADCAST_RATE = Settings(telegram_bot_token=TOKEN).broadcast_rate  # the bot's default
SLOTS = Settings(telegram_bot_token=TOKEN).send_slots
INSERT_CHUNK = 10_000
FINISH_POLL = 0.05  # real seconds between tallies once every recipient got the message
REPORT_EVERY = 15.0  # real seconds between progress lines
LAG_PROBE = 0.01  # real seconds between event-loop lag probes

# -- recipients ----------------------------------------------------------------------


async def add_recipients(url: str, count: int) -> list[int]:
    """``count`` members who talked to the bot, inserted in bulk; their ids."""
    members = cast(Table, MemberRow.__table__)
    now = dt.datetime.now(dt.UTC)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, count, INSERT_CHUNK):
                rows = [
                    {
                        "channel": "telegram",
                        "external_id": str(RECIPIENT_BASE + index),
                        "display_name": f"Đoàn viên {index}",
                        "language": "vi",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for index in range(start, min(count, start + INSERT_CHUNK))
                ]
                await connection.execute(insert(members), rows)
        async with engine.connect() as connection:
            ids = list(
                (
                    await connection.execute(
                        select(members.c.id).where(members.c.channel == "telegram")
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    if len(ids) != count:
        raise RuntimeError(f"{len(ids)} members in the fresh database, expected {count}")
    return [int(i) for i in ids]


# -- the dialog alongside ------------------------------------------------------------


@dataclass
class Dialogs:
    """What the simulated members did while the broadcast ran."""

    latencies: list[float] = field(default_factory=list)  # real seconds
    completed: int = 0
    failed: list[str] = field(default_factory=list)
    late: int = 0  # steps due before the member's previous update had finished


async def member_worker(
    index: int,
    think: float,
    seed: int,
    driver: Driver,
    clock: VirtualClock,
    ids: itertools.count[int],
    stop: asyncio.Event,
    dialogs: Dialogs,
) -> None:
    """A step every ``think`` virtual seconds or so; a new member after each submission.

    Members are not in step with each other: each pause is drawn at random, so that now
    and then two replies go out at nearly the same moment, as with real people.
    """
    rng = random.Random(seed * 1000 + index)
    due = clock.now() + think * rng.random()
    while not stop.is_set():
        person = Person(next(ids))
        try:
            for step in DIALOG:
                wait = due - clock.now()
                if wait > 0:
                    await clock.sleep(wait)
                else:
                    dialogs.late += 1
                if stop.is_set():
                    return
                put, done = await driver.send(person, step)
                dialogs.latencies.append(done - put)
                due += think * rng.uniform(0.5, 1.5)
        except DialogError as error:
            dialogs.failed.append(str(error))
            continue
        dialogs.completed += 1


async def warm_up(driver: Driver, api: LimitedFakeBotApi) -> None:
    """One whole dialog before measuring, with the limits off (its steps come at once)."""
    api.enforce = False
    person = Person(WARMUP_BASE)
    for step in DIALOG:
        await driver.send(person, step)
    api.reset()


# -- event-loop lag ------------------------------------------------------------------


async def probe_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late a short sleep wakes up: the loop is busy that long (real seconds)."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(LAG_PROBE)
        lags.append(time.perf_counter() - start - LAG_PROBE)


# -- one engine ----------------------------------------------------------------------


@dataclass
class BroadcastResult:
    """One engine's run."""

    engine: str
    recipients: int
    speed: float
    coarse_sleep: bool
    setup_s: float
    elapsed_s: float  # real: queueing the broadcast -> nothing queued or being sent
    queued_at: float  # virtual
    deliveries: list[float]  # virtual time of each broadcast delivery
    interactive: list[float]  # virtual time of each other message during the broadcast
    duplicates: int
    missed: int
    refused_broadcast: int
    refused_interactive: int
    refusals: list[str]
    tally: dict[str, int]
    dialogs: Dialogs
    submitted: int
    errors: list[str]
    lags: list[float]
    waited: float  # virtual seconds the sender's slots slept for the budget or a chat's pace

    @property
    def span(self) -> float:
        """Virtual seconds from the first delivery to the last."""
        return self.deliveries[-1] - self.deliveries[0] if len(self.deliveries) > 1 else 0.0

    @property
    def rate(self) -> float:
        """Broadcast messages per virtual second, first delivery to last."""
        return (len(self.deliveries) - 1) / self.span if self.span else 0.0

    @property
    def end_to_end_rate(self) -> float:
        """Broadcast messages per virtual second, from queueing to the last delivery."""
        if not self.deliveries:
            return 0.0
        return len(self.deliveries) / (self.deliveries[-1] - self.queued_at)

    @property
    def interactive_in_span(self) -> int:
        """Dialog replies sent between the broadcast's first and last delivery."""
        if not self.deliveries:
            return 0
        first, last = self.deliveries[0], self.deliveries[-1]
        return sum(1 for t in self.interactive if first <= t <= last)

    def gap(self, q: float) -> float:
        """Percentile of the virtual milliseconds between consecutive deliveries."""
        return percentile_ms([b - a for a, b in itertools.pairwise(self.deliveries)], q)

    def lag(self, q: float) -> float:
        """Percentile of the event loop's lag in real milliseconds."""
        return percentile_ms(self.lags, q)


async def wait_finished(
    deliveries: DeliveryService,
    api: LimitedFakeBotApi,
    broadcast_id: int,
    engine_name: str,
    timeout: float,
) -> dict[OutgoingState, int]:
    """Wait until nothing of the broadcast is queued or being sent, reporting progress.

    The tally is read only when every recipient got the message or deliveries stalled:
    on SQLite it runs in the event loop's thread, and counting 100.000 rows every second
    would itself slow the sender down.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    seen = -1
    while True:
        if api.all_received.is_set():
            await asyncio.sleep(FINISH_POLL)  # the last "sent" is being recorded
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(api.all_received.wait(), REPORT_EVERY)
        sent = len(api.deliveries)
        if api.all_received.is_set() or sent == seen:
            tally = await deliveries.tally(broadcast_id)
            if not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]:
                return tally
        elapsed = loop.time() - start
        if elapsed > timeout:
            raise TimeoutError(f"{engine_name}: broadcast not done after {timeout:.0f} s")
        if sent != seen and not api.all_received.is_set():
            span = api.deliveries[-1] - api.deliveries[0] if sent > 1 else 0.0
            rate = (sent - 1) / span if span else 0.0
            progress(
                f"  {engine_name}: {sent}/{api.expected} delivered, {rate:.2f}/s virtual, "
                f"429s {api.http_429}, {elapsed:.0f} s"
            )
        seen = sent


async def run_engine(
    engine_name: str,
    postgres_url: str,
    recipients: int,
    speed: float,
    workers: int,
    think: float,
    seed: int,
    coarse: bool,
) -> BroadcastResult:
    """A fresh database, N recipients, one broadcast through the real bot, dialogs alongside."""
    setup_start = time.perf_counter()
    async with fresh_database(engine_name, postgres_url) as url:
        member_ids = await add_recipients(url, recipients)
        setup_s = time.perf_counter() - setup_start
        clock = VirtualClock(speed, coarse=coarse)
        api = LimitedFakeBotApi(clock, TEXT)
        api.expected = recipients
        dialogs = Dialogs()
        stop = asyncio.Event()
        lags: list[float] = []
        pace = (clock.now, clock.pace)
        async with real_bot(url, api, pace=pace) as driver:
            await warm_up(driver, api)
            errors_before = len(driver.errors)
            gc.collect()
            ids = itertools.count(MEASURED_BASE)
            queued_at = clock.now()
            paced_before = clock.paced
            started = time.perf_counter()
            deliveries = driver.application.bot_data.deliveries
            assert deliveries is not None
            broadcast_id = await deliveries.broadcast("announce", TEXT, member_ids, None)
            assert broadcast_id is not None
            tasks = [
                asyncio.create_task(
                    member_worker(i, think, seed, driver, clock, ids, stop, dialogs)
                )
                for i in range(workers)
            ]
            tasks.append(asyncio.create_task(probe_lag(lags, stop)))
            # A generous bound: three times the ideal duration, plus a minute.
            timeout = 3 * recipients / BROADCAST_RATE / speed + 60
            try:
                tally = await wait_finished(deliveries, api, broadcast_id, engine_name, timeout)
                elapsed_s = time.perf_counter() - started
                waited = clock.paced - paced_before
            finally:
                stop.set()
                await asyncio.gather(*tasks)
        submitted = await count_submitted(url)
    missed = sum(1 for i in range(recipients) if RECIPIENT_BASE + i not in api.received)
    return BroadcastResult(
        engine=engine_name,
        recipients=recipients,
        speed=speed,
        coarse_sleep=coarse,
        setup_s=setup_s,
        elapsed_s=elapsed_s,
        queued_at=queued_at,
        deliveries=api.deliveries,
        interactive=api.interactive,
        duplicates=sum(1 for n in api.received.values() if n > 1),
        missed=missed,
        refused_broadcast=api.refused_broadcast,
        refused_interactive=api.refused_interactive,
        refusals=api.refusals,
        tally={state.value: count for state, count in tally.items() if count},
        dialogs=dialogs,
        submitted=submitted,
        errors=[repr(e) for e in driver.errors[errors_before:]] + api.notices,
        lags=lags,
        waited=waited,
    )


# -- output --------------------------------------------------------------------------


def figures(r: BroadcastResult) -> dict[str, Any]:
    """One engine's figures for the JSON line."""
    span = r.span
    both = (len(r.deliveries) + r.interactive_in_span) / span if span else 0.0
    # What the budget gives the broadcast: BROADCAST_RATE a second (replies are not bulk).
    ceiling = BROADCAST_RATE if span else 0.0
    # Each slot's time is spent waiting for the budget or working on a message.
    busy = (span * SLOTS - r.waited) / len(r.deliveries) / r.speed if r.deliveries else 0.0
    return {
        "engine": r.engine,
        "recipients": r.recipients,
        "rate_fraction_of_limit": round(both / TELEGRAM_PER_SECOND, 4),
        "broadcast_fraction_of_limit": round(r.rate / TELEGRAM_PER_SECOND, 4),
        "http_429": r.refused_broadcast + r.refused_interactive,
        "duplicates": r.duplicates,
        "missed": r.missed,
        "dialog_p99_ms_during_broadcast": rounded(percentile_ms(r.dialogs.latencies, 99), 2),
        "dialog_p50_ms_during_broadcast": rounded(percentile_ms(r.dialogs.latencies, 50), 2),
        "dialog_max_ms_during_broadcast": rounded(percentile_ms(r.dialogs.latencies, 100), 2),
        "speed": r.speed,
        "coarse_sleep": r.coarse_sleep,
        "elapsed_s": round(r.elapsed_s, 1),
        "messages_per_s_virtual": round(r.rate, 3),
        "ceiling_fraction_of_limit": round(ceiling / TELEGRAM_PER_SECOND, 4),
        "end_to_end_fraction_of_limit": round(r.end_to_end_rate / TELEGRAM_PER_SECOND, 4),
        "broadcast_virtual_s": round(span, 1),
        "start_delay_virtual_s": (
            round(r.deliveries[0] - r.queued_at, 2) if r.deliveries else None
        ),
        "http_429_broadcast": r.refused_broadcast,
        "http_429_replies": r.refused_interactive,
        "delivered": len(r.deliveries),
        "tally": r.tally,
        "replies_during_broadcast": r.interactive_in_span,
        "dialog_updates": len(r.dialogs.latencies),
        "dialogs_completed": r.dialogs.completed,
        "dialogs_failed": len(r.dialogs.failed),
        "submitted": r.submitted,
        "bot_errors": len(r.errors),
        "sender_waiting_fraction": round(r.waited / SLOTS / span, 3) if span else None,
        "sender_busy_ms_real_per_message": round(busy * 1000, 3),
        "gap_p50_ms_virtual": rounded(r.gap(50), 2),
        "gap_p99_ms_virtual": rounded(r.gap(99), 2),
        "gap_max_ms_virtual": rounded(r.gap(100), 2),
        "loop_lag_p50_ms": rounded(r.lag(50), 2),
        "loop_lag_p99_ms": rounded(r.lag(99), 2),
        "setup_s": round(r.setup_s, 1),
    }


def describe(r: BroadcastResult) -> list[str]:
    """Human-readable lines for one engine, with why the rate fell short if it did."""
    f = figures(r)
    interval = 1000 / BROADCAST_RATE
    lines = [
        f"== {r.engine}: {r.recipients} recipients at speed {r.speed:g}"
        f"{' (coarse sleeps)' if r.coarse_sleep else ''}: {f['elapsed_s']} s real, "
        f"{f['broadcast_virtual_s']} s virtual from first to last delivery "
        f"(setup {f['setup_s']} s)",
        f"  delivered {f['delivered']}, duplicates {r.duplicates}, missed {r.missed}; "
        f"tally {r.tally}",
        f"  rate with the dialog replies {f['rate_fraction_of_limit']:.3f} of Telegram's "
        f"{TELEGRAM_PER_SECOND}/s; the broadcast alone {r.rate:.2f} messages/s virtual = "
        f"{f['broadcast_fraction_of_limit']:.3f}, the budget's ceiling for it "
        f"{f['ceiling_fraction_of_limit']:.3f}",
        f"  from queueing {f['end_to_end_fraction_of_limit']:.3f} (first delivery after "
        f"{f['start_delay_virtual_s']} virtual s)",
        f"  429 answers: {f['http_429']} ({r.refused_broadcast} broadcast, "
        f"{r.refused_interactive} dialog replies)",
        f"  dialogs: {f['dialog_updates']} updates, {r.dialogs.completed} submitted "
        f"({r.submitted} pending in the database), {len(r.dialogs.failed)} failed, "
        f"{r.dialogs.late} steps late; latency (real ms) p50 "
        f"{f['dialog_p50_ms_during_broadcast']}, p99 {f['dialog_p99_ms_during_broadcast']}, "
        f"max {f['dialog_max_ms_during_broadcast']}",
        f"  gaps between deliveries (virtual ms, ideal {interval:.1f}): p50 "
        f"{f['gap_p50_ms_virtual']}, p99 {f['gap_p99_ms_virtual']}, max "
        f"{f['gap_max_ms_virtual']}; the {SLOTS} sending slots waited for the budget "
        f"{f['sender_waiting_fraction']} of the time and worked otherwise, "
        f"{f['sender_busy_ms_real_per_message']} real ms of a slot a message; event-loop lag "
        f"(real ms) p50 {f['loop_lag_p50_ms']}, p99 {f['loop_lag_p99_ms']}",
    ]
    if f["broadcast_fraction_of_limit"] < f["ceiling_fraction_of_limit"] - 0.005:
        busy = f["sender_busy_ms_real_per_message"] * r.speed
        lines.append(
            f"  note: below the budget's ceiling. The budget saves up at most {BURST:g} tokens, so "
            f"a stretch of more than {BURST:g} messages' time without a send is lost for good; "
            f"at speed {r.speed:g} each real ms of work is {r.speed:g} virtual ms "
            f"(a slot works {busy:.1f} virtual ms a message on average: sending, "
            f"recording, claiming batches, and whatever else holds the event loop)"
        )
    if r.refused_interactive:
        lines.append(
            "  note: dialog replies were refused: a chat takes a reply's few messages at "
            "once, then about one a second"
        )
    lines += [f"  ! 429: {note}" for note in r.refusals]
    lines += [f"  ! dialog: {note[:200]}" for note in r.dialogs.failed[:3]]
    lines += [f"  ! bot: {note[:200]}" for note in r.errors[:3]]
    return lines


async def main_async(args: Namespace) -> int:
    """Run every engine, print the figures and the JSON line; 0 when no one was missed
    or served twice."""
    plan = (args.recipients, args.speed, args.workers, args.think, args.seed, args.coarse_sleep)
    results, postgres_note = await harness.on_each_engine(
        args,
        lambda engine, url: run_engine(engine, url, *plan),
        f"{args.recipients} recipients at speed {args.speed:g}",
        postgres="postgresql",
    )

    print(
        f"one broadcast through the real delivery queue and sender against a fake Bot API "
        f"that answers 429 beyond {TELEGRAM_PER_SECOND} messages/s and 1/s per chat; "
        f"time x{args.speed:g}{' (coarse sleeps)' if args.coarse_sleep else ''}; "
        f"{args.workers} members doing the submission dialog, "
        f"a step every {args.think:g} virtual s on average"
    )
    for r in results:
        print("\n".join(describe(r)))
    out = figures(results[0])
    if len(results) > 1:
        out["postgresql"] = figures(results[1])
    else:
        out["postgresql_unavailable"] = (postgres_note or "")[:200]
    ok = all(r.duplicates == 0 and r.missed == 0 for r in results)
    if not args.no_paid:  # the paid pace (benchmarks.broadcast_paid): its keys added
        from benchmarks.broadcast_paid import paid_mode

        ok = await paid_mode(args, out) and ok
    out["ok"] = ok
    return harness.figures_line(out, ok, "a recipient was missed or got the broadcast twice")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.broadcast", __doc__, f"{QUICK_RECIPIENTS} recipients: well under a minute"
    )
    parser.add_argument(
        "--recipients",
        type=int,
        default=None,
        help=f"members the broadcast goes to (default {DEFAULT_RECIPIENTS}, "
        f"{QUICK_RECIPIENTS} with --quick)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"virtual seconds per real second (default {DEFAULT_SPEED:g})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"members doing the submission dialog meanwhile (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=DEFAULT_THINK,
        help=f"virtual seconds between a member's steps (default {DEFAULT_THINK:g})",
    )
    parser.add_argument("--seed", type=int, default=1, help="for the members' pauses (default 1)")
    parser.add_argument(
        "--coarse-sleep",
        action="store_true",
        help="virtual sleeps on asyncio's timer alone (late by up to ~1 ms real, S ms virtual)",
    )
    weekly.add_arguments(parser)
    parser.add_argument(
        "--paid",
        action="store_true",
        help="only the paid mode: 1.000/s (benchmarks.broadcast_paid)",
    )
    parser.add_argument("--no-paid", action="store_true", help="without the paid mode")
    args = parser.parse_args(argv)
    if args.paid:
        from benchmarks.broadcast_paid import paid_only

        return harness.run(paid_only, args)
    if args.weekly:
        return harness.run(weekly.main_async, args)
    if args.recipients is None:
        args.recipients = QUICK_RECIPIENTS if args.quick else DEFAULT_RECIPIENTS
    if args.recipients < 2:
        parser.error("--recipients must be at least 2")
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if args.workers < 0:
        parser.error("--workers must not be negative")
    if args.think < 2 * PER_CHAT_SECONDS:
        # The shortest pause is half of it, and a chat takes one message a second.
        parser.error(f"--think must be at least {2 * PER_CHAT_SECONDS:g}")
    return harness.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
