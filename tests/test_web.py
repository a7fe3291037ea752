"""The staff web view over HTTP: signing in by the chat's link, the review queue and its
filters, a decision that updates the chat cards, and every refusal."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from bot.settings import UNION_TIMEZONE
from domain.erased import ERASED_CONTENT
from domain.model import InitiativeStatus
from locales import Translator
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import TOKEN, Harness
from tests.test_review import ADMIN_A, WORKER, decisions, edits, grant, notice, setup, submit
from tests.test_submission import load
from tests.test_web_auth import fields, launch
from tests.web_world import PUBLIC_URL, csrf_of, login_link, sign_in, web_client

PROVINCE_ADMIN = 9401


async def web_bot(start_bot: StartBot, database_url: str) -> Harness:
    """The bot with a public address, so it serves the web view."""
    await seed_units(database_url)
    return await start_bot(public_url=PUBLIC_URL)


async def test_sign_in_by_link_then_queue_and_full_initiative(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        assert (await client.get("/web/queue")).status == 401, "nobody is signed in yet"
        signed = await sign_in(client, a)
        assert signed.status == 303 and signed.headers["Location"] == "/web/queue"
        cookie = signed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie
        queue = await client.get("/web/queue")
        html = await queue.text()
        assert queue.status == 200
        assert "SK-000001" in html and "Giá treo cuộn chỉ xoay" in html
        assert "CĐCS Công ty May 10" in html and "Giải pháp kỹ thuật" in html
        # On a phone the headers are hidden: each cell says what it is.
        assert '<td data-label="Đơn vị">CĐCS Công ty May 10</td>' in html, html
        full = await (await client.get("/web/queue/1")).text()
        assert "Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút." in full
        assert "Trần Văn Bình" in full, "co-authors are listed"
        assert 'name="decision" value="approve"' in full


async def test_a_link_works_once_and_a_worker_gets_none(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    path = await login_link(a)
    async with web_client(bot) as client:
        assert (await client.post(path, allow_redirects=False)).status == 303
    async with web_client(bot) as other:
        again = await other.post(path, allow_redirects=False)
        assert again.status == 403 and "/web" in await again.text()
        forged = await other.post(path[:-3] + "abc", allow_redirects=False)
        assert forged.status == 403
        assert (await other.get("/web/queue")).status == 401
    await worker.say("/web")
    assert "/web/login/" not in worker.last().text, "only admins get a link"
    assert "quản trị" in worker.last().text or "admin" in worker.last().text


async def test_filters_narrow_the_queue(start_bot: StartBot, database_url: str) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)

        async def listed(query: str) -> bool:
            response = await client.get(f"/web/queue?{query}")
            assert response.status == 200, query
            return "SK-000001" in await response.text()

        assert await listed("kind=technical&field=production")
        assert not await listed("kind=management")
        assert not await listed("field=safety")
        assert not await listed("waited=7"), "submitted today: not waiting a week yet"
        assert await listed("kind=bogus&waited=x&page=-1"), "nonsense is ignored"
        async with bot.runtime.graph.units_of_work() as uow:
            may10 = await uow.units.by_code("HN-LB-MAY10")
            other = await uow.units.by_code("HN-LB")
        assert may10 is not None and other is not None
        assert await listed(f"unit={may10.id}")
        outside = await client.get(f"/web/queue?unit={other.id}")
        assert outside.status == 403, "a unit above the admin's is not theirs to see"


async def test_decision_on_the_web_updates_the_chat_cards(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)
        token = csrf_of(await (await client.get("/web/queue/1")).text())
        decided = await client.post(
            "/web/queue/1/decide",
            allow_redirects=False,
            data={"csrf": token, "version": "1", "decision": "return", "preset": "nodata"},
        )
        assert decided.status == 303
        page = await (await client.get("/web/queue/1")).text()
        assert 'name="decision"' not in page, "a decided version has no form"
    await bot.settle()
    assert (await load(database_url, 1)).status is InitiativeStatus.RETURNED
    assert await decisions(database_url) == ["return"]
    card = edits(bot, ADMIN_A)[-1]
    assert "Yêu cầu bổ sung bởi" in card.text or "bổ sung" in card.text, card.text
    assert not card.buttons, "the chat card lost its buttons"
    assert "Thiếu số liệu" in worker.last().text, worker.transcript()


async def test_return_needs_a_reason(start_bot: StartBot, database_url: str) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)
        token = csrf_of(await (await client.get("/web/queue/1")).text())
        refused = await client.post(
            "/web/queue/1/decide", data={"csrf": token, "version": "1", "decision": "reject"}
        )
        assert refused.status == 400
    assert await decisions(database_url) == []


async def test_without_the_csrf_token_nothing_changes(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)
        for form in (
            {"version": "1", "decision": "approve"},
            {"csrf": "x" * 43, "version": "1", "decision": "approve"},
        ):
            refused = await client.post("/web/queue/1/decide", data=form)
            assert refused.status == 403
        assert (await client.post("/web/logout", data={})).status == 403
        assert (await client.get("/web/queue")).status == 200, "still signed in"
    assert await decisions(database_url) == []
    assert (await load(database_url, 1)).status is InitiativeStatus.PENDING


async def test_a_revoked_admin_is_refused_at_the_next_click(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)
        token = csrf_of(await (await client.get("/web/queue")).text())
        await grant(database_url, "HN-LB-MAY10", ADMIN_A, revoke=True)
        assert (await client.get("/web/queue")).status == 403
        refused = await client.post(
            "/web/queue/1/decide", data={"csrf": token, "version": "1", "decision": "approve"}
        )
        assert refused.status in (401, 403)
        await grant(database_url, "HN-LB-MAY10", ADMIN_A)
        assert (await client.get("/web/queue")).status == 401, "the session ended for good"
    assert await decisions(database_url) == []


async def test_sign_out_ends_the_session(start_bot: StartBot, database_url: str) -> None:
    bot = await web_bot(start_bot, database_url)
    _worker, a, _b, _upper = await setup(bot, database_url)
    async with web_client(bot) as client:
        await sign_in(client, a)
        cookie = client.session.cookie_jar.filter_cookies(client.make_url("/web/queue"))
        token = csrf_of(await (await client.get("/web/queue")).text())
        out = await client.post("/web/logout", data={"csrf": token})
        assert out.status == 200
        assert (await client.get("/web/queue")).status == 401
    async with web_client(bot) as thief:
        # The old cookie, replayed, opens nothing: the session is gone on the server.
        thief.session.cookie_jar.update_cookies(cookie, thief.make_url("/web/"))
        assert (await thief.get("/web/queue")).status == 401


async def test_web_and_chat_decide_at_once_and_one_wins(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    async with web_client(bot) as client:
        await sign_in(client, a)
        token = csrf_of(await (await client.get("/web/queue/1")).text())
        await b.tap("✅ Duyệt")
        web, chat = await asyncio.gather(
            client.post("/web/queue/1/decide", allow_redirects=False,
                        data={"csrf": token, "version": "1", "decision": "approve"}),
            b.tap("Xác nhận"),
        )  # fmt: skip
        assert await decisions(database_url) == ["approve"], "exactly one decision"
        if web.status == 303:
            assert "Đã duyệt bởi" in notice(chat), "the chat is told who decided"
        else:
            assert web.status == 409 and "Bình" in await web.text(), "the web is told who"
        # Afterwards the loser always learns who won, on either side.
        again = await client.post("/web/queue/1/decide",
                                  data={"csrf": token, "version": "1", "decision": "reject",
                                        "reason": "muộn"})  # fmt: skip
        assert again.status == 409
    assert await decisions(database_url) == ["approve"]


async def test_secure_cookie_behind_https(start_bot: StartBot, database_url: str) -> None:
    await seed_units(database_url)
    bot = await start_bot(public_url="https://bot.test")
    _worker, a, _b, _upper = await setup(bot, database_url)
    path = await login_link(a)
    async with web_client(bot) as client:
        signed = await client.post(path, allow_redirects=False)
        assert "Secure" in signed.headers["Set-Cookie"]


async def test_the_mini_app_signs_in_with_checked_launch_data(
    start_bot: StartBot, database_url: str, clock: Clock
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, _a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    good = launch(fields(ADMIN_A, at=clock.now), token=TOKEN)
    async with web_client(bot) as client:
        page = await client.get("/web/app")
        assert page.status == 200 and "telegram-web-app.js" in await page.text()
        for bad in (good.replace(str(ADMIN_A), str(WORKER)), launch(fields(ADMIN_A,
                    at=clock.now - dt.timedelta(days=2)), token=TOKEN), ""):  # fmt: skip
            refused = await client.post("/web/app/session", data={"init_data": bad})
            assert refused.status == 401
        assert (await client.get("/web/queue")).status == 401
        worker_launch = launch(fields(WORKER, at=clock.now), token=TOKEN)
        assert (
            await client.post("/web/app/session", data={"init_data": worker_launch})
        ).status == 403, "a worker is not let in"
        opened = await client.post("/web/app/session", data={"init_data": good})
        assert opened.status == 200 and (await opened.json())["next"] == "/web/queue"
        assert "SK-000001" in await (await client.get("/web/queue")).text()


def _offered_units(html: str) -> set[str]:
    """The names the queue's unit filter offers."""
    start = html.index('<select name="unit">')
    options = html[start : html.index("</select>", start)]
    return set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', options))


