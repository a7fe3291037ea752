"""A bot on a Zalo token alone: ``python -m bot run`` (and ``--webhook``) with no Telegram
at all, against the fake Zalo Bot API over HTTP: joining, submitting, the review card
through the delivery queue, health and metrics, the scheduled jobs, the Zalo pace."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.jobs import Job, Jobs
from bot.runtime import Runtime
from bot.serve import build_runtime, serve
from bot.settings import Settings
from bot.zalo import ZaloSide
from domain.model import InitiativeStatus, Member
from handlers.zalo.api import TEXT_RECEIVED
from handlers.zalo.fake import FakeZaloApi, event
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import Clock, seed_units
from tests.scenario import MAY10
from tests.test_webhook import free_port, get
from tests.zalo_world import ZaloUser, status_of_first, submit_by_typing, zalo_admins

WORKER, ADMIN = "5550001", "5550999"
ZALO_URL = "https://bot.congdoan.example/zalo"
ZALO_SECRET = "zalo:Secret/42"


@dataclass
class Alone:
    """The bot running with only ZALO_BOT_TOKEN, and its HTTP side's address."""

    fake: FakeZaloApi
    runtime: Runtime
    base: str

    def user(self, user_id: str) -> ZaloUser:
        """Someone writing to the bot on Zalo."""
        side = self.runtime.channel("zalo")
        assert isinstance(side, ZaloSide)
        return ZaloUser(self.fake, side.channel, user_id)


async def until(condition: Any, what: str) -> None:
    """Wait until ``condition()`` holds (10 s at most)."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the fake records calls
            await asyncio.sleep(0.02)
    assert condition(), what


@asynccontextmanager
async def running_alone(
    database_url: str, clock: Clock, *, webhook: bool = False, **changes: Any
) -> AsyncIterator[Alone]:
    """``python -m bot run`` (``--webhook``) with a Zalo token and no Telegram token."""
    await seed_units(database_url)
    port = free_port()
    async with FakeZaloApi() as fake:
        settings = Settings(database_url=database_url, migrate_on_start=False,
                            zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url,
                            zalo_webhook_url=ZALO_URL, zalo_webhook_secret=ZALO_SECRET,
                            http_listen="127.0.0.1", http_port=port, job_lease_seconds=1.5,
                            **changes)  # fmt: skip
        assert not settings.telegram_bot_token
        if webhook:
            settings.check_webhook()  # what `run --webhook` asks first: Zalo's alone
        runtime = build_runtime(settings, clock=clock)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(runtime, webhook=webhook, stop=stop))
        # The fake records a call once answered; a long poll comes after deleteWebhook.
        receiving = "setWebhook" if webhook else "deleteWebhook"
        try:
            await until(lambda: task.done() or any(c.method == receiving for c in fake.calls),
                        f"Zalo's {receiving}")  # fmt: skip
            assert not task.done(), task.exception()
            yield Alone(fake, runtime, f"http://127.0.0.1:{port}")
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


@pytest.fixture
async def alone(database_url: str, clock: Clock) -> AsyncIterator[Alone]:
    """The bot polling Zalo, with no Telegram token."""
    async with running_alone(database_url, clock) as bot:
        yield bot


async def test_a_worker_submits_and_the_zalo_admin_decides(alone: Alone, database_url: str) -> None:
    assert [channel.name for channel in alone.runtime.channels] == ["zalo"]
    await zalo_admins(database_url, ADMIN)
    worker, admin = alone.user(WORKER), alone.user(ADMIN)
    answer = await submit_by_typing(worker)
    assert any("SK-000001" in text for text in answer), answer
    assert await status_of_first(database_url) is InitiativeStatus.PENDING
    # The card goes to the admin through the delivery queue, sent by Zalo's sender.
    (card,) = [sent.text for sent in await alone.fake.wait_for_messages(ADMIN, 1)]
    assert card is not None and "SK-000001" in card and "1. ✅ Duyệt" in card, card
    seen = len(worker.texts())
    answer = await admin.say("duyet SK-000001")
    assert any("Đã báo cho tác giả." in text for text in answer), answer
    await alone.fake.wait_for_messages(WORKER, seen + 1)
    assert "đã được duyệt" in worker.texts()[-1], worker.texts()[-1]
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED


async def test_health_and_metrics_name_zalo_alone(alone: Alone) -> None:
    await alone.user(WORKER).say("/help")
    status, text = await get(alone.base, "/healthz")
    report = json.loads(text)
    assert status == 200 and report["ok"], report
    assert report["zalo_api"] == {"ok": True, "detail": "reachable"}
    assert "telegram_api" not in report
    assert report["job_lease"]["detail"] == "held by this process"
    status, metrics = await get(alone.base, "/metrics")
    assert status == 200 and 'bot_updates_total{type="zalo"} 1.0' in metrics
    assert "bot_job_lease_held 1.0" in metrics


async def test_health_says_when_zalo_cannot_be_reached(alone: Alone) -> None:
    await get(alone.base, "/healthz")
    alone.runtime.health._ok_at.clear()  # the last good answer is long ago
    alone.fake.fail_next("getMe", 502, "Bad Gateway")
    status, text = await get(alone.base, "/healthz")
    assert status == 503
    assert json.loads(text)["zalo_api"]["ok"] is False


async def test_the_reminder_job_reaches_the_zalo_admin(
    alone: Alone, database_url: str, clock: Clock
) -> None:
    await zalo_admins(database_url, ADMIN)
    await submit_by_typing(alone.user(WORKER))
    await alone.fake.wait_for_messages(ADMIN, 1)  # the card
    clock.now += dt.timedelta(days=8)
    await alone.runtime.jobs.run("review_reminders")
    (_card, digest) = [sent.text or "" for sent in await alone.fake.wait_for_messages(ADMIN, 2)]
    assert "⏰" in digest and "Giá treo cuộn chỉ xoay" in digest, digest
    await alone.runtime.jobs.run("review_reminders")
    await asyncio.sleep(1.5)  # the sender looks at the queue every second
    assert len(alone.fake.texts(ADMIN)) == 2, "once a day, whatever reruns"


async def test_zalo_rate_paces_the_notifications(database_url: str, clock: Clock) -> None:
    async with running_alone(database_url, clock, zalo_rate=1.0) as bot:
        people = [f"55560{n}" for n in range(4)]
        ids = await zalo_members(database_url, people)
        started = time.monotonic()
        await bot.runtime.deliveries.broadcast("announce", "📣 Hạn nộp 30/12.", ids, None)
        for person in people:
            await bot.fake.wait_for_messages(person, 1, timeout=15)
        elapsed = time.monotonic() - started
    # At the default 5 a second they take well under 2 s (the queue looked at each second).
    assert elapsed >= 2.9, f"4 messages at 1 a second take 3 s at least, not {elapsed:.2f}"


async def zalo_members(database_url: str, user_ids: list[str]) -> list[int]:
    """Zalo users who wrote to the bot once, by member id."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        async with units_of_work() as uow:
            added = [await uow.members.add(Member(0, "zalo", user_id, "Lan", "vi"), now)
                     for user_id in user_ids]  # fmt: skip
            await uow.commit()
        return [member.id for member in added]
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_webhook_mode_with_zalo_alone(database_url: str, clock: Clock) -> None:
    async with running_alone(database_url, clock, webhook=True) as bot:
        registered = [c.params for c in bot.fake.calls if c.method == "setWebhook"]
        assert registered == [{"url": ZALO_URL, "secret_token": ZALO_SECRET}]
        posted = event(TEXT_RECEIVED, WORKER, text=f"/start {MAY10}", display_name="Lan")
        delivery = await bot.fake.webhook_post(f"{bot.base}/zalo", posted)
        assert delivery.status == 200
        assert any("1. " in text for text in bot.fake.texts(WORKER)), "answered before 200"
        wrong = await bot.fake.webhook_post(f"{bot.base}/zalo", posted, secret="not-it")
        assert wrong.status == 403
        status, _ = await get(bot.base, "/healthz")
        assert status == 200
    assert not any(c.method == "getUpdates" for c in bot.fake.calls), "no polling"


