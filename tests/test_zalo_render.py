"""What a Zalo member reads: choices as numbered lines, long texts in pieces Zalo takes,
and what each kind of Zalo event means to the core."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from domain import dialog
from domain.model import Initiative, InitiativeStatus, Step
from domain.numbered import chosen, numbered
from domain.text import Verbatim, _, verbatim
from domain.ui import (
    MAIN_MENU,
    SKIP_PHONE,
    Button,
    Command,
    Inbound,
    KeyButton,
    Reply,
    Sender,
    TextMessage,
    Unsupported,
    caption_length,
)
from handlers.zalo.api import ZaloEvent
from handlers.zalo.inbound import UNSUPPORTED_HERE, inbound_of, payload_of
from handlers.zalo.render import CAPABILITIES, CHANNEL, notification, render, split_text
from locales import Translator

TRANSLATOR = Translator(ZoneInfo("Asia/Ho_Chi_Minh"))
NOW = dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC)
LIMIT = 2000


def show(reply: Reply, language: str = "vi") -> list[str]:
    return render(reply, TRANSLATOR, language)


def kind_question() -> Reply:
    """The submission dialog's question on the kind of solution, as the core asks it."""
    draft = Initiative(id=12, author_id=1, entered_by_id=1, unit_id=1,
                       status=InitiativeStatus.DRAFT, created_at=NOW, updated_at=NOW,
                       step=Step.KIND)  # fmt: skip
    return dialog.question(draft)


# -- numbered choices --------------------------------------------------------------


def test_zalo_declares_what_it_can_show() -> None:
    assert CHANNEL == "zalo"
    assert not CAPABILITIES.buttons
    assert (CAPABILITIES.text_limit, CAPABILITIES.caption_limit) == (LIMIT, LIMIT)
    assert CAPABILITIES.queued


def test_a_question_numbers_its_buttons_in_vietnamese() -> None:
    assert show(kind_question()) == [
        "Câu hỏi 2/11\n"
        "Sáng kiến thuộc loại giải pháp nào?\n"
        "1. Giải pháp kỹ thuật\n"
        "2. Giải pháp quản lý\n"
        "3. Giải pháp tác nghiệp\n"
        "4. Ứng dụng tiến bộ kỹ thuật/công nghệ\n"
        "5. Khác\n"
        "6. ⬅️ Quay lại\n"
        "Trả lời bằng số thứ tự của lựa chọn (1–6)."
    ]


def test_a_question_numbers_its_buttons_in_english() -> None:
    assert show(kind_question(), "en") == [
        "Question 2/11\n"
        "What kind of solution is it?\n"
        "1. Technical solution\n"
        "2. Management solution\n"
        "3. Operational solution\n"
        "4. Applying technical or technological progress\n"
        "5. Other\n"
        "6. ⬅️ Back\n"
        "Reply with the number of your choice (1–6)."
    ]


def test_the_numbers_shown_are_the_ones_the_core_reads() -> None:
    question = kind_question()
    lines = show(question, "en")[0].split("\n")
    typed = lines[lines.index("6. ⬅️ Back")].split(".")[0]
    back = next(b for row in question.buttons for b in row if b.label == dialog.BACK)
    assert numbered(question)[int(typed) - 1].code == back.code


def test_a_reply_without_choices_asks_for_no_number() -> None:
    reply = Reply((_("What is your full name?"),))
    assert show(reply) == ["Họ và tên của bạn là gì?"]
    assert show(reply, "en") == ["What is your full name?"]


def test_a_single_choice_is_answered_with_1() -> None:
    use_name = Button(_("Use “{name}”", name=Verbatim("Lê Thị Hoa")), "j:name")
    reply = Reply((_("What is your full name?"),), ((use_name,),))
    assert show(reply) == ["Họ và tên của bạn là gì?\n1. Dùng tên “Lê Thị Hoa”\nTrả lời 1 để chọn."]
    assert show(reply, "en")[0].endswith("\n1. Use “Lê Thị Hoa”\nReply 1 to choose it.")


