"""Paid mode of ``python -m benchmarks.broadcast``: one announcement at Telegram's paid pace.

Per engine, on a fresh database: N members (``--quick``: 10.000, else 100.000), one
announcement to all of them through the real bot with ``PAID_BROADCAST=1`` at
``PAID_BROADCAST_RATE=1000`` (the real ``handlers.telegram.paid.PaidBroadcasts``, its
Stars balance read from the fake: ample), in real time. The fake Bot API, in this process
at the ``BaseRequest`` boundary, refuses (429, retry after 1) a bulk message beyond 1.000
in any sliding second, beyond 30 in any second without ``allow_paid_broadcast``, and any
message beyond one a second to one chat. Five members do the submission dialog meanwhile,
a step every 2 s or so; their replies are no bulk messages, and their latency (putting the
update on the queue to the update processor finishing it) is measured.

Figures: the broadcast's rate from its first delivery to its last as a fraction of 1.000
a second, 429 answers, recipients served twice or never, the dialog's p99.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from dataclasses import dataclass
from typing import Any, cast

from telegram.request import RequestData

from benchmarks import harness
from benchmarks.broadcast import (
    RECIPIENT_BASE,
    TEXT,
    Dialogs,
    add_recipients,
    member_worker,
    wait_finished,
    warm_up,
)
from benchmarks.harness import MEASURED_BASE, fresh_database, percentile_ms, real_bot, rounded
from benchmarks.virtual_time import (
    PER_CHAT_SECONDS,
    TELEGRAM_PER_SECOND,
    LimitedFakeBotApi,
    VirtualClock,
)
from handlers.telegram.fake import SENDING, TOO_MANY, SendLimits, answer_body, parameters_of

PAID_PER_SECOND = 1000
RECIPIENTS = 100_000
QUICK_RECIPIENTS = 10_000
WORKERS = 5
THINK = 2.0  # seconds between a member's steps, on average
# Ample for any run: 10 messages a Star.
BALANCE = answer_body({"amount": 1_000_000, "nanostar_amount": 0})


class PaidFakeBotApi(LimitedFakeBotApi):
    """Telegram's limits with paid broadcasts: 1.000 bulk messages a second in all, 30 of
    them without ``allow_paid_broadcast``; replies only at one a second per chat."""

    def __init__(self) -> None:
        super().__init__(VirtualClock(1.0), TEXT)
        self.limits = SendLimits(TELEGRAM_PER_SECOND, PER_CHAT_SECONDS, PAID_PER_SECOND)
        self.paid = 0

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Refuse beyond the limits, count the broadcast, answer the Stars balance."""
        if name == "getMyStarBalance":
            return 200, BALANCE
        if name not in SENDING or request_data is None:
            return await super(LimitedFakeBotApi, self).answer(name, request_data)
        params = parameters_of(request_data)
        chat_id = int(cast(int, params["chat_id"]))
        bulk = params.get("text") == self.broadcast_text
        paid = bool(params.get("allow_paid_broadcast"))
        now = time.monotonic()
        refusal = self.limits.refusal(chat_id, now, bulk, paid) if self.enforce else None
        if refusal is not None:
            self._refused(bulk, f"at {now:.3f} s: {refusal}")
            return 429, TOO_MANY
        self.limits.record(chat_id, now, bulk, paid)
        if bulk:
            self.paid += paid
            self.received[chat_id] += 1
            self.deliveries.append(now)
            if len(self.received) >= self.expected:
                self.all_received.set()
        else:
            self.interactive.append(now)
        return await super(LimitedFakeBotApi, self).answer(name, request_data)


@dataclass
class PaidResult:
    """One engine's paid run."""

    engine: str
    recipients: int
    elapsed_s: float
    cpu_s: float  # the process's CPU time meanwhile (the bot and the fake together)
    rate: float
    paid: int
    http_429: int
    refusals: list[str]
    duplicates: int
    missed: int
    dialogs: Dialogs
    errors: list[str]