class FakeUpkeep:
    """The scheduled work, counted; forgetting fails as a lost database would."""

    def __init__(self) -> None:
        self.nudged = 0

    async def nudges_due(self) -> int:
        """One nudge queued."""
        self.nudged += 1
        return 1

    async def forget_handled_events(self, _age: dt.timedelta) -> int:
        """The database is gone."""
        raise RuntimeError("database gone")


async def on_the_clock(job: str, duty: list[bool]) -> tuple[FakeUpkeep, list[str], int]:
    """Run one job on its clock, time flying, while ``duty`` says whether the lease is
    held at each turn (then not); what it did, the errors reported, the wake-ups."""
    upkeep, errors, woken = FakeUpkeep(), [], []

    async def on_duty() -> bool:
        """The lease, held or not at this turn."""
        return duty.pop(0) if duty else False

    async def failed(where: str, error: BaseException) -> None:
        """An error reported."""
        errors.append(f"{where}: {error}")

    async def fast(_seconds: float) -> None:
        """Time flies."""
        await asyncio.sleep(0)

    jobs = Jobs(Settings(zalo_bot_token="1:x"), None, upkeep,  # type: ignore[arg-type]
                on_duty=on_duty, wake=lambda: woken.append(job), failed=failed,
                sleep=fast)  # fmt: skip
    jobs.schedule = {job: jobs.schedule[job]}
    jobs.start()
    await asyncio.sleep(0.05)
    await jobs.stop()
    return upkeep, errors, len(woken)


async def test_a_job_runs_on_its_clock_only_where_the_lease_is_held() -> None:
    upkeep, errors, woken = await on_the_clock("nudges", [True, False, False, True])
    assert upkeep.nudged == 2, "twice on duty, twice run; never off duty"
    assert woken == 2, "what it queued is sent for at once"
    assert errors == []


async def test_a_failing_job_is_reported_and_its_clock_goes_on() -> None:
    _upkeep, errors, _woken = await on_the_clock("forget_events", [True, True, True])
    assert errors == ["job forget_events: database gone"] * 3


def test_a_daily_job_is_due_at_its_time_in_the_unions_clock() -> None:
    async def nothing() -> None:
        """A job that does nothing."""

    hanoi = Settings(zalo_bot_token="1:x").timezone
    job = Job("daily", nothing, daily_at=dt.time(8, 0, tzinfo=hanoi))
    at_seven = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)  # 07:00 in Hà Nội
    assert job.next_after(at_seven) == dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    at_nine = at_seven + dt.timedelta(hours=2)
    assert job.next_after(at_nine) == dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)


def test_run_with_zalo_alone_says_when_zalo_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1459232241454765289:zalo-secret-part")
    monkeypatch.setenv("ZALO_API_BASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert "Cannot start: Cannot reach the Zalo Bot API at http://127.0.0.1:" in error
    assert "TELEGRAM" not in error
