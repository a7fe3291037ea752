"""A unit's Telegram group or channel gets its commendations: /linkchat and /unlinkchat."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, TypedDict

from domain.delivery import BroadcastExtras
from tests.conftest import Clock
from tests.fakebotapi import BOT_USER, Call, Harness, next_update_id
from tests.test_commend import MONDAY_0805, week_with_highlights
from tests.test_review import drain, run_job


class Chat(TypedDict):
    """A group or channel as the Bot API describes it."""

    id: int
    type: str
    title: str


GROUP: Chat = {"id": -100200, "type": "supergroup", "title": "Công nhân May 10"}
OTHER_GROUP: Chat = {"id": -100300, "type": "group", "title": "Nhóm bạn bè"}
CHANNEL: Chat = {"id": -100400, "type": "channel", "title": "Kênh Công đoàn May 10"}
_message_ids = itertools.count(1)


def in_chat(chat: Chat, text: str, user: dict[str, Any] | None = None) -> dict[str, Any]:
    """An update for a command sent in a group (by a user) or posted in a channel."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids), "date": int(time.time()), "chat": chat, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }  # fmt: skip
    if user is not None:
        message["from"] = user
        return {"update_id": next_update_id(), "message": message}
    message["sender_chat"] = chat
    return {"update_id": next_update_id(), "channel_post": message}


def bot_left(chat: Chat) -> dict[str, Any]:
    """The bot was removed from a chat."""
    admin = {"id": 1, "is_bot": False, "first_name": "Chủ kênh"}
    return {"update_id": next_update_id(), "my_chat_member": {
        "chat": chat, "from": admin, "date": int(time.time()),
        "old_chat_member": {"status": "administrator", "user": BOT_USER, "can_be_edited": False,
                            "can_manage_chat": True, "can_change_info": True,
                            "can_delete_messages": True, "can_invite_users": True,
                            "can_restrict_members": True, "can_pin_messages": True,
                            "can_promote_members": False, "can_manage_video_chats": True,
                            "is_anonymous": False, "can_post_stories": True,
                            "can_edit_stories": True, "can_delete_stories": True},
        "new_chat_member": {"status": "left", "user": BOT_USER},
    }}  # fmt: skip


def said(bot: Harness, chat: Chat) -> list[str]:
    return [c.text for c in bot.api.sent_to(chat["id"])]


async def test_groups_and_channels_are_linked_and_get_the_commendation(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    people = await week_with_highlights(bot, database_url)
    admin, worker = people["admin"], people["an"]
    await bot.deliver(in_chat(GROUP, "/linkchat", admin.user), GROUP["id"])
    assert "Đã liên kết: biểu dương hằng tuần của CĐCS Công ty May 10" in said(bot, GROUP)[-1]
    await bot.deliver(in_chat(OTHER_GROUP, "/linkchat@sangkien_test_bot", worker.user),
                      OTHER_GROUP["id"])  # fmt: skip
    assert "Chỉ quản trị" in said(bot, OTHER_GROUP)[-1], "a worker cannot link a chat"
    await bot.deliver(in_chat(CHANNEL, "/linkchat"), CHANNEL["id"])
    assert "gửi /linkchat trong cuộc trò chuyện riêng" in said(bot, CHANNEL)[-1]

    await admin.say("/linkchat")
    code = re.search(r"/linkchat ([A-Z2-9]{4}-[A-Z2-9]{4})", admin.transcript(3))
    assert code is not None, admin.transcript(3)
    await bot.deliver(in_chat(CHANNEL, f"/linkchat {code.group(1)}"), CHANNEL["id"])
    assert "Đã liên kết" in said(bot, CHANNEL)[-1]
    await bot.deliver(in_chat(OTHER_GROUP, f"/linkchat {code.group(1).lower()}", admin.user),
                      OTHER_GROUP["id"])  # fmt: skip
    assert "không hợp lệ (đã dùng" in said(bot, OTHER_GROUP)[-1], "a code works once"
    await admin.say("/linkchat")
    labels = [label for label, _ in admin.last().buttons]
    assert labels == ["✂️ Bỏ liên kết Công nhân May 10", "✂️ Bỏ liên kết Kênh Công đoàn May 10"]

    clock.now = MONDAY_0805
    await run_job(bot, "weekly")
    await drain(bot)
    for chat in (GROUP, CHANNEL):
        (posted,) = [text for text in said(bot, chat) if "Biểu dương tuần" in text]
        assert "CĐCS Công ty May 10" in posted and "Nguyễn Văn An" in posted
    assert not [t for t in said(bot, OTHER_GROUP) if "Biểu dương tuần" in t]


async def test_unlinking_and_removing_the_bot_stop_the_posts(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    people = await week_with_highlights(bot, database_url)
    admin = people["admin"]
    await bot.deliver(in_chat(GROUP, "/linkchat", admin.user), GROUP["id"])
    await admin.say("/linkchat")
    code = re.search(r"/linkchat ([A-Z2-9]{4}-[A-Z2-9]{4})", admin.transcript(3))
    assert code is not None
    await bot.deliver(in_chat(CHANNEL, f"/linkchat {code.group(1)}"), CHANNEL["id"])
    await bot.deliver(in_chat(GROUP, "/unlinkchat", people["an"].user), GROUP["id"])
    assert "Chỉ quản trị của đơn vị đã liên kết" in said(bot, GROUP)[-1]
    await bot.deliver(in_chat(GROUP, "/unlinkchat", admin.user), GROUP["id"])
    assert "Đã bỏ liên kết" in said(bot, GROUP)[-1]
    await bot.deliver(bot_left(CHANNEL), CHANNEL["id"])
    await admin.say("/linkchat")
    assert not admin.last().buttons, "nothing is linked any more"
    clock.now = MONDAY_0805
    await run_job(bot, "weekly")
    await drain(bot)
    assert not [t for t in said(bot, GROUP) + said(bot, CHANNEL) if "Biểu dương tuần" in t]


async def test_a_group_gets_at_most_twenty_messages_a_minute(bot: Harness) -> None:
    deliveries = bot.application.bot_data.deliveries
    for index in range(3):
        await deliveries.broadcast("weekly", f"Tin {index}", [], None,
                                   BroadcastExtras(chats=[str(GROUP["id"])]))  # fmt: skip
    await drain(bot)
    posts: list[Call] = bot.api.sent_to(GROUP["id"])
    assert [c.text for c in posts] == ["Tin 0", "Tin 1", "Tin 2"]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(posts)]
    assert min(gaps) >= 2.9, gaps