async def test_the_unit_filter_offers_own_units_and_those_directly_below(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, _a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await grant(database_url, "HN", PROVINCE_ADMIN)
    province = bot.member(PROVINCE_ADMIN, "Dũng")
    async with web_client(bot) as client:
        await sign_in(client, province)
        html = await (await client.get("/web/queue")).text()
        assert _offered_units(html) == {
            "LĐLĐ TP Hà Nội",
            "LĐLĐ quận Long Biên",
            "LĐLĐ quận Hoàng Mai",
        }, "not the units further down"
        assert "SK-000001" in html and "CĐCS Công ty May 10" in html
        assert ": 1</h1>" in html, "the total counted from the running figures"
        async with bot.runtime.graph.units_of_work() as uow:
            long_bien = await uow.units.by_code("HN-LB")
        assert long_bien is not None
        drilled = await (await client.get(f"/web/queue?unit={long_bien.id}")).text()
        assert _offered_units(drilled) == {
            "LĐLĐ TP Hà Nội",
            "LĐLĐ quận Long Biên",
            "CĐCS Công ty May 10",
            "CĐCS Công ty May Đức Giang",
        }, "choosing a unit offers the units below it"
        assert "SK-000001" in drilled


async def test_the_heading_of_an_erased_initiative_says_its_content_was_erased(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await worker.say("/xoadulieu")
    await worker.say("XÓA")
    erased = Translator(UNION_TIMEZONE).render(ERASED_CONTENT, "vi")
    async with web_client(bot) as client:
        await sign_in(client, a)
        full = await (await client.get("/web/queue/1")).text()
    heading = re.search(r"<h1>(.*?)</h1>", full)
    assert heading is not None and heading.group(1) == f"SK-000001 · {erased}", full
    assert "Giá treo cuộn chỉ xoay" not in full
