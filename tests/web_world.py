"""The bot with its staff web view on, and a browser-like client signed in through it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from tests.fakebotapi import Harness, Member

Client = TestClient[web.Request, web.Application]
# Plain http in tests: a Secure cookie would never come back over it.
PUBLIC_URL = "http://bot.test"
LINK = re.compile(r"https?://[^/\s]+(/web/login/[A-Za-z0-9_-]+)")


@asynccontextmanager
async def web_client(bot: Harness) -> AsyncIterator[Client]:
    """A client of the bot's HTTP side, as a browser: it keeps cookies."""
    client: Client = TestClient(TestServer(bot.runtime.http_side(False)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def login_link(admin: Member) -> str:
    """The path of the one-time link /web sends the admin in chat."""
    await admin.say("/web")
    found = LINK.search(admin.last().text)
    assert found, admin.transcript()
    return found.group(1)


async def sign_in(client: Client, admin: Member) -> ClientResponse:
    """Open the link /web sends, and press the button on it."""
    path = await login_link(admin)
    page = await client.get(path)
    assert page.status == 200
    return await client.post(path, allow_redirects=False)


def csrf_of(html: str) -> str:
    """The CSRF token the page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
