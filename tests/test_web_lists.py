"""The staff web view's lists over HTTP: initiatives found with or without diacritics,
only within the admin's units, page by page; the admin's announcements with their
progress, and the stop button (CSRF required)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from domain.delivery import BroadcastExtras, OutgoingState
from domain.model import Initiative, InitiativeStatus, Member, Step
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import Call, Harness
from tests.test_review import ADMIN_A, WORKER, grant, setup, submit
from tests.web_world import PUBLIC_URL, Client, csrf_of, sign_in, web_client
from tests.zalo_world import zalo_admins, zalo_worker

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)


async def web_bot(start_bot: StartBot, database_url: str) -> Harness:
    """The bot with a public address, so it serves the web view."""
    await seed_units(database_url)
    return await start_bot(public_url=PUBLIC_URL)


async def add_initiatives(
    database_url: str, code: str, titles: list[str], status: InitiativeStatus,
    note: str | None = None, author_id: int = WORKER,
) -> list[int]:  # fmt: skip
    """Initiatives of a member (the worker unless told) in a unit, stored as the dialog
    stores them."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            unit = await uow.units.by_code(code)
            author = await uow.members.by_external_id("telegram", str(author_id))
            assert unit is not None and author is not None
            ids = []
            for title in titles:
                added = await uow.initiatives.add(Initiative(
                    0, author.id, author.id, unit.id, status, NOW, NOW, step=Step.SUMMARY,
                    title=title, version=1, submitted_at=NOW,
                    confidential=note is not None, confidential_note=note,
                ))  # fmt: skip
                ids.append(added.id)
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return ids


