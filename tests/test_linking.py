"""One person on Telegram and Zalo: /link with a one-time code makes their accounts one
member, a draft goes on in either app, and the bot writes to the app used last."""

from __future__ import annotations

import datetime as dt
import json
import re

from domain.linking import MAX_FAILURES
from domain.model import InitiativeStatus
from tests.conftest import Clock, StartBot
from tests.fakebotapi import Harness, Member
from tests.scenario import MAY10, answer_all, join
from tests.test_review import ADMIN_A, grant
from tests.zalo_world import Worker, status_of_first, stored_member, submit_by_typing

LAN = 7001
_CODE = re.compile(r"/link (\d{8})")


async def code_on_telegram(worker: Member) -> str:
    """Ask for a link code on Telegram; the code it shows."""
    await worker.say("/link")
    found = _CODE.search(worker.last().text)
    assert found, worker.transcript(2)
    return found.group(1)


async def test_a_draft_started_on_telegram_goes_on_on_zalo(zalo: Worker, database_url: str) -> None:
    lan = zalo.harness.member(LAN, "Lan")
    await join(lan)
    await lan.say("/new")
    await lan.say("Giá treo cuộn chỉ xoay")
    code = await code_on_telegram(lan)
    assert "10 phút" in lan.last().text and "Zalo" in lan.last().text, lan.last().text

    answer = await zalo.say(f"/link {code[:4]} {code[4:]}")
    assert "Đã liên kết với tài khoản Telegram" in answer[0], answer
    # Where the draft was: the kind of solution, offered as numbered choices.
    assert "1. " in answer[-1] and "Giải pháp kỹ thuật" in answer[-1], answer
    await zalo.choose("Giải pháp kỹ thuật")
    answer = await zalo.say("san xuat")
    assert "Câu hỏi 4/11" in answer[-1], answer

    # Back on Telegram, a typed text is not taken for an answer: the question comes again.
    seen = len(zalo.harness.api.sent_to(LAN))
    await lan.say("chào")
    assert "Bạn đang làm việc này trên Zalo" in lan.last().text, lan.transcript(2)
    assert len(zalo.harness.api.sent_to(LAN)) == seen + 1
    await lan.say("Công nhân phải cúi người thay cuộn chỉ, mất 5 phút mỗi lần.")
    assert "Xong" in str(lan.last().buttons), lan.transcript(2)


async def test_the_decision_goes_to_the_app_used_last(
    zalo: Worker, database_url: str, clock: Clock
) -> None:
    await grant(database_url, MAY10, ADMIN_A)
    lan = zalo.harness.member(LAN, "Lan")
    await join(lan)
    await lan.say("/new")
    await answer_all(lan)
    await lan.tap("Gửi")
    code = await code_on_telegram(lan)
    await zalo.say(f"/link {code}")
    answer = await zalo.say("/my")
    assert any("SK-000001" in text for text in answer), answer

    await zalo.harness.settle()
    admin = zalo.harness.member(ADMIN_A, "An")
    telegram_seen, zalo_seen = len(zalo.harness.api.sent_to(LAN)), len(zalo.texts())
    await admin.tap("✅ Duyệt")
    await admin.tap("Xác nhận")
    await zalo.fake.wait_for_messages(zalo.user_id, zalo_seen + 1)
    assert "đã được duyệt" in zalo.texts()[-1], zalo.texts()[-1]
    await zalo.harness.settle()
    assert len(zalo.harness.api.sent_to(LAN)) == telegram_seen
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED


async def test_a_zalo_account_with_initiatives_keeps_them_when_telegram_links_to_it(
    zalo: Worker, database_url: str
) -> None:
    await submit_by_typing(zalo)
    answer = await zalo.say("/link")
    found = _CODE.search("\n".join(answer))
    assert found and "Telegram" in answer[0], answer
    # A new Telegram account types the code: it becomes the Zalo member, joined already.
    lan = zalo.harness.member(LAN, "Lan")
    await lan.say(f"/link {found.group(1)}")
    assert "Đã liên kết với tài khoản Zalo" in lan.last().text, lan.transcript(2)
    await lan.say("/my")
    assert "SK-000001" in lan.last().text, lan.transcript(2)


