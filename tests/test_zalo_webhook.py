"""Zalo's webhook mode: the real bot in ``run --webhook`` with its Zalo channel on, the
fake Zalo Bot API posting events to the bot's HTTP server as the platform does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.preflight import StartError
from bot.serve import build_runtime, serve
from bot.settings import Settings
from handlers.zalo.api import SECRET_HEADER, TEXT_RECEIVED, parse_event
from handlers.zalo.fake import Delivery, FakeZaloApi, event
from handlers.zalo.webhook import MemberOrder
from tests.conftest import seed_units
from tests.fakebotapi import TOKEN, FakeBotApi
from tests.scenario import MAY10
from tests.test_webhook import free_port, get

TELEGRAM_URL = "https://bot.congdoan.example/telegram"
TELEGRAM_SECRET = "s3cret-Webhook_token-0123456789"
ZALO_URL = "https://bot.congdoan.example/zalo/events"
ZALO_SECRET = "zalo:Secret/42"
WORKER = "5550001"


@dataclass
class Running:
    """The bot serving in webhook mode, and the fake Zalo posting to it."""

    fake: FakeZaloApi
    telegram: FakeBotApi
    base: str

    @property
    def url(self) -> str:
        """Where Zalo's webhook is served on this machine."""
        return f"{self.base}/zalo/events"

    async def post(self, data: object, **options: Any) -> Delivery:
        return await self.fake.webhook_post(self.url, data, **options)

    async def raw(self, body: bytes, secret: str | None = ZALO_SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status


def settings_for(database_url: str, fake: FakeZaloApi, port: int) -> Settings:
    return Settings(
        telegram_bot_token=TOKEN, database_url=database_url, migrate_on_start=False,
        webhook_url=TELEGRAM_URL, webhook_secret=TELEGRAM_SECRET,
        zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url,
        zalo_webhook_url=ZALO_URL, zalo_webhook_secret=ZALO_SECRET,
        http_listen="127.0.0.1", http_port=port, job_lease_seconds=1.5,
    )  # fmt: skip


async def until(condition: Any, what: str) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the fake records calls
            await asyncio.sleep(0.02)
    assert condition(), what


@pytest.fixture
async def running(database_url: str) -> AsyncIterator[Running]:
    """``python -m bot run --webhook`` with Telegram and Zalo on, until the test ends."""
    await seed_units(database_url)
    port = free_port()
    async with FakeZaloApi() as fake:
        settings = settings_for(database_url, fake, port)
        telegram = FakeBotApi()
        stop = asyncio.Event()
        runtime = build_runtime(settings, request=telegram)
        task = asyncio.create_task(serve(runtime, webhook=True, stop=stop))
        try:
            await until(lambda: task.done() or fake.webhook_url, "the Zalo webhook is set")
            await until(
                lambda: task.done() or any(c.method == "setWebhook" for c in telegram.calls),
                "Telegram's webhook is set",
            )
            assert not task.done(), task.exception()
            yield Running(fake, telegram, f"http://127.0.0.1:{port}")
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


def text(message: str, message_id: str | None = None) -> dict[str, Any]:
    return event(TEXT_RECEIVED, WORKER, text=message, display_name="Lan", message_id=message_id)


async def test_the_webhook_is_registered_with_its_url_and_secret(running: Running) -> None:
    registered = [c for c in running.fake.calls if c.method == "setWebhook"]
    assert [c.params for c in registered] == [{"url": ZALO_URL, "secret_token": ZALO_SECRET}]
    assert running.fake.webhook_url == ZALO_URL
    assert not any(c.method in ("getUpdates", "deleteWebhook") for c in running.fake.calls)


async def test_a_text_is_answered_before_the_post_returns(running: Running) -> None:
    delivery = await running.post(text(f"/start {MAY10}"))
    assert delivery.status == 200
    answers = running.fake.texts(WORKER)
    assert answers and any("1. " in answer for answer in answers), answers
    # The bare event, as getUpdates gives it, is read too.
    delivery = await running.post(text("/help"), wrapped=False)
    assert delivery.status == 200
    assert len(running.fake.texts(WORKER)) > len(answers)


async def test_the_same_message_twice_is_answered_once(running: Running) -> None:
    first = await running.post(text(f"/start {MAY10}", message_id="zm-1"))
    seen = len(running.fake.texts(WORKER))
    again = await running.post(text(f"/start {MAY10}", message_id="zm-1"))
    assert (first.status, again.status) == (200, 200)
    assert seen and len(running.fake.texts(WORKER)) == seen


@pytest.mark.parametrize(
    ("body", "secret", "status"),
    [
        (b"{}", None, 403),
        (b"{}", "wrong-secret", 403),
        (b"{}", "", 403),
        (b"not json", ZALO_SECRET, 400),
        (b"[1, 2]", ZALO_SECRET, 400),
        (b'{"ok": true, "result": {"event_name": "message.text.received"}}', ZALO_SECRET, 400),
        (b"[" * 100_000 + b"]" * 100_000, ZALO_SECRET, 400),
        (b'{"x": "' + b"a" * (1 << 20) + b'"}', ZALO_SECRET, 413),
    ],
    ids=[
        "no secret",
        "wrong secret",
        "empty secret",
        "not json",
        "not an object",
        "not an event",
        "deeply nested",
        "huge",
    ],
)
async def test_a_bad_request_is_refused_and_changes_nothing(
    running: Running, body: bytes, secret: str | None, status: int
) -> None:
    assert await running.raw(body, secret) == status
    assert running.fake.chats() == []
    _, metrics = await get(running.base, "/metrics")
    assert "bot_webhook_rejected_total{" in metrics


async def test_a_real_event_without_the_right_secret_changes_nothing(running: Running) -> None:
    wrong = await running.post(text(f"/start {MAY10}"), secret="not-the-secret")
    missing = await running.post(text(f"/start {MAY10}"), send_secret=False)
    assert (wrong.status, missing.status) == (403, 403)
    assert running.fake.chats() == []
    # Nothing was stored: the same message, now with the secret, is still new.
    same = text(f"/start {MAY10}", message_id="zm-2")
    assert (await running.post(same, secret="nope")).status == 403
    assert (await running.post(same)).status == 200
    assert running.fake.texts(WORKER), "the first real delivery is answered"


async def test_health_and_metrics_count_zalo_events(running: Running) -> None:
    await running.post(text("/help"))
    status, report = await get(running.base, "/healthz")
    assert status == 200 and json.loads(report)["ok"]
    status, metrics = await get(running.base, "/metrics")
    assert status == 200
    assert 'bot_updates_total{type="zalo"} 1.0' in metrics


async def test_one_members_events_run_in_order_others_alongside() -> None:
    done: list[str] = []
    gates = {"a1": asyncio.Event(), "b1": asyncio.Event()}

    async def handle(zalo_event: Any) -> None:
        if zalo_event.message_id in gates:
            await gates[zalo_event.message_id].wait()
        done.append(zalo_event.message_id)

    order = MemberOrder(handle)

    def of(user: str, message_id: str) -> Any:
        parsed = parse_event(event(TEXT_RECEIVED, user, text="x", message_id=message_id))
        assert parsed is not None
        return parsed

    tasks = [asyncio.create_task(order(of(user, mid)))
             for user, mid in (("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1"))]  # fmt: skip
    await asyncio.sleep(0.05)
    assert done == ["c1"], "a2 waits for a1; c is not held back by a or b"
    gates["b1"].set()
    gates["a1"].set()
    await asyncio.gather(*tasks)
    assert done.index("a1") < done.index("a2")
    assert order.members_in_flight == 0


async def test_polling_deletes_a_registered_webhook_first(database_url: str) -> None:
    await seed_units(database_url)
    async with FakeZaloApi() as fake:
        fake.webhook_url, fake.webhook_secret = ZALO_URL, ZALO_SECRET  # left by webhook mode
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            migrate_on_start=False, zalo_bot_token=fake.token,
                            zalo_api_base_url=fake.base_url)  # fmt: skip
        stop = asyncio.Event()
        runtime = build_runtime(settings, request=FakeBotApi())
        task = asyncio.create_task(serve(runtime, webhook=False, stop=stop))
        try:
            fake.say(WORKER, f"/start {MAY10}")
            await fake.wait_for_messages(WORKER, 1, timeout=10)
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
        methods = [c.method for c in fake.calls]
        assert "deleteWebhook" in methods and "getUpdates" in methods
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        assert fake.webhook_url == "" and fake.polls_while_webhook == 0


async def test_stopping_leaves_the_webhook_registered(database_url: str) -> None:
    port = free_port()
    async with FakeZaloApi() as fake:
        settings = settings_for(database_url, fake, port)
        stop = asyncio.Event()
        runtime = build_runtime(settings, request=FakeBotApi())
        task = asyncio.create_task(serve(runtime, webhook=True, stop=stop))
        await until(lambda: task.done() or fake.webhook_url, "the Zalo webhook is set")
        stop.set()
        await asyncio.wait_for(task, 20)
        assert fake.webhook_url == ZALO_URL
        assert not any(c.method == "deleteWebhook" for c in fake.calls)


async def test_a_refused_webhook_stops_the_start_with_a_sentence(database_url: str) -> None:
    async with FakeZaloApi() as fake:
        settings = settings_for(database_url, fake, free_port())
        fake.fail_next("setWebhook", 400, "Bad request: url is not reachable")
        runtime = build_runtime(settings, request=FakeBotApi())
        with pytest.raises(StartError, match="Zalo refused the webhook ZALO_WEBHOOK_URL=https://"):
            await asyncio.wait_for(serve(runtime, webhook=True, stop=asyncio.Event()), 20)
        assert fake.webhook_url == ""
