"""A worker who types instead of tapping: choices by name or number, command words,
going back without retyping, and prompts that name only the buttons they carry."""

from __future__ import annotations

import re
import unicodedata

import pytest

from domain.model import FieldOfUse, SolutionKind, Step
from tests.conftest import EXAMPLE_UNITS
from tests.fakebotapi import Call, Harness, Member
from tests.scenario import asks_consent, join
from tests.test_review import setup, submit
from tests.test_submission import load

QUOTED = re.compile(r"“([^”]+)”")


async def at_kind(bot: Harness, user_id: int) -> Member:
    """A joined worker whose new draft has a title and asks for the kind."""
    worker = bot.member(user_id, "Lan")
    await join(worker)
    await worker.say("/new")
    await worker.say("Giá treo cuộn chỉ xoay")
    assert "Câu hỏi 2/11" in worker.last().text
    return worker


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("ky thuat", SolutionKind.TECHNICAL),
        ("kỹ thuật", SolutionKind.TECHNICAL),
        ("Ky Thuat", SolutionKind.TECHNICAL),
        ("giai phap ky thuat", SolutionKind.TECHNICAL),
        ("ky thuaat", SolutionKind.TECHNICAL),
        ("quan ly", SolutionKind.MANAGEMENT),
        ("tien bo cong nghe", SolutionKind.TECHNOLOGY),
        ("2", SolutionKind.MANAGEMENT),
        ("khac", SolutionKind.OTHER),
    ],
)
async def test_a_typed_choice_is_the_choice(
    bot: Harness, database_url: str, typed: str, kind: SolutionKind
) -> None:
    worker = await at_kind(bot, 1101)
    await worker.say(typed)
    assert "Câu hỏi 3/11" in worker.last().text, worker.transcript(2)
    assert (await load(database_url, 1)).kind is kind


async def test_typed_choices_through_the_dialog(bot: Harness, database_url: str) -> None:
    worker = await at_kind(bot, 1102)
    await worker.say("ky thuat")
    await worker.say("san xuat")
    await worker.say("Công nhân phải cúi người thay cuộn chỉ.")
    await worker.say("xong")
    await worker.say("Giá treo xoay bằng thép.")
    await worker.say("Xong rồi")
    await worker.say("chua ap dung")
    await worker.say("Đỡ đau lưng.")
    await worker.say("khong xac dinh")
    await worker.say("khong")
    await worker.say("bo qua")
    await worker.say("khong")
    assert "Vui lòng kiểm tra" in worker.last().text or "kiểm tra" in worker.last().text
    draft = await load(database_url, 1)
    assert draft.step is Step.SUMMARY
    assert draft.field is FieldOfUse.PRODUCTION
    assert draft.problem == "Công nhân phải cúi người thay cuộn chỉ."
    assert draft.solution == "Giá treo xoay bằng thép."
    assert draft.applied is False and draft.benefit_known is False
    assert draft.coauthors == [] and draft.confidential is False
    await worker.say("gui duyet")
    assert "SK-000001" in worker.last().text and "gửi" in worker.last().text.lower()
    assert (await load(database_url, 1)).version == 1


async def test_ambiguous_or_unknown_text_at_a_choice_is_never_stored(
    bot: Harness, database_url: str
) -> None:
    worker = await at_kind(bot, 1103)
    await worker.say("giai phap")
    reply = worker.last()
    assert "nhiều lựa chọn" in reply.text
    assert "Câu hỏi 2/11" in reply.text and len(reply.buttons) >= 5, "the choices again"
    await worker.say("máy khâu")
    assert "gõ tên hay số" in worker.last().text
    await worker.say("9")
    assert "từ 1 đến" in worker.last().text
    assert (await load(database_url, 1)).kind is None


