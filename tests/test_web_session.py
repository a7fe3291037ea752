"""The session's cookie as each way in sets it: a browser's link keeps SameSite=Lax;
the Mini App inside Telegram Web (a frame of another site) gets SameSite=None, Secure and
Partitioned over https. Such a cookie goes along with cross-site requests, so every
state-changing request must carry the session's CSRF token: checked route by route."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from handlers.web.auth import PUBLIC
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import TOKEN, Harness
from tests.test_review import ADMIN_A, setup, submit
from tests.test_web_auth import fields, launch
from tests.web_world import PUBLIC_URL, csrf_of, login_link, sign_in, web_client

HTTPS = "https://bot.test"


def attributes(set_cookie: str) -> set[str]:
    """A Set-Cookie header's attributes after its value, lower case (a lifetime as
    "max-age", a deletion as "max-age=0")."""
    parts = [part.strip().lower() for part in set_cookie.split(";")[1:]]
    return {"max-age" if part.startswith("max-age=") and part != "max-age=0" else part
            for part in parts}  # fmt: skip


async def https_bot(start_bot: StartBot, database_url: str, url: str = HTTPS) -> Harness:
    """The bot serving its web view at ``url``."""
    await seed_units(database_url)
    return await start_bot(public_url=url)


async def test_a_mini_app_session_is_cross_site_over_https(
    start_bot: StartBot, database_url: str, clock: Clock
) -> None:
    bot = await https_bot(start_bot, database_url)
    _worker, a, _b, _upper = await setup(bot, database_url)
    async with web_client(bot) as client:
        opened = await client.post("/web/app/session", data={
            "init_data": launch(fields(ADMIN_A, at=clock.now), token=TOKEN)})  # fmt: skip
        assert opened.status == 200
        cookie = opened.headers["Set-Cookie"]
        assert attributes(cookie) >= {"httponly", "secure", "samesite=none", "partitioned",
                                      "path=/web", "max-age"}, cookie  # fmt: skip
        session = re.match(r"sk_web=([^;]+);", cookie)
        assert session, cookie
        # The test client speaks http, where a Secure cookie is never sent back: by hand.
        sent = {"Cookie": f"sk_web={session[1]}"}
        queue = await client.get("/web/queue", headers=sent)
        assert queue.status == 200
        out = await client.post("/web/logout", headers=sent,
                                data={"csrf": csrf_of(await queue.text())})  # fmt: skip
        cleared = [attributes(c) for c in out.headers.getall("Set-Cookie")]
        partitioned = {"max-age=0", "partitioned", "samesite=none"}
        assert any(partitioned <= c for c in cleared), "the partitioned cookie is cleared too"
        assert (await client.get("/web/queue", headers=sent)).status == 401
    async with web_client(bot) as client:
        signed = await client.post(await login_link(a), allow_redirects=False)
        cookie = signed.headers["Set-Cookie"]
        assert attributes(cookie) >= {"httponly", "secure", "samesite=lax"}, cookie
        assert "partitioned" not in attributes(cookie), "a browser's own session stays Lax"


async def test_over_plain_http_every_session_stays_lax(
    start_bot: StartBot, database_url: str, clock: Clock
) -> None:
    bot = await https_bot(start_bot, database_url, PUBLIC_URL)
    await setup(bot, database_url)
    async with web_client(bot) as client:
        opened = await client.post("/web/app/session", data={
            "init_data": launch(fields(ADMIN_A, at=clock.now), token=TOKEN)})  # fmt: skip
        cookie = attributes(opened.headers["Set-Cookie"])
        assert "samesite=lax" in cookie and not {"secure", "partitioned"} & cookie, cookie
        assert (await client.get("/web/queue")).status == 200


def post_routes(app: web.Application, prefix: str = "") -> list[tuple[str, str]]:
    """Every POST route of the application and its sub-applications: name and path."""
    found = []
    for resource in app.router.resources():
        info: dict[str, Any] = dict(resource.get_info())
        if "app" in info:
            found += post_routes(info["app"], prefix + info["prefix"])
            continue
        path = info.get("path") or info.get("formatter", "")
        for route in resource:
            if route.method == "POST":
                found.append((resource.name or "", prefix + re.sub(r"\{[^}]+\}", "1", path)))
    return found


async def test_every_post_needs_the_sessions_csrf_token(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await https_bot(start_bot, database_url, PUBLIC_URL)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    routes = [(name, path) for name, path in post_routes(bot.runtime.http_side(False))
              if path.startswith("/web/") and name not in PUBLIC]  # fmt: skip
    assert {name for name, _path in routes} >= {"decide", "logout", "stop"}, routes
    async with web_client(bot) as client:
        await sign_in(client, a)
        for name, path in routes:
            for form in ({}, {"csrf": "forged", "decision": "approve", "version": "1"}):
                refused = await client.post(path, data=form)
                assert refused.status == 403, (name, form)
        assert (await client.get("/web/queue")).status == 200, "still signed in"
        assert "SK-000001" in await (await client.get("/web/queue")).text(), "still waiting"
