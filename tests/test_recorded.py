"""A worker who cannot type much: voice answers, benefit ranges, few typed answers, and
messages that fit a cheap phone's screen."""

from __future__ import annotations

import textwrap
from typing import Any

from domain.model import AttachmentKind, Step
from tests.fakebotapi import Harness, Member
from tests.scenario import join
from tests.test_review import setup
from tests.test_submission import load

# A cheap phone shows about 20 lines of 36 characters.
SCREEN_WIDTH = 36


def screen_lines(text: str) -> int:
    """How many lines a message takes on a screen 36 characters wide."""
    return sum(len(textwrap.wrap(line, SCREEN_WIDTH)) or 1 for line in text.split("\n"))


def voice(unique: str, seconds: int) -> dict[str, Any]:
    """A voice message as Telegram sends it."""
    return {"voice": {"file_id": f"voice-{unique}", "file_unique_id": unique,
                      "duration": seconds, "mime_type": "audio/ogg"}}  # fmt: skip


class Counting:
    """Counts what a member types and taps."""

    def __init__(self, worker: Member) -> None:
        self.worker = worker
        self.typed = 0
        self.taps = 0

    async def say(self, text: str) -> None:
        self.typed += 1
        await self.worker.say(text)

    async def tap(self, label: str) -> None:
        self.taps += 1
        await self.worker.tap(label)

    async def menu(self, label: str) -> None:
        """A tap on the reply keyboard (it sends the label as text)."""
        self.taps += 1
        await self.worker.say(label)


async def test_voice_answers_reach_the_summary_and_the_reviewer(
    bot: Harness, database_url: str
) -> None:
    worker, admin, _other, _upper = await setup(bot, database_url)
    person = Counting(worker)
    await person.menu("📝 Nộp sáng kiến")
    await person.say("Gá cắt chỉ thừa")
    await person.tap("Giải pháp kỹ thuật")
    await person.tap("Sản xuất")
    await worker.send(**voice("v-problem", 42))
    assert "🎤 ghi âm 0:42" in worker.last().text
    assert "0/4.000" not in worker.last().text, "a recording is not 0 characters written"
    await person.tap("Xong")
    await worker.send(**voice("v-solution", 75))
    await person.tap("Xong")
    await person.tap("Chưa áp dụng")
    await worker.send(**voice("v-effect", 20))
    assert "Câu hỏi 8/11" in worker.last().text, "a recorded effect is the answer"
    await person.tap("10–100 triệu")
    await person.tap("Không có đồng tác giả")
    await person.tap("Bỏ qua")
    await person.tap("Không")
    summary = worker.last().text
    for expected in ("Hiện trạng: 🎤 ghi âm 0:42", "🎤 ghi âm 1:15", "🎤 ghi âm 0:20",
                     "10–100 triệu", "Tệp đính kèm: 0"):  # fmt: skip
        assert expected in summary, (expected, summary)
    await person.tap("Gửi duyệt")
    assert person.typed == 1 and person.taps <= 15, (person.typed, person.taps)
    draft = await load(database_url, 1)
    assert [(a.kind, a.answer, a.duration) for a in draft.attachments] == [
        (AttachmentKind.VOICE, Step.PROBLEM.value, 42),
        (AttachmentKind.VOICE, Step.SOLUTION.value, 75),
        (AttachmentKind.VOICE, Step.EFFECT.value, 20),
    ]
    assert draft.benefit_range == "10m" and draft.benefit_vnd == 10_000_000
    card = bot.api.sent_to(admin.id)[-1]
    assert "🎤 ghi âm 0:42" in card.text, card.text
    before = len(bot.api.calls)
    await admin.tap("Xem đầy đủ")
    voices = [c for c in bot.api.calls[before:] if c.method == "sendVoice"]
    assert [c.params["voice"] for c in voices] == ["voice-v-problem", "voice-v-solution",
                                                   "voice-v-effect"]  # fmt: skip


async def test_a_recording_where_text_is_needed_is_refused_kindly(
    bot: Harness, database_url: str
) -> None:
    worker = bot.member(1201, "Lan")
    await join(worker)
    await worker.say("/new")
    await worker.send(**voice("v-title", 5))
    assert "tin nhắn thoại chỉ dùng được" in worker.last().text
    assert "Câu hỏi 1/11" in worker.last().text
    await worker.send(video_note={"file_id": "vn", "file_unique_id": "vn", "length": 240,
                                  "duration": 9})  # fmt: skip
    assert "Câu hỏi 1/11" in worker.last().text
    assert (await load(database_url, 1)).attachments == []


async def test_benefit_ranges_and_typed_amounts_in_english(bot: Harness, database_url: str) -> None:
    worker = bot.member(1202, "Anna")
    await join(worker)
    await worker.say("/lang")
    await worker.tap("English")
    await worker.say("/new")
    await worker.say("Spool holder")
    for label in ("Other", "Other"):
        await worker.tap(label)
    await worker.say("Before.")
    await worker.tap("Done")
    await worker.say("After.")
    await worker.tap("Done")
    await worker.tap("Not applied yet")
    await worker.say("Faster.")
    await worker.say("1.5 billion")
    assert "₫1,500,000,000" in worker.last().text
    await worker.tap("Back")
    assert "Current answer: ₫1,500,000,000" in worker.last().text
    await worker.say("200m")
    assert (await load(database_url, 1)).benefit_vnd == 200_000_000
    await worker.tap("Back")
    await worker.tap("Over 1 billion")
    draft = await load(database_url, 1)
    assert (draft.benefit_range, draft.benefit_vnd) == ("1b", 1_000_000_000)
    await worker.tap("Back")
    assert "Current answer: Over 1 billion" in worker.last().text
    await worker.say("lots")
    assert "choose “Cannot estimate”" in worker.last().text


async def test_the_summary_fits_a_phone_screen(bot: Harness, database_url: str) -> None:
    worker = bot.member(1203, "Lan")
    await join(worker)
    await worker.say("/new")
    await worker.say("Giá treo cuộn chỉ xoay bằng thép tận dụng cho máy may công nghiệp " * 2)
    await worker.tap("Ứng dụng tiến bộ")
    await worker.tap("An toàn lao động")
    await worker.say("Công nhân phải cúi người thay cuộn chỉ, mất năm phút mỗi lần. " * 60)
    await worker.tap("Xong")
    await worker.say("Giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong một phút. " * 60)
    await worker.tap("Xong")
    await worker.say("15/03/2026")
    await worker.say("Giảm tám mươi phần trăm thời gian thay chỉ, đỡ đau lưng. " * 60)
    await worker.say("1,5 tỷ")
    await worker.say("Trần Văn Bình 30%\nLê Thị Cúc 12,5%")
    await worker.tap("Xong")
    await worker.tap("Bỏ qua")
    await worker.tap("Có")
    await worker.say("Bản vẽ kích thước giá treo và vị trí lắp đặt trên máy. " * 30)
    summary = worker.last()
    assert "Vui lòng kiểm tra" in summary.text or "kiểm tra" in summary.text
    assert screen_lines(summary.text) <= 20, summary.text
    assert "chừa đ…" not in summary.text
    before = len(bot.api.sent_to(worker.id))
    await worker.tap("Xem đầy đủ")
    full = "\n".join(c.text for c in bot.api.sent_to(worker.id)[before:])
    assert "đỡ đau lưng. Giảm tám mươi" in full, "every answer in full"
    assert "Gửi duyệt" in str(worker.last().buttons), "the summary comes again, to submit"