async def test_command_words_are_never_answers(bot: Harness, database_url: str) -> None:
    worker = await at_kind(bot, 1104)
    await worker.tap("Khác")
    await worker.tap("Khác")
    await worker.say("xong")
    assert "ít nhất một tin nhắn" in worker.last().text, "nothing to finish yet"
    await worker.say("Trước đây mất nhiều thời gian.")
    await worker.say("xong")
    assert (await load(database_url, 1)).problem == "Trước đây mất nhiều thời gian."
    await worker.say("quay lai")
    assert "Câu hỏi 4/11" in worker.last().text, "back to the problem"
    await worker.say("giữ nguyên")
    assert "Câu hỏi 5/11" in worker.last().text
    await worker.say("Giải pháp mới.")
    await worker.say("xong")
    await worker.tap("Chưa áp dụng")
    await worker.say("back")
    assert "Câu hỏi 6/11" in worker.last().text
    draft = await load(database_url, 1)
    assert draft.effect is None and draft.solution == "Giải pháp mới."
    await worker.say("bỏ qua")
    assert "Câu hỏi 7/11" in worker.last().text, "skipping keeps the answer given"
    await worker.say("bỏ qua")
    assert "không bỏ qua được" in worker.last().text
    assert "Câu hỏi 7/11" in worker.last().text
    await worker.say("Hủy")
    assert "đã được lưu" in worker.last().text or "lưu" in worker.last().text
    assert "📝 Nộp sáng kiến" in worker.last().keyboard
    draft = await load(database_url, 1)
    assert draft.effect is None and draft.step is Step.EFFECT


async def test_going_back_shows_the_answer_and_keeps_it(bot: Harness, database_url: str) -> None:
    worker = await at_kind(bot, 1105)
    await worker.tap("Giải pháp kỹ thuật")
    await worker.tap("Quay lại")
    reply = worker.last()
    assert "Câu hỏi 2/11" in reply.text
    assert "Câu trả lời hiện tại: Giải pháp kỹ thuật" in reply.text
    await worker.tap("Giữ nguyên")
    assert "Câu hỏi 3/11" in worker.last().text
    await worker.tap("Quay lại")
    await worker.tap("Quay lại")
    reply = worker.last()
    assert "Câu hỏi 1/11" in reply.text and "Giá treo cuộn chỉ xoay" in reply.text
    await worker.tap("Giữ nguyên")
    await worker.tap("Giữ nguyên")
    assert "Câu hỏi 3/11" in worker.last().text
    draft = await load(database_url, 1)
    assert draft.title == "Giá treo cuộn chỉ xoay" and draft.kind is SolutionKind.TECHNICAL


def named_buttons_are_there(call: Call, typed: list[str]) -> None:
    """Every “button” a message names is on it (or is what the member typed)."""
    labels = {label for label, _data in call.buttons} | set(call.keyboard)
    for name in QUOTED.findall(call.text):
        if any(name in said for said in typed):
            continue
        assert name in labels, f"“{name}” is named but not on the message:\n{call.text}"


async def walk_every_prompt(worker: Member, lang: str) -> list[str]:
    """Go through every question, with and without answers, in ``lang``; return what was
    typed."""
    vi = lang == "vi"
    typed = ["Giá treo xoay" if vi else "Rotating spool holder", "abc", "0", "15/03/2026",
             "x", "Better work", "Anna Smith 30%"]  # fmt: skip
    await worker.say("/new")
    await worker.say(typed[0])
    await worker.tap("Khác" if vi else "Other")
    await worker.tap("Khác" if vi else "Other")
    await worker.say("Problem text")
    await worker.tap("Xong" if vi else "Done")
    await worker.say("Solution text")
    await worker.tap("Xong" if vi else "Done")
    await worker.say(typed[3])
    await worker.say(typed[5])
    await worker.say("abc")
    await worker.say("0")
    await worker.say("-5")
    await worker.say("1.5 tỷ" if vi else "1.5 billion")
    await worker.say(typed[6])
    await worker.tap("Xong" if vi else "Done")
    await worker.say("x")
    await worker.tap("Bỏ qua" if vi else "Skip")
    await worker.tap("Quay lại" if vi else "Back")
    await worker.tap("Bỏ qua" if vi else "Skip")
    await worker.tap("Không" if vi else "No")
    await worker.tap("✏️")
    return typed


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_every_prompt_names_only_buttons_on_it(bot: Harness, lang: str) -> None:
    worker = bot.member(1106, "Lan")
    await join(worker)
    if lang == "en":
        await worker.say("/lang")
        await worker.tap("English")
    start = len(bot.api.sent_to(worker.id))
    typed = await walk_every_prompt(worker, lang)
    messages = bot.api.sent_to(worker.id)[start:]
    assert len(messages) > 20
    for call in messages:
        named_buttons_are_there(call, typed)