def test_the_menu_keyboard_becomes_numbered_commands() -> None:
    reply = Reply((_("You stay in your current union."),), keyboard=MAIN_MENU)
    assert show(reply) == [
        "Bạn vẫn ở công đoàn hiện tại.\n"
        "1. 📝 Nộp sáng kiến\n"
        "2. 📋 Sáng kiến của tôi\n"
        "3. ❓ Hướng dẫn\n"
        "Trả lời bằng số thứ tự của lựa chọn (1–3)."
    ]
    assert [chosen(choice.stored()) for choice in numbered(reply)] == [
        Command("new"),
        Command("my"),
        Command("help"),
    ]


def test_the_phone_question_offers_no_contact_sharing() -> None:
    share = KeyButton(_("📱 Share my phone number"), request_contact=True)
    reply = Reply((_("What is your full name?"),),
                  keyboard=((share,), (KeyButton(SKIP_PHONE, command="skip"),)))  # fmt: skip
    assert show(reply) == ["Họ và tên của bạn là gì?\n1. Bỏ qua\nTrả lời 1 để chọn."]
    assert "Share" not in show(reply, "en")[0]
    assert chosen(numbered(reply)[0].stored()) == Command("skip")


def test_a_picture_goes_as_its_text_for_now() -> None:
    photo = Reply((verbatim("Bảng xếp hạng tuần này"),), photo="https://example.org/chart.png")
    assert show(photo) == ["Bảng xếp hạng tuần này"]
    assert show(Reply((), photo="https://example.org/chart.png")) == []


def test_a_notification_reads_as_a_reply() -> None:
    assert notification(kind_question(), TRANSLATOR, "en") == show(kind_question(), "en")


# -- long texts --------------------------------------------------------------------


def long_description() -> str:
    """About 10.000 characters: paragraphs of lines of sentences, as a worker writes."""
    sentence = "Tổ {n} đã thay đổi cách cấp phôi cho máy dập số {n}, nên giảm thời gian chờ."
    paragraphs = []
    for p in range(11):
        lines = [" ".join(sentence.format(n=p * 100 + 10 * line + s) for s in range(3))
                 for line in range(4)]  # fmt: skip
        paragraphs.append("\n".join(lines))
    text = "\n\n".join(paragraphs)
    assert 9_900 < len(text) < 10_500
    return text


def words(texts: list[str]) -> list[str]:
    return " ".join(texts).split()


def test_a_long_text_goes_in_pieces_cut_between_sentences_with_the_choices_last() -> None:
    text = long_description()
    reply = Reply((verbatim(text),), ((Button(_("✅ Done"), "d:1"), Button(dialog.BACK, "d:2")),))
    pieces = show(reply)
    choices = "1. ✅ Xong\n2. ⬅️ Quay lại\nTrả lời bằng số thứ tự của lựa chọn (1–2)."
    assert len(pieces) >= 5
    assert all(caption_length(piece) <= LIMIT for piece in pieces)
    assert words(pieces) == words([text, choices])
    assert pieces[-1].endswith("giảm thời gian chờ.\n" + choices)
    for piece in pieces[:-1]:
        assert piece.endswith("giảm thời gian chờ.")
        assert piece[0].isupper()
    assert not any(choices in piece for piece in pieces[:-1])


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Đoạn {n}. " + "Mỗi câu ở đây dài vừa phải. " * 50 for n in range(4)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    assert split_text(text) == [p.strip() for p in paragraphs]


def test_lines_without_sentences_are_cut_at_line_ends() -> None:
    lines = [f"- vật tư {n:03d}: 12 cuộn dây, 4 hộp ốc vít, găng tay bảo hộ" for n in range(200)]
    pieces = split_text("\n".join(lines))
    assert all(caption_length(piece) <= LIMIT for piece in pieces)
    assert [line for piece in pieces for line in piece.split("\n")] == lines


def test_a_single_word_too_long_is_the_only_thing_cut_mid_word() -> None:
    link = "https://example.org/" + "a" * 4480
    pieces = split_text(f"Xem ở đây: {link} nhé.")
    assert [len(piece) for piece in pieces] == [
        len("Xem ở đây:"),
        2000,
        2000,
        len("a" * 500 + " nhé."),
    ]
    assert "".join(pieces[1:]) == f"{link} nhé."


