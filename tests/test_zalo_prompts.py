"""What a Zalo member reads has no buttons to tap: prompts say "choose", and the phone
question asks for a typed number."""

from __future__ import annotations

import re

from tests.scenario import MAY10
from tests.zalo_world import Worker, stored_member, submit_by_typing

# Words that only make sense with buttons on the screen, in either language.
_TAP_WORDS = re.compile(r"\b(bấm|nút|tap|taps|tapping|button|buttons)\b", re.IGNORECASE)


def tap_words(texts: list[str]) -> list[str]:
    """The texts that speak of tapping or of buttons."""
    return [text for text in texts if _TAP_WORDS.search(text)]


async def phone_of(database_url: str, user_id: str) -> str | None:
    """The phone number stored for a Zalo user."""
    return (await stored_member(database_url, "zalo", user_id)).phone


async def test_a_whole_submission_on_zalo_never_says_tap(zalo: Worker) -> None:
    await submit_by_typing(zalo)
    await zalo.say("/help")
    await zalo.say("khong biet")  # idle text: the menu again
    texts = zalo.texts()
    assert not tap_words(texts), tap_words(texts)
    # The prompts that used to say "bấm" were read, in their new words.
    said = "\n".join(texts)
    assert "hoặc chọn “✅ Xong”" in said
    assert "bạn chọn “📝 Nộp sáng kiến” nhé" in said
    assert "Chọn “📝 Nộp sáng kiến” để gửi ý tưởng mới." in said


async def test_a_wrong_choice_on_zalo_is_told_to_choose(zalo: Worker) -> None:
    await zalo.say(f"/start {MAY10}")
    answer = await zalo.say("có lẽ")
    assert answer[0].startswith("Bạn hãy chọn một trong các lựa chọn bên dưới nhé."), answer
    assert "1. ✅ Đúng, tham gia" in answer[-1], answer
    assert not tap_words(zalo.texts()), tap_words(zalo.texts())


async def test_the_phone_is_typed_on_zalo(zalo: Worker, database_url: str) -> None:
    await zalo.say(f"/start {MAY10}")
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
    asked = await zalo.say("Nguyễn Thị Lan")
    assert "bạn gõ số (ví dụ 0912 345 678), hoặc chọn “Bỏ qua”" in asked[-1], asked
    assert "1. Bỏ qua" in asked[-1] and "Chia sẻ" not in asked[-1], asked
    wrong = await zalo.say("12")
    assert wrong[-1].startswith("Số này có vẻ không phải số điện thoại.\n"), wrong
    assert "1. Bỏ qua" in wrong[-1], wrong
    welcome = await zalo.say("0912 345 678")
    assert welcome[-1].startswith("Chào mừng Nguyễn Thị Lan!"), welcome
    assert "1. 📝 Nộp sáng kiến" in welcome[-1], welcome
    assert await phone_of(database_url, zalo.user_id) == "0912345678"
    assert not tap_words(zalo.texts()), tap_words(zalo.texts())
