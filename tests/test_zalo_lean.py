"""The benchmarks' lean HTTP server for the fake Zalo Bot API: the bot's client gets the
same answers through it as through the fake's own server."""

from __future__ import annotations

import pytest

from handlers.zalo.api import ZaloApi, ZaloUnauthorized
from handlers.zalo.fake import FakeZaloApi
from handlers.zalo.fake_lean import LeanServer


async def test_the_client_polls_and_sends_through_the_lean_server() -> None:
    async with FakeZaloApi() as fake, LeanServer(fake) as server:
        async with ZaloApi(fake.token, server.base_url) as api:
            assert (await api.get_me()).id == fake.bot_id
            assert await api.get_updates(0) is None, "408: nothing new"
            fake.say("u1", "xin chào")
            fake.say("u2", "chào bạn")
            first, second = await api.get_updates(1), await api.get_updates(1)
            assert first is not None and first.text == "xin chào" and first.sender_id == "u1"
            assert second is not None and second.sender_id == "u2"
            assert await api.send_message("u1", "Chào Lan 👋") is not None
    assert fake.texts("u1") == ["Chào Lan 👋"]


async def test_a_wrong_token_is_refused_through_the_lean_server() -> None:
    async with FakeZaloApi() as fake, LeanServer(fake) as server:
        async with ZaloApi("1:wrong-token", server.base_url) as api:
            with pytest.raises(ZaloUnauthorized):
                await api.get_me()