def vietnamese_in(text: str, allowed: list[str]) -> list[str]:
    """Words with Vietnamese letters, once names and what the member typed are removed."""
    for name in allowed:
        text = text.replace(name, "")
    return [word for word in text.split()
            if any(ch in "đĐ" or unicodedata.decomposition(ch) for ch in word
                   if ch.isalpha())]  # fmt: skip


async def test_english_has_no_vietnamese_left(bot: Harness) -> None:
    worker = bot.member(1107, "Anna")
    await worker.say("/start HN-LB-MAY10")
    await worker.say("/lang")
    await worker.tap("English")
    await worker.tap("Yes, join")
    await worker.tap("I agree")
    await worker.say("Anna Smith")
    await worker.say("Skip")
    start = len(bot.api.sent_to(worker.id))
    typed = await walk_every_prompt(worker, "en")
    await worker.tap("Keep as it is")
    await worker.tap("Read in full")
    await worker.tap("Submit for review")
    await worker.say("/my")
    await worker.say("/help")
    await worker.say("/settings")
    await worker.say("/stats")
    units = [line.split(",")[1] for line in EXAMPLE_UNITS.read_text().splitlines()[1:]]
    allowed = sorted([*units, *typed], key=len, reverse=True)
    for call in bot.api.sent_to(worker.id)[start:]:
        assert not vietnamese_in(call.text, allowed), call.text
        for label, _data in call.buttons:
            assert not vietnamese_in(label, allowed), label


async def test_typed_answers_when_joining(bot: Harness) -> None:
    worker = bot.member(1108, "Lan")
    await worker.say("/start HN-LB-MAY10")
    await worker.say("tim cong doan khac")
    assert "Gõ một phần tên" in worker.last().text or "tên công đoàn" in worker.last().text
    await worker.say("May 10")
    await worker.tap("May 10")
    await worker.say("maybe")
    assert "Bạn hãy chọn một trong các lựa chọn bên dưới nhé." in worker.last().text
    await worker.say("vâng")
    assert asks_consent(worker), "the privacy notice before the name"
    await worker.say("dong y")
    assert "Họ và tên của bạn là gì?" in worker.last().text


async def test_cancel_words_leave_any_step(bot: Harness, database_url: str) -> None:
    worker, admin, _other, _upper = await setup(bot, database_url)
    await submit(worker)
    await admin.tap("Yêu cầu bổ sung")
    await admin.say("huy")
    assert "Đã hủy." in admin.last().text
    assert (await load(database_url, 1)).status.value == "pending"


async def test_a_union_from_the_list_by_its_number(bot: Harness) -> None:
    worker = bot.member(1109, "Lan")
    await worker.say("/start")
    await worker.say("may")
    names = [label for label, _data in worker.last().buttons]
    assert len(names) >= 2, worker.transcript(2)
    await worker.say("2")
    assert names[1] in worker.last().text and "Đúng, tham gia" in str(worker.last().buttons)
    await worker.say("có")
    await worker.say("tôi đồng ý")
    assert "Họ và tên của bạn là gì?" in worker.last().text
    await worker.say("Nguyễn Thị Lan")
    await worker.say("bo qua")
    assert "📝 Nộp sáng kiến" in worker.last().keyboard, "joined without a phone"
