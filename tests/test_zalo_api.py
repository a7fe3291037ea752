"""The Zalo client against the fake Zalo Bot API, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handlers.zalo.api import (
    SECRET_HEADER,
    TEXT_LIMIT,
    ZaloApi,
    ZaloError,
    ZaloEvent,
    ZaloForbidden,
    ZaloNetworkError,
    ZaloRateLimited,
    ZaloUnauthorized,
    parse_event,
)
from handlers.zalo.fake import FakeZaloApi, event, webhook_request

WRONG_TOKEN = "1459232241454765289:not-the-real-secret-0000000000000000000"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloApi]:
    async with FakeZaloApi() as server:
        yield server


@pytest.fixture
async def api(fake: FakeZaloApi) -> AsyncIterator[ZaloApi]:
    async with ZaloApi(fake.token, fake.base_url, timeout=5.0) as client:
        yield client


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def methods(fake: FakeZaloApi) -> list[str]:
    return [call.method for call in fake.calls]


# -- calls -------------------------------------------------------------------------


async def test_get_me_names_the_bot(fake: FakeZaloApi, api: ZaloApi) -> None:
    bot = await api.get_me()
    assert bot.id == fake.bot_id == "1459232241454765289"
    assert bot.name == "bot.sangkien"
    assert bot.account_type == "BASIC"
    assert fake.calls[-1].error_code is None


async def test_a_polled_text_event_is_parsed(fake: FakeZaloApi, api: ZaloApi) -> None:
    sent = fake.say("u-1", "Xin chào công đoàn", display_name="Nguyễn Văn An")
    got = await api.get_updates(2)
    assert got is not None
    assert got.event_name == "message.text.received"
    assert got.text == "Xin chào công đoàn"
    assert got.message_id == sent["message"]["message_id"]
    assert (got.sender_id, got.sender_name, got.sender_is_bot) == ("u-1", "Nguyễn Văn An", False)
    assert (got.chat_id, got.chat_type, got.is_private) == ("u-1", "PRIVATE", True)
    assert got.date.tzinfo is not None
    assert abs(got.date - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert fake.pending == 0
    # The documented type of getUpdates' timeout is a string.
    assert fake.calls[-1].params == {"timeout": "2"}


async def test_a_long_poll_returns_as_soon_as_an_event_arrives(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, fake.send_image, "u-2", "https://zalo.example/p.jpg", "máy cắt")
    started = loop.time()
    got = await api.get_updates(10)
    assert loop.time() - started < 5
    assert got is not None
    assert (got.event_name, got.photo_url, got.caption) == (
        "message.image.received",
        "https://zalo.example/p.jpg",
        "máy cắt",
    )


async def test_other_events_are_parsed(fake: FakeZaloApi, api: ZaloApi) -> None:
    fake.send_sticker("u-3", "abc123")
    fake.send_voice("u-3", "https://zalo.example/v.aac")
    fake.unsupported("u-4")
    sticker, voice, unsupported = [await api.get_updates(1) for _ in range(3)]
    assert sticker is not None and sticker.sticker == "abc123" and sticker.text is None
    assert voice is not None and voice.voice_url == "https://zalo.example/v.aac"
    assert unsupported is not None and unsupported.event_name == "message.unsupported.received"


async def test_nothing_new_is_none_not_an_error(fake: FakeZaloApi, api: ZaloApi) -> None:
    assert await api.get_updates(0) is None
    assert await api.get_updates(1) is None
    assert [call.error_code for call in fake.calls] == [408, 408]


async def test_stopping_the_fake_answers_a_pending_long_poll() -> None:
    fake = FakeZaloApi()
    await fake.start()
    async with ZaloApi(fake.token, fake.base_url) as api:
        polling = asyncio.create_task(api.get_updates(30))
        await asyncio.sleep(0.1)
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(fake.stop(), 5)
        assert await asyncio.wait_for(polling, 5) is None
        assert asyncio.get_running_loop().time() - started < 5


async def test_the_same_message_id_can_be_delivered_again(fake: FakeZaloApi, api: ZaloApi) -> None:
    first = fake.say("u-5", "1")
    fake.say("u-5", "1", message_id=first["message"]["message_id"])
    one, two = await api.get_updates(1), await api.get_updates(1)
    assert one is not None and two is not None
    assert one.message_id == two.message_id
    assert fake.say("u-5", "2")["message"]["message_id"] != one.message_id


async def test_sent_messages_are_recorded_per_chat(fake: FakeZaloApi, api: ZaloApi) -> None:
    first = await api.send_message("u-6", "Một")
    await api.send_chat_action("u-6")
    await api.send_photo("u-6", "https://bot.example/img/abc.png", "Bằng khen")
    await api.send_message("u-7", "Hai")
    assert isinstance(first, str) and first
    assert fake.texts("u-6") == ["Một"]
    assert [sent.method for sent in fake.sent("u-6")] == [
        "sendMessage",
        "sendChatAction",
        "sendPhoto",
    ]
    assert fake.photos("u-6")[0].caption == "Bằng khen"
    assert len(await fake.wait_for_messages("u-6", 2, timeout=1)) == 2
    assert fake.texts("u-7") == ["Hai"]


async def test_waiting_for_messages_wakes_on_arrival_and_fails_on_timeout(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    waiting = asyncio.create_task(fake.wait_for_messages("u-8", 2, timeout=5))
    await api.send_message("u-8", "a")
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await api.send_message("u-8", "b")
    assert [sent.text for sent in await waiting] == ["a", "b"]
    with pytest.raises(AssertionError, match="got 2 of 3"):
        await fake.wait_for_messages("u-8", 3, timeout=0.1)


# -- refusals ----------------------------------------------------------------------


async def test_a_wrong_token_raises_unauthorized(fake: FakeZaloApi) -> None:
    async with ZaloApi(WRONG_TOKEN, fake.base_url) as wrong:
        with pytest.raises(ZaloUnauthorized) as raised:
            await wrong.get_me()
        with pytest.raises(ZaloUnauthorized):
            await wrong.get_updates(0)
    assert raised.value.error_code == 401
    assert fake.sent("u-1") == []


async def test_quota_exceeded_raises_rate_limited(fake: FakeZaloApi, api: ZaloApi) -> None:
    fake.rate_limit(2)
    await api.send_message("u-1", "a")
    await api.send_message("u-1", "b")
    with pytest.raises(ZaloRateLimited) as raised:
        await api.send_message("u-1", "c")
    assert (raised.value.error_code, raised.value.description) == (429, "Quota exceeded")
    assert fake.texts("u-1") == ["a", "b"]
    fake.rate_limit(None)
    await api.send_message("u-1", "c")
    fake.fail_next("sendPhoto", 429)
    with pytest.raises(ZaloRateLimited):
        await api.send_photo("u-1", "https://bot.example/a.png")


async def test_a_403_raises_forbidden_for_that_chat_only(fake: FakeZaloApi, api: ZaloApi) -> None:
    fake.fail_next("sendMessage", 403, chat_id="blocked")
    await api.send_message("other", "vẫn tới")
    with pytest.raises(ZaloForbidden) as raised:
        await api.send_message("blocked", "không tới")
    assert raised.value.error_code == 403 and raised.value.method == "sendMessage"
    await api.send_message("blocked", "lần sau thì tới")
    assert fake.texts("blocked") == ["lần sau thì tới"]
    assert fake.texts("other") == ["vẫn tới"]


async def test_other_refusals_are_plain_zalo_errors(fake: FakeZaloApi, api: ZaloApi) -> None:
    fake.fail_next("sendChatAction", 404)
    with pytest.raises(ZaloError) as raised:
        await api.send_chat_action("u-1")
    assert type(raised.value) is ZaloError and raised.value.error_code == 404


@pytest.mark.parametrize("text", ["", "   \n", "x" * (TEXT_LIMIT + 1)])
async def test_a_text_the_platform_would_refuse_is_not_sent(
    fake: FakeZaloApi, api: ZaloApi, text: str
) -> None:
    with pytest.raises(ValueError):
        await api.send_message("u-1", text)
    with pytest.raises(ValueError):
        await api.send_photo("u-1", "https://bot.example/a.png", "x" * (TEXT_LIMIT + 1))
    assert fake.calls == []


async def test_the_fake_refuses_texts_outside_the_limit(fake: FakeZaloApi, api: ZaloApi) -> None:
    await api.send_message("u-1", "x" * TEXT_LIMIT)
    for text in ("", "x" * (TEXT_LIMIT + 1)):
        with pytest.raises(ZaloError) as raised:
            await api.call("sendMessage", {"chat_id": "u-1", "text": text})
        assert raised.value.error_code == 400
    with pytest.raises(ZaloError):
        await api.call("sendPhoto", {"chat_id": "u-1", "photo": "not a url"})
    assert fake.texts("u-1") == ["x" * TEXT_LIMIT]


# -- the webhook -------------------------------------------------------------------


async def test_webhook_state_and_getupdates_while_it_is_set(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    with pytest.raises(ValueError):
        await api.set_webhook("https://bot.example/zalo", "short")
    with pytest.raises(ZaloError):
        await api.set_webhook("http://bot.example/zalo", "long-enough-secret")
    set_ = await api.set_webhook("https://bot.example/zalo", "long-enough-secret")
    assert set_["url"] == "https://bot.example/zalo"
    assert (await api.get_webhook_info())["url"] == "https://bot.example/zalo"
    fake.say("u-1", "chờ")
    assert await api.get_updates(0) is None
    assert fake.polls_while_webhook == 1 and fake.pending == 1
    await api.delete_webhook()
    assert (await api.get_webhook_info())["url"] == ""
    got = await api.get_updates(1)
    assert got is not None and got.text == "chờ"


async def test_webhook_post_delivers_an_event_the_way_zalo_does(fake: FakeZaloApi) -> None:
    received: list[tuple[str | None, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(SECRET_HEADER), await request.json()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/zalo", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = closed_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        fake.webhook_secret = "registered-secret"
        sent = event("message.text.received", "u-9", text="duyet SK-000123")
        url = f"http://127.0.0.1:{port}/zalo"
        delivery = await fake.webhook_post(url, sent)
        await fake.webhook_post(url, sent, "wrong-secret", wrapped=False)
        await fake.webhook_post(url, sent, send_secret=False)
    finally:
        await runner.cleanup()
    assert (delivery.status, delivery.body) == (200, "ok")
    assert [header for header, _ in received] == ["registered-secret", "wrong-secret", None]
    assert received[0][1] == {"ok": True, "result": sent}
    assert received[1][1] == sent
    parsed = [parse_event(body) for _, body in received]
    assert parsed[0] == parsed[1] and parsed[0] is not None and parsed[0].text == "duyet SK-000123"


def test_webhook_request_carries_the_secret_header() -> None:
    body, headers = webhook_request(event("message.sticker.received", "u"), "s3cret-token")
    assert headers[SECRET_HEADER] == "s3cret-token"
    assert json.loads(body)["result"]["event_name"] == "message.sticker.received"
    assert SECRET_HEADER not in webhook_request({}, None)[1]


# -- secrets -----------------------------------------------------------------------


async def test_the_token_never_reaches_a_log_record_or_an_error(
    fake: FakeZaloApi, api: ZaloApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[Exception] = []
    await api.get_me()
    await api.send_message("u-1", "chào")
    fake.push({"event_name": "message.text.received"})
    assert await api.get_updates(0) is None
    fake.fail_next("sendMessage", 403, f"refused for {fake.token}")
    wrong = ZaloApi(WRONG_TOKEN, fake.base_url)
    unreachable = ZaloApi(fake.token, f"http://127.0.0.1:{closed_port()}")
    for failing in (api.send_message("u-1", "x"), wrong.get_me(), unreachable.get_me()):
        try:
            await failing
        except (ZaloError, ZaloNetworkError) as error:
            errors.append(error)
    await wrong.close()
    await unreachable.close()
    assert len(errors) == 3
    records = [record.getMessage() for record in caplog.records]
    assert any("bot1459232241454765289:***/getMe" in line for line in records)
    for secret in (fake.token.partition(":")[2], WRONG_TOKEN.partition(":")[2]):
        assert all(secret not in line for line in records)
        assert all(secret not in str(error) for error in errors)
        assert secret not in caplog.text


# -- the network -------------------------------------------------------------------


async def test_a_closed_port_raises_a_network_error() -> None:
    async with ZaloApi("1:secret-part", f"http://127.0.0.1:{closed_port()}") as api:
        with pytest.raises(ZaloNetworkError) as raised:
            await api.send_message("u-1", "không tới")
    assert raised.value.method == "sendMessage"


async def test_a_server_that_never_answers_raises_a_network_error() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ZaloApi("1:secret-part", f"http://127.0.0.1:{port}", timeout=0.2) as api:
            with pytest.raises(ZaloNetworkError):
                await api.get_me()
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert held


async def test_an_answer_that_is_not_the_envelope() -> None:
    async def gateway(request: web.Request) -> web.Response:
        status = 502 if request.match_info["method"] == "getMe" else 404
        return web.Response(status=status, text="<html>nginx</html>")

    app = web.Application()
    app.router.add_route("*", "/{bot}/{method}", gateway)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = closed_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with ZaloApi("1:secret-part", f"http://127.0.0.1:{port}") as api:
            with pytest.raises(ZaloNetworkError):
                await api.get_me()
            with pytest.raises(ZaloError) as raised:
                await api.send_message("u", "x")
    finally:
        await runner.cleanup()
    assert raised.value.error_code == 404


async def test_a_given_session_is_left_open() -> None:
    async with FakeZaloApi() as fake:
        async with aiohttp.ClientSession() as session:
            api = ZaloApi(fake.token, fake.base_url, session=session)
            await api.get_me()
            await api.close()
            assert not session.closed
            await api.get_me()


# -- parsing -----------------------------------------------------------------------


def good() -> dict[str, Any]:
    return event("message.text.received", "u-1", text="xin chào", message_id="m1", date=0)


def broken(change: str) -> object:
    """A good event with one thing wrong."""
    data: Any = good()
    message = data["message"]
    changes: dict[str, Any] = {
        "no event_name": lambda: data.pop("event_name"),
        "unknown event_name": lambda: data.update(event_name="user.follow"),
        "no message": lambda: data.pop("message"),
        "message a list": lambda: data.update(message=[message]),
        "message_id a number": lambda: message.update(message_id=123),
        "message_id empty": lambda: message.update(message_id=""),
        "no date": lambda: message.pop("date"),
        "date a string": lambda: message.update(date="1750316131602"),
        "date true": lambda: message.update(date=True),
        "date negative": lambda: message.update(date=-1),
        "date beyond any calendar": lambda: message.update(date=10**30),
        "no from": lambda: message.pop("from"),
        "sender id a number": lambda: message["from"].update(id=42),
        "is_bot a string": lambda: message["from"].update(is_bot="no"),
        "display_name a number": lambda: message["from"].update(display_name=1),
        "no chat": lambda: message.pop("chat"),
        "chat id missing": lambda: message["chat"].pop("id"),
        "chat_type unknown": lambda: message["chat"].update(chat_type="CHANNEL"),
        "text event without text": lambda: message.pop("text"),
        "text a list": lambda: message.update(text=["x"]),
        "photo a dict": lambda: message.update(photo={"url": "x"}),
    }
    changes[change]()
    return data


MALFORMED = [
    "no event_name",
    "unknown event_name",
    "no message",
    "message a list",
    "message_id a number",
    "message_id empty",
    "no date",
    "date a string",
    "date true",
    "date negative",
    "date beyond any calendar",
    "no from",
    "sender id a number",
    "is_bot a string",
    "display_name a number",
    "no chat",
    "chat id missing",
    "chat_type unknown",
    "text event without text",
    "text a list",
    "photo a dict",
]


@pytest.mark.parametrize("change", MALFORMED)
def test_a_malformed_event_is_refused(change: str) -> None:
    assert parse_event(good()) is not None
    assert parse_event(broken(change)) is None


@pytest.mark.parametrize(
    "data", [None, 1, "event", [], [good()], {"ok": True}, {"ok": True, "result": [good()]}]
)
def test_what_is_not_an_event_is_refused(data: object) -> None:
    assert parse_event(data) is None


def test_an_event_parses_bare_and_in_its_envelope() -> None:
    bare = parse_event(good())
    assert isinstance(bare, ZaloEvent)
    assert bare == parse_event({"ok": True, "result": good()})
    assert bare.date == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


async def test_a_malformed_polled_event_is_none_and_the_next_one_comes(
    fake: FakeZaloApi, api: ZaloApi, caplog: pytest.LogCaptureFixture
) -> None:
    fake.push(broken("no chat"))
    fake.push("not even an object")
    fake.say("u-1", "sau đó")
    assert await api.get_updates(1) is None
    assert await api.get_updates(1) is None
    got = await api.get_updates(1)
    assert got is not None and got.text == "sau đó"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("xin chào" not in line for line in warnings)