def test_emoji_count_twice_and_are_never_broken() -> None:
    pieces = split_text("🔧" * 1500)
    assert pieces == ["🔧" * 1000, "🔧" * 500]


def test_choices_too_long_for_the_last_piece_come_alone_and_whole() -> None:
    text = "Câu trả lời rất dài. " * 95  # just under 2.000 characters
    reply = Reply((verbatim(text.strip()),), ((Button(dialog.BACK, "d:2"),),))
    assert show(reply) == [text.strip(), "1. ⬅️ Quay lại\nTrả lời 1 để chọn."]


# -- events in ---------------------------------------------------------------------


def event(name: str, chat_type: str = "PRIVATE", **fields: str) -> ZaloEvent:
    return ZaloEvent(
        event_name=name,  # type: ignore[arg-type]
        message_id="7b1f0c2a9e",
        date=NOW,
        sender_id="6ad4a2e1b7",
        sender_name="Nguyễn Văn An",
        sender_is_bot=False,
        chat_id="6ad4a2e1b7",
        chat_type=chat_type,  # type: ignore[arg-type]
        **fields,
    )


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("Máy dập số 3 hay kẹt phôi", TextMessage("Máy dập số 3 hay kẹt phôi")),
        ("2", TextMessage("2")),
        ("/start", Command("start")),
        ("/HELP", Command("help")),
        ("/start ABC123", Command("start", "ABC123")),
        (
            " /tu_choi SK-000123 trùng ý\ntưởng cũ ",
            Command("tu_choi", "SK-000123 trùng ý\ntưởng cũ"),
        ),
    ],
)
def test_a_text_is_a_message_or_a_command(text: str, payload: object) -> None:
    assert payload_of(event("message.text.received", text=text)) == payload


@pytest.mark.parametrize(
    ("name", "fields", "kind"),
    [
        ("message.sticker.received", {"sticker": "bd3b0e3a"}, "sticker"),
        ("message.voice.received", {"voice_url": "https://zalo.example/v.aac"}, "voice"),
        ("message.image.received", {"photo_url": "https://zalo.example/p.jpg"}, "other"),
    ],
)
def test_what_the_core_cannot_use_yet_is_unsupported(
    name: str, fields: dict[str, str], kind: str
) -> None:
    assert payload_of(event(name, **fields)) == Unsupported(kind)


@pytest.mark.parametrize(
    "zalo_event",
    [
        event("message.unsupported.received"),
        event("message.text.received", "GROUP", text="/start"),
        event("message.sticker.received", "GROUP", sticker="bd3b0e3a"),
        event("message.text.received", text="  "),
    ],
)
def test_withheld_and_group_events_reach_no_one_and_get_a_kind_word(
    zalo_event: ZaloEvent,
) -> None:
    assert payload_of(zalo_event) is None
    assert inbound_of(zalo_event) is None
    assert TRANSLATOR.render(UNSUPPORTED_HERE, "vi") == (
        "Xin lỗi, mình chưa đọc được tin nhắn này. "
        "Bạn nhắn chữ cho mình trong cuộc trò chuyện riêng nhé."
    )


def test_an_event_is_claimed_by_its_message_id() -> None:
    assert inbound_of(event("message.text.received", text="Xin chào")) == Inbound(
        Sender("zalo", "6ad4a2e1b7", "Nguyễn Văn An"),
        TextMessage("Xin chào"),
        event_id="zalo:7b1f0c2a9e",
    )


def test_one_long_line_is_cut_between_sentences() -> None:
    sentences = [
        f"Ca {n} kiểm tra khuôn trước khi chạy máy, nên ít hàng lỗi hơn." for n in range(165)
    ]
    text = " ".join(sentences)
    assert "\n" not in text and len(text) > 10_000
    pieces = split_text(text)
    assert all(caption_length(piece) <= LIMIT for piece in pieces)
    assert [s for piece in pieces for s in re.split(r"(?<=\.) ", piece)] == sentences