async def retitle(database_url: str, initiative_id: int, title: str) -> None:
    """Change an initiative's title, as an edit of the dialog saves it."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            initiative = await uow.initiatives.get(initiative_id)
            assert initiative is not None
            initiative.title = title
            await uow.initiatives.save(initiative)
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def listed(client: Client, query: str) -> str:
    """The initiatives page for a query string."""
    response = await client.get(f"/web/initiatives?{query}")
    assert response.status == 200, query
    return await response.text()


async def test_search_ignores_diacritics_and_case_within_the_admins_units(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, upper = await setup(bot, database_url)
    await submit(worker)
    [outside] = await add_initiatives(database_url, "HN-HM", ["Giá treo ở Hoàng Mai"],
                                      InitiativeStatus.PENDING)  # fmt: skip
    [draft] = await add_initiatives(database_url, "HN-LB-MAY10", ["Giá treo nháp"],
                                    InitiativeStatus.DRAFT)  # fmt: skip
    [approved] = await add_initiatives(database_url, "HN-LB-MAY10", ["Bàn ủi hơi nước"],
                                       InitiativeStatus.APPROVED, note="Bí quyết XYZ")  # fmt: skip
    async with web_client(bot) as client:
        assert (await client.get("/web/initiatives")).status == 401
        await sign_in(client, a)
        everything = await listed(client, "")
        assert "SK-000001" in everything and "Giá treo cuộn chỉ xoay" in everything
        assert "Nguyễn Thị Lan" in everything and "CĐCS Công ty May 10" in everything
        assert "Chờ duyệt" in everything and "Đã duyệt" in everything
        assert f"SK-{outside:06d}" not in everything, "Hoàng Mai is not the admin's unit"
        assert f"SK-{draft:06d}" not in everything, "a draft is nobody's yet"
        assert "Bí quyết" not in everything, "the list never shows confidential parts"
        for typed in ("gia treo", "GIÁ TREO", "cuộn chi", "CUON CHI XOAY", "SK-000001", "1"):
            found = await listed(client, f"q={typed}")
            assert "Giá treo cuộn chỉ xoay" in found, typed
            assert "Bàn ủi hơi nước" not in found, typed
        assert "Bàn ủi" in await listed(client, "q=ban ui")
        assert "Bàn ủi" not in await listed(client, "q=XYZ"), "confidential text is not searched"
        missing = await listed(client, "q=máy khâu")
        assert "Giá treo" not in missing.split("<main>")[1] and "<table>" not in missing
        only_approved = await listed(client, "status=approved")
        assert "Bàn ủi" in only_approved and "Giá treo cuộn" not in only_approved
        assert "Giá treo nháp" not in await listed(client, "status=draft&q=gia treo")
        opened = await client.get("/web/queue/1")
        assert opened.status == 200, "each row opens the initiative in full"
        await retitle(database_url, approved, "Máy ép nhiệt cải tiến")
        assert "Máy ép nhiệt" in await listed(client, "q=may ep"), "a new title is searched"
        assert "Máy ép nhiệt" not in await listed(client, "q=ban ui")
    async with web_client(bot) as client:
        await sign_in(client, upper)
        above = await listed(client, "q=gia treo")
        assert "Giá treo cuộn chỉ xoay" in above, "the unit above sees the units below"
        assert f"SK-{outside:06d}" not in above


async def test_the_list_comes_a_page_at_a_time(start_bot: StartBot, database_url: str) -> None:
    bot = await web_bot(start_bot, database_url)
    _worker, a, _b, _upper = await setup(bot, database_url)
    await a.say("/start")
    titles = [f"Sáng kiến số {index:02d}" for index in range(25)]
    await add_initiatives(database_url, "HN-LB-MAY10", titles, InitiativeStatus.PENDING)
    async with web_client(bot) as client:
        await sign_in(client, a)
        first = await listed(client, "q=sang kien")
        assert "Sáng kiến số 24" in first and "Sáng kiến số 05" in first, "newest first"
        assert "Sáng kiến số 04" not in first and "page=1" in first
        second = await listed(client, "q=sang kien&page=1")
        assert "Sáng kiến số 04" in second and "Sáng kiến số 00" in second
        assert "Sáng kiến số 05" not in second
        beyond = await listed(client, "q=sang kien&page=99")
        assert "Sáng kiến số 00" in beyond, "past the end: the last page"


async def queued_announcement(database_url: str, sender: int, count: int) -> int:
    """An announcement of the admin to members on a channel not running here, so its
    messages stay queued until stopped."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            admin = await uow.members.by_external_id("telegram", str(sender))
            assert admin is not None
            ids = []
            for index in range(count):
                person = Member(0, "zalo", f"{count}-{index}", f"Người {index}", "vi")
                ids.append((await uow.members.add(person, NOW)).id)
            broadcast = await uow.outbox.create("announce", "Hội thi sáng kiến Chủ nhật này!",
                                                ids, admin.id, NOW, BroadcastExtras())  # fmt: skip
            assert broadcast is not None
            await uow.commit()
            tally = await uow.outbox.tally(broadcast)
            assert tally[OutgoingState.QUEUED] == count
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return broadcast