async def run_paid(engine_name: str, postgres_url: str, recipients: int) -> PaidResult:
    """A fresh database, N recipients, one paid announcement, dialogs alongside."""
    async with fresh_database(engine_name, postgres_url) as url:
        member_ids = await add_recipients(url, recipients)
        api = PaidFakeBotApi()
        api.expected = recipients
        dialogs, stop = Dialogs(), asyncio.Event()
        settings: dict[str, Any] = {"paid_broadcast": True, "paid_broadcast_rate": 1000.0,
                                    "paid_broadcast_daily_stars": 1_000_000}  # fmt: skip
        async with real_bot(url, api, **settings) as driver:
            await warm_up(driver, api)
            errors_before = len(driver.errors)
            gc.collect()
            deliveries = driver.application.bot_data.deliveries
            started, cpu = time.perf_counter(), time.process_time()
            broadcast_id = await deliveries.broadcast("announce", TEXT, member_ids, None)
            assert broadcast_id is not None
            driver.application.bot_data.sender.wake()
            ids = itertools.count(MEASURED_BASE)
            workers = [asyncio.create_task(member_worker(i, THINK, 1, driver, api.clock, ids,
                                                         stop, dialogs))
                       for i in range(WORKERS)]  # fmt: skip
            try:
                timeout = 5 * recipients / PAID_PER_SECOND + 60
                await wait_finished(deliveries, api, broadcast_id, engine_name, timeout)
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu
            finally:
                stop.set()
                await asyncio.gather(*workers)
        errors = [repr(e) for e in driver.errors[errors_before:]] + api.notices
    times = api.deliveries
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    missed = sum(1 for i in range(recipients) if RECIPIENT_BASE + i not in api.received)
    return PaidResult(
        engine_name, recipients, elapsed, cpu, (len(times) - 1) / span if span else 0.0, api.paid,
        api.http_429, api.refusals, sum(1 for n in api.received.values() if n > 1), missed,
        dialogs, errors,
    )  # fmt: skip


def paid_figures(r: PaidResult) -> dict[str, Any]:
    """The JSON keys of one engine's paid run."""
    return {
        "paid_rate_fraction": round(r.rate / PAID_PER_SECOND, 4),
        "paid_http_429": r.http_429,
        "paid_duplicates": r.duplicates,
        "paid_missed": r.missed,
        "paid_dialog_p99_ms": rounded(percentile_ms(r.dialogs.latencies, 99), 2),
        "paid_recipients": r.recipients,
        "paid_messages_per_s": round(r.rate, 1),
        "paid_sent_paid": r.paid,
        "paid_elapsed_s": round(r.elapsed_s, 1),
        "paid_cpu_fraction": round(r.cpu_s / r.elapsed_s, 3) if r.elapsed_s else None,
        "paid_dialog_updates": len(r.dialogs.latencies),
        "paid_dialog_p50_ms": rounded(percentile_ms(r.dialogs.latencies, 50), 2),
        "paid_bot_errors": len(r.errors),
    }


def describe_paid(r: PaidResult) -> list[str]:
    """Human-readable lines for one engine's paid run."""
    f = paid_figures(r)
    lines = [
        f"== paid, {r.engine}: {r.recipients} recipients in {f['paid_elapsed_s']} s: "
        f"{f['paid_messages_per_s']}/s = {f['paid_rate_fraction']:.3f} of "
        f"{PAID_PER_SECOND}/s ({r.paid} paid); 429s {r.http_429}, duplicates "
        f"{r.duplicates}, missed {r.missed}; the process used {f['paid_cpu_fraction']} of "
        f"one core (the bot and the fake Bot API together)",
        f"  dialogs meanwhile: {f['paid_dialog_updates']} updates, p50 "
        f"{f['paid_dialog_p50_ms']} ms, p99 {f['paid_dialog_p99_ms']} ms, "
        f"{len(r.dialogs.failed)} failed",
    ]
    lines += [f"  ! 429: {note}" for note in r.refusals]
    lines += [f"  ! dialog: {note[:200]}" for note in r.dialogs.failed[:3]]
    lines += [f"  ! bot: {note[:200]}" for note in r.errors[:3]]
    return lines


async def paid_mode(args: Any, out: dict[str, Any]) -> bool:
    """Run the paid mode on each engine, print it, add its keys to ``out`` (SQLite's at the
    top, PostgreSQL's under ``postgresql``); whether no one was missed or served twice."""
    recipients = QUICK_RECIPIENTS if args.quick else RECIPIENTS
    results, _note = await harness.on_each_engine(
        args, lambda engine, url: run_paid(engine, url, recipients),
        f"paid mode, {recipients} recipients", postgres="postgresql",
    )  # fmt: skip
    for r in results:
        print("\n".join(describe_paid(r)))
    out.update(paid_figures(results[0]))
    if len(results) > 1:
        out.setdefault("postgresql", {}).update(paid_figures(results[1]))
    return all(r.duplicates == 0 and r.missed == 0 for r in results)


async def paid_only(args: Any) -> int:
    """``--paid``: the paid mode alone, its JSON line; 0 when no one was missed or served
    twice."""
    out: dict[str, Any] = {}
    ok = await paid_mode(args, out)
    out["ok"] = ok
    return harness.figures_line(out, ok, "a recipient was missed or got the broadcast twice")
