"""Bad input gets a clear Vietnamese message, and the draft stays as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.fakebotapi import Call, Harness, Member
from tests.scenario import join
from tests.test_submission import PHOTO, load

STICKER = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512,
           "height": 512, "is_animated": False, "is_video": False}  # fmt: skip


async def worker_at_title(bot: Harness, user_id: int) -> Member:
    worker = bot.member(user_id, "Lan")
    await join(worker)
    await worker.say("/new")
    return worker


def question_repeated(worker: Member, header: str) -> None:
    assert header in worker.last().text, worker.transcript(2)


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": STICKER},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}},
        {"location": {"latitude": 21.03, "longitude": 105.85}},
        {"photo": PHOTO},
    ],
    ids=["sticker", "voice", "location", "photo"],
)
async def test_non_text_where_text_is_expected(
    bot: Harness, database_url: str, content: dict[str, object]
) -> None:
    worker = await worker_at_title(bot, 401)
    await worker.send(**content)
    reply = worker.last().text
    assert "Xin lỗi" in reply or "không" in reply.lower()
    question_repeated(worker, "Câu hỏi 1/11")
    draft = await load(database_url, 1)
    assert draft.title is None and draft.attachments == []


async def test_whitespace_and_overlong_texts(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 402)
    await worker.say("   ")
    question_repeated(worker, "Câu hỏi 1/11")
    await worker.say("x" * 201)
    assert "200" in worker.last().text
    await worker.say("Tiêu đề hợp lệ")
    await worker.tap("Khác")
    await worker.tap("Khác")
    await worker.say("Đoạn đầu.")
    await worker.say("y" * 10_000)
    assert "4.000" in worker.last().text, "the limit is said, formatted"
    draft = await load(database_url, 1)
    assert draft.title == "Tiêu đề hợp lệ" and draft.problem == "Đoạn đầu."
    await worker.say("z" * 3995)
    assert "4.000" in worker.last().text, "the total counts, not only one message"
    assert (await load(database_url, 1)).problem == "Đoạn đầu."


async def reach_step(worker: Member, steps: int) -> None:
    """From the title, answer the first ``steps`` questions."""
    actions: list[Callable[[], Awaitable[list[Call]]]] = [
        lambda: worker.say("Tiêu đề"),
        lambda: worker.tap("Khác"),
        lambda: worker.tap("Khác"),
        lambda: worker.say("Trước."),
        lambda: worker.tap("Xong"),
        lambda: worker.say("Sau."),
        lambda: worker.tap("Xong"),
        lambda: worker.tap("Chưa áp dụng"),
        lambda: worker.say("Tốt hơn."),
        lambda: worker.say("5 tỷ"),
        lambda: worker.tap("Không có đồng tác giả"),
    ]
    for action in actions[:steps]:
        await action()


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("abc", "5 tỷ"),
        ("-5", "lớn hơn 0"),
        ("5 tỷ tỷ", "5 tỷ"),
        ("2.000.000 tỷ", "1.000.000.000.000.000"),
    ],
)
async def test_bad_amounts(bot: Harness, database_url: str, typed: str, says: str) -> None:
    worker = await worker_at_title(bot, 403)
    await reach_step(worker, 9)
    await worker.say(typed)
    assert says in worker.last().text, worker.transcript(1)
    question_repeated(worker, "Câu hỏi 8/11")
    assert (await load(database_url, 1)).benefit_known is None


@pytest.mark.parametrize("typed", ["31/02/2026", "23/11/2026", "15/13/2026", "hôm qua"])
async def test_bad_dates(bot: Harness, database_url: str, typed: str) -> None:
    worker = await worker_at_title(bot, 404)
    await reach_step(worker, 7)
    await worker.say(typed)
    assert "dd/mm/yyyy" in worker.last().text or "22/11/2026" in worker.last().text
    question_repeated(worker, "Câu hỏi 6/11")
    assert (await load(database_url, 1)).applied is None


async def test_coauthor_shares_over_100(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 405)
    await reach_step(worker, 10)
    await worker.say("Trần Văn Bình 60%")
    await worker.say("Lê Thị Cúc 50%")
    assert "110%" in worker.last().text
    draft = await load(database_url, 1)
    assert [c.name for c in draft.coauthors] == ["Trần Văn Bình"]


async def test_eleventh_attachment_refused(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 406)
    await reach_step(worker, 11)
    for index in range(11):
        photo = [{**PHOTO[1], "file_id": f"p{index}", "file_unique_id": f"u{index}"}]
        await worker.send(photo=photo)
    assert "10" in worker.last().text
    draft = await load(database_url, 1)
    assert len(draft.attachments) == 10
    await worker.say("chữ")
    assert len((await load(database_url, 1)).attachments) == 10


async def test_old_and_foreign_buttons(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 407)
    await worker.say("Tiêu đề")
    old_kind = worker.button("Giải pháp kỹ thuật")
    await worker.tap("Giải pháp quản lý")
    calls = await worker.press(old_kind)
    notice = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "cũ" in notice.text, notice.text
    assert (await load(database_url, 1)).kind.value == "management"  # type: ignore[union-attr]

    other = bot.member(408, "Kẻ lạ")
    await join(other)
    calls = await other.press("d:pick:1:field:production")
    notice = next(c for c in calls if c.method == "answerCallbackQuery")
    assert notice.text, "another member's draft is refused with a reason"
    assert (await load(database_url, 1)).field is None


@pytest.mark.parametrize(
    "data",
    ["", "garbage", "d:pick", "d:pick:x:kind:technical", "m:open:1", "z:z:z", "d" * 70,
     "d:pick:1:kind:nope", "d:submit:1:title", "l:fr", "n:resume:99"],
)  # fmt: skip
async def test_forged_button_data(bot: Harness, database_url: str, data: str) -> None:
    worker = await worker_at_title(bot, 409)
    await worker.say("Tiêu đề")
    calls = await worker.press(data)
    assert calls[0].method == "answerCallbackQuery"
    draft = await load(database_url, 1)
    assert draft.kind is None and draft.step.value == "kind"


async def test_commands_in_the_middle_of_a_step(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 410)
    await worker.say("Tiêu đề")
    await worker.say("/help")
    question_repeated(worker, "Câu hỏi 2/11")
    await worker.say("/khonghieu")
    assert "/help" in worker.last().text
    question_repeated(worker, "Câu hỏi 2/11")
    await worker.say("/my")
    assert "SK-000001" in worker.last().text
    await worker.say("Chữ bất kỳ")
    assert "📝 Nộp sáng kiến" in worker.last().text, "after /my the dialog is paused"
    assert (await load(database_url, 1)).title == "Tiêu đề"


async def test_language_switch(bot: Harness) -> None:
    worker = await worker_at_title(bot, 411)
    await worker.say("/lang")
    await worker.tap("English")
    assert "Question 1/11" in worker.last().text
    await worker.say("/lang")
    await worker.tap("Tiếng Việt")
    assert "Câu hỏi 1/11" in worker.last().text