async def test_announcements_show_progress_and_stop_with_csrf(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    _worker, a, b, _upper = await setup(bot, database_url)
    await a.say("/start")
    broadcast = await queued_announcement(database_url, ADMIN_A, 12)
    async with web_client(bot) as client:
        await sign_in(client, a)
        page = await (await client.get("/web/announcements")).text()
        assert "Hội thi sáng kiến Chủ nhật này!" in page and "📣 Đã gửi 0/12" in page
        stop = f"/web/announcements/{broadcast}/stop"
        assert stop in page
        assert (await client.post(stop, data={})).status == 403, "no CSRF token"
        assert (await client.post(stop, data={"csrf": "x" * 43})).status == 403
        assert "📣 Đã gửi 0/12" in await (await client.get("/web/announcements")).text()
        stopped = await client.post(stop, data={"csrf": csrf_of(page)})
        assert stopped.status == 200
        after = await stopped.text()
        assert "Đã dừng: 12 tin sẽ không được gửi." in after
        assert "📣 Đã gửi 12/12" in after and stop not in after, "nothing left to stop"
    async with web_client(bot) as client:
        await b.say("/start")
        await sign_in(client, b)
        others = await (await client.get("/web/announcements")).text()
        assert "Hội thi" not in others, "another admin's announcements are not listed"
        running = await queued_announcement(database_url, ADMIN_A, 3)
        refused = await client.post(f"/web/announcements/{running}/stop",
                                    data={"csrf": csrf_of(others)})  # fmt: skip
        assert refused.status == 403 and "Chỉ người gửi" in await refused.text()
    tally = await bot.application.bot_data.deliveries.tally(running)
    assert tally[OutgoingState.QUEUED] == 3, "nothing was stopped"


def web_apps(call: Call) -> list[str]:
    """The addresses of the Mini App buttons under a message (inline: launched from there,
    the page gets Telegram's signed launch data; from a reply keyboard it would not)."""
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [key["web_app"]["url"] for kind in ("inline_keyboard", "keyboard")
            for row in markup.get(kind, []) for key in row
            if isinstance(key, dict) and key.get("web_app")]  # fmt: skip


def menu_buttons(bot: Harness, chat_id: int) -> list[dict[str, Any]]:
    """What the chat's menu button was set to, oldest first."""
    calls = [c for c in bot.api.by_chat[chat_id] if c.method == "setChatMenuButton"]
    found = [c.params["menu_button"] for c in calls]
    return [json.loads(b) if isinstance(b, str) else b for b in found]


async def test_the_admin_menu_opens_the_mini_app_only_over_https(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    secure = await start_bot(public_url="https://bot.test")
    worker, a, _b, _upper = await setup(secure, database_url)
    await a.say("/web")
    assert "/web/login/" in a.last().text and "🖥 Trang quản trị" in a.last().text
    assert web_apps(a.last()) == ["https://bot.test/web/app"]
    assert menu_buttons(secure, ADMIN_A) == [
        {"type": "web_app", "text": "🖥 Trang quản trị",
         "web_app": {"url": "https://bot.test/web/app"}}
    ], "the menu button beside the typing field opens the page from now on"  # fmt: skip
    await a.say("/help")
    assert len(menu_buttons(secure, ADMIN_A)) == 1, "set once, not at every menu"
    await worker.say("/web")
    assert not web_apps(worker.last()), "a worker gets no admin page"
    await worker.say("/help")
    assert menu_buttons(secure, WORKER) == [], "a worker's menu button is left alone"


async def test_an_admin_gets_the_menu_button_without_asking_and_loses_it_when_revoked(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    secure = await start_bot(public_url="https://bot.test")
    _worker, a, _b, _upper = await setup(secure, database_url)
    await a.say("/start")
    assert [b["type"] for b in menu_buttons(secure, ADMIN_A)] == ["web_app"]
    await grant(database_url, "HN-LB-MAY10", ADMIN_A, revoke=True)
    await a.say("/help")
    assert [b["type"] for b in menu_buttons(secure, ADMIN_A)] == ["web_app", "default"]
    await a.say("/help")
    assert len(menu_buttons(secure, ADMIN_A)) == 2, "the commands stay without a new call"


async def test_no_mini_app_button_over_plain_http(start_bot: StartBot, database_url: str) -> None:
    bot = await web_bot(start_bot, database_url)
    _worker, a, _b, _upper = await setup(bot, database_url)
    await a.say("/web")
    assert "/web/login/" in a.last().text and not web_apps(a.last())
    assert "🖥" not in a.last().text.split("/web/login/")[1]
    await a.say("/help")
    assert menu_buttons(bot, ADMIN_A) == []


async def test_zalo_gets_the_login_link_without_a_mini_app(
    start_bot: StartBot, database_url: str
) -> None:
    await seed_units(database_url)
    async with zalo_worker(start_bot, public_url="https://bot.test") as zalo:
        await zalo_admins(database_url, zalo.user_id)
        said = "\n".join(await zalo.say("/web"))
        assert "/web/login/" in said
        assert "/web/app" not in said, "a Mini App opens only inside Telegram"