async def test_codes_are_used_once_expire_and_wrong_ones_are_limited(
    zalo: Worker, clock: Clock
) -> None:
    lan = zalo.harness.member(LAN, "Lan")
    await join(lan)
    code = await code_on_telegram(lan)
    clock.now += dt.timedelta(minutes=11)
    answer = await zalo.say(f"/link {code}")
    assert "sai hoặc đã hết hạn" in answer[0], answer

    answer = await zalo.say("/link 1234")
    assert "8 chữ số" in answer[0], answer
    for attempt in range(MAX_FAILURES - 1):
        await zalo.say(f"/link {10000000 + attempt}")
    code = await code_on_telegram(lan)
    answer = await zalo.say(f"/link {code}")
    assert "quá nhiều lần" in answer[0], answer
    clock.now += dt.timedelta(hours=1, minutes=1)
    code = await code_on_telegram(lan)
    answer = await zalo.say(f"/link {code}")
    assert "Đã liên kết" in answer[0], answer
    # Used: a second account cannot take it again.
    other = zalo.harness.member(LAN + 1, "Bình")
    await other.say(f"/link {code}")
    assert "sai hoặc đã hết hạn" in other.last().text, other.transcript(2)


async def test_two_accounts_of_one_app_or_with_records_on_both_are_not_joined(
    zalo: Worker, database_url: str
) -> None:
    lan = zalo.harness.member(LAN, "Lan")
    await join(lan)
    code = await code_on_telegram(lan)
    other = zalo.harness.member(LAN + 1, "Bình")
    await other.say(f"/link {code}")
    assert "đều là tài khoản Telegram" in other.last().text, other.transcript(2)

    await lan.say("/new")
    await answer_all(lan)
    await lan.tap("Gửi")
    await submit_by_typing(zalo)
    code = await code_on_telegram(lan)
    answer = await zalo.say(f"/link {code}")
    assert "không thể gộp" in answer[0], answer
    answer = await zalo.say("/my")
    assert any("SK-000002" in text for text in answer), answer


async def test_once_linked_there_is_nothing_more_to_link(zalo: Worker) -> None:
    lan = zalo.harness.member(LAN, "Lan")
    await join(lan)
    await zalo.say(f"/link {await code_on_telegram(lan)}")
    answer = await zalo.say("/link")
    assert "đã được liên kết: Telegram, Zalo" in answer[0], answer


async def test_linking_on_a_bot_with_one_app_says_there_is_nothing_to_link(bot: Harness) -> None:
    lan = bot.member(LAN, "Lan")
    await lan.say("/link")
    assert "chỉ chạy trên một ứng dụng" in lan.last().text, lan.transcript(2)


async def reachable(database_url: str, channel: str, external_id: str) -> bool:
    """Whether the member this account leads to may be written to."""
    return (await stored_member(database_url, channel, external_id)).reachable


async def test_a_member_who_writes_again_is_reachable_again(
    zalo: Worker, database_url: str
) -> None:
    await zalo.say(f"/start {MAY10}")
    deliveries = zalo.harness.application.bot_data.deliveries
    await deliveries.reachable("zalo", zalo.user_id, False)
    assert not await reachable(database_url, "zalo", zalo.user_id)
    await zalo.say("/help")
    assert await reachable(database_url, "zalo", zalo.user_id)


def menu(harness: Harness) -> set[str]:
    """The commands of Telegram's menu, as the bot published them."""
    (call, *_others) = [c for c in harness.api.calls if c.method == "setMyCommands"]
    commands = call.params["commands"]
    if isinstance(commands, str):
        commands = json.loads(commands)
    return {str(command["command"]) for command in commands}


async def test_the_telegram_menu_offers_link_only_with_zalo_on(
    zalo: Worker, start_bot: StartBot
) -> None:
    assert "link" in menu(zalo.harness)
    assert "link" not in menu(await start_bot())
