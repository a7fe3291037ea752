"""Webhook mode: Telegram posts updates over HTTP with a secret header; health and metrics."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.serve import build_runtime, serve
from bot.settings import Settings
from bot.web import SECRET_HEADER
from tests.conftest import StartBot
from tests.fakebotapi import TOKEN, FakeBotApi, Harness

SECRET = "s3cret-Webhook_token-0123456789"
URL = "https://bot.congdoan.example/telegram/updates"


def start_with_id(update_id: str) -> bytes:
    """/start from member 4102, as Telegram would send it but for its ``update_id``."""
    message = {"message_id": 1, "date": 0, "chat": {"id": 4102, "type": "private"},
               "from": {"id": 4102, "is_bot": False, "first_name": "Minh"},
               "text": "/start HN-LB-MAY10",
               "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}  # fmt: skip
    return f'{{"update_id": {update_id}, "message": {json.dumps(message)}}}'.encode()


def web_settings(database_url: str, **changes: Any) -> Settings:
    return Settings(telegram_bot_token=TOKEN, database_url=database_url, migrate_on_start=False,
                    webhook_url=URL, webhook_secret=SECRET, **changes)  # fmt: skip


@pytest.fixture
async def site(start_bot: StartBot, database_url: str) -> AsyncIterator[tuple[Harness, str]]:
    """A bot with its HTTP side on a loopback port: (harness, base address)."""
    bot = await start_bot(webhook_url=URL, webhook_secret=SECRET)
    server = TestServer(bot.runtime.http_side(webhook=True))
    await server.start_server()
    try:
        yield bot, str(server.make_url("/")).rstrip("/")
    finally:
        await server.close()


async def post(base: str, body: bytes, secret: str | None = SECRET) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base}/telegram/updates", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def get(base: str, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}{path}") as response:
        return response.status, await response.text()


async def test_a_member_talks_to_the_bot_through_the_webhook(site: tuple[Harness, str]) -> None:
    bot, base = site
    worker = bot.member(4101, "Hoa")
    start = json.dumps(worker.text_update("/start HN-LB-MAY10")).encode()
    status, _ = await post(base, start)
    assert status == 200
    answers = bot.api.sent_to(worker.id)
    assert answers, "answered before the webhook request returned"
    assert "May 10" in answers[-1].text
    status, _ = await post(base, start)  # Telegram delivers it again
    assert status == 200
    assert len(bot.api.sent_to(worker.id)) == len(answers), "a redelivery is not answered twice"


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        (None, None, 403),
        ("wrong-secret-0123456789", None, 403),
        (SECRET, b"{not json", 400),
        (SECRET, b"[1, 2, 3]", 400),
        (SECRET, b'{"message": {"text": "no update id"}}', 400),
        (SECRET, b'{"update_id": 77, "message": "not a message"}', 400),
        (SECRET, b'{"update_id": 1, "pad": "' + b"x" * (2 << 20) + b'"}', 413),
        (SECRET, start_with_id("true"), 400),
        (SECRET, start_with_id('"5"'), 400),
        (SECRET, start_with_id("1" * 80), 400),
        (SECRET, start_with_id("-1"), 400),
        (SECRET, b'{"update_id": 5, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
    ],
    ids=["no secret", "wrong secret", "bad json", "not an object", "no id", "bad shape", "huge",
         "id true", "id text", "id too large", "id negative", "deeply nested"],
)  # fmt: skip
async def test_a_bad_request_is_refused_and_changes_nothing(
    site: tuple[Harness, str], secret: str | None, body: bytes | None, status: int
) -> None:
    bot, base = site
    worker = bot.member(4102, "Minh")
    update = body or json.dumps(worker.text_update("/start HN-LB-MAY10")).encode()
    handled = bot.application.update_processor.handled
    got, _ = await post(base, update, secret)
    assert got == status
    assert bot.application.update_processor.handled == handled, "nothing was handled"
    assert not bot.api.sent_to(worker.id)
    _, metrics = await get(base, "/metrics")
    assert "bot_webhook_rejected_total{" in metrics


async def test_an_update_of_a_kind_the_bot_does_not_know_is_accepted(
    site: tuple[Harness, str],
) -> None:
    bot, base = site
    unknown = {"update_id": 99_001, "business_weather": {"id": 1, "sunny": True}}
    status, _ = await post(base, json.dumps(unknown).encode())
    assert status == 200, "Telegram would otherwise deliver it again and again"
    assert not [c for c in bot.api.calls if c.method == "sendMessage"]


async def test_health_and_metrics(site: tuple[Harness, str]) -> None:
    bot, base = site
    worker = bot.member(4103, "Lan")
    await post(base, json.dumps(worker.text_update("/start HN-LB-MAY10")).encode())
    status, text = await get(base, "/healthz")
    report = json.loads(text)
    assert status == 200 and report["ok"], report
    assert report["schema"]["ok"] and report["telegram_api"]["ok"]
    assert "zalo_api" not in report, "only the channels that are on"
    assert report["job_lease"]["detail"] == "held by this process"
    status, metrics = await get(base, "/metrics")
    assert status == 200
    assert 'bot_updates_total{type="message"} 1.0' in metrics
    assert "bot_update_seconds_count 1.0" in metrics
    assert "bot_queue_depth 0.0" in metrics and "bot_pending_reviews 0.0" in metrics
    assert 'bot_messages_sent_total{kind="reply"}' in metrics


async def test_health_says_when_the_bot_api_cannot_be_reached(site: tuple[Harness, str]) -> None:
    bot, base = site
    bot.runtime.health._ok_at.clear()  # the last good answer is long ago

    async def down(*_args: Any, **_kwargs: Any) -> tuple[int, bytes]:
        return 502, b'{"ok": false, "error_code": 502, "description": "Bad Gateway"}'

    bot.api.do_request = down  # type: ignore[method-assign]
    status, text = await get(base, "/healthz")
    assert status == 503
    assert json.loads(text)["telegram_api"]["ok"] is False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_registers_the_webhook_and_serves_it(database_url: str) -> None:
    port = free_port()
    settings = web_settings(database_url, http_listen="127.0.0.1", http_port=port,
                            webhook_max_connections=12)  # fmt: skip
    api = FakeBotApi()
    stop = asyncio.Event()
    running = asyncio.create_task(
        serve(build_runtime(settings, request=api), webhook=True, stop=stop)
    )
    try:
        for _ in range(200):
            if any(c.method == "setWebhook" for c in api.calls):
                break
            await asyncio.sleep(0.02)
        registered = next(c for c in api.calls if c.method == "setWebhook")
        assert registered.params["url"] == URL
        assert registered.params["secret_token"] == SECRET
        assert registered.params["max_connections"] == 12
        assert set(registered.params["allowed_updates"]) == {
            "message", "callback_query", "my_chat_member", "channel_post"
        }  # fmt: skip
        update = {"update_id": 5_000_001, "message": {
            "message_id": 1, "date": 0, "text": "/help",
            "chat": {"id": 4104, "type": "private"},
            "from": {"id": 4104, "is_bot": False, "first_name": "Tú"}}}  # fmt: skip
        status, _ = await post(f"http://127.0.0.1:{port}", json.dumps(update).encode())
        assert status == 200
        assert [c for c in api.calls if c.method == "sendMessage"
                and c.params["chat_id"] == 4104], "the update was handled"  # fmt: skip
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
    assert not any(c.method == "getUpdates" for c in api.calls), "no polling in webhook mode"


async def test_polling_mode_serves_health_when_given_a_port(database_url: str) -> None:
    port = free_port()
    settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                        migrate_on_start=False, http_listen="127.0.0.1",
                        http_port=port)  # fmt: skip
    api = FakeBotApi()
    stop = asyncio.Event()
    running = asyncio.create_task(
        serve(build_runtime(settings, request=api), webhook=False, stop=stop)
    )
    try:
        for _ in range(200):
            if any(c.method == "getUpdates" for c in api.calls):
                break
            await asyncio.sleep(0.02)
        assert any(c.method == "deleteWebhook" for c in api.calls), "polling needs no webhook"
        status, text = await get(f"http://127.0.0.1:{port}", "/healthz")
        assert status == 200 and json.loads(text)["ok"]
        status, _ = await post(f"http://127.0.0.1:{port}", b"{}")
        assert status == 404, "no webhook route in polling mode"
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
