"""/settings: a member corrects the name and phone number the union has of them, on
Telegram (buttons, a shared contact) and on Zalo (numbered choices), with every way back
changing nothing and bad input asked again, on both engines."""

from __future__ import annotations

from sqlalchemy import select

from bot.settings import UNION_TIMEZONE
from domain.dialog import BACK
from domain.joining import SHARE_PHONE
from domain.model import DialogState, Member
from domain.parsing import normalize_search
from domain.preferences import NOT_JOINED, UNCHANGED, CorrectName
from domain.text import Text, _
from locales import Translator
from storage.db import create_engine
from storage.models import MemberRow
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Harness
from tests.fakebotapi import Member as Person
from tests.scenario import MAY10, join
from tests.zalo_world import Worker, stored_member

SAY = Translator(UNION_TIMEZONE)
LAN = 4301
CORRECT_NAME, CORRECT_PHONE = _("✏️ Correct my name"), _("📞 Correct my phone number")
DELETE_PHONE = _("🗑 Delete my phone number")
STICKER = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512,
           "height": 512, "is_animated": False, "is_video": False}  # fmt: skip


def vi(text: Text) -> str:
    return SAY.render(text, "vi")


async def state_and_search_name(database_url: str, member: Member) -> tuple[DialogState, str]:
    """Where the member's dialog stands, and the folded name search finds them by."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            state = (await uow.conversations.get(member.id)).state
            found = await uow.execute(
                select(MemberRow.search_name).where(MemberRow.id == member.id)
            )
            return state, str(found.scalar_one())
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def telegram_lan(database_url: str) -> Member:
    return await stored_member(database_url, "telegram", str(LAN))


def labels(worker: Person) -> list[str]:
    return [label for label, _data in worker.last().buttons]


async def test_a_member_corrects_the_name_on_telegram(bot: Harness, database_url: str) -> None:
    lan = bot.member(LAN, "Lan")
    await join(lan)
    await lan.say("/settings")
    shown = lan.last()
    assert vi(_("Name: {name}", name="Nguyễn Thị Lan")) in shown.text
    assert vi(_("Phone: {phone}", phone=_("not given"))) in shown.text
    assert labels(lan)[:2] == [vi(CORRECT_NAME), vi(CORRECT_PHONE)]
    assert vi(DELETE_PHONE) not in labels(lan), "no phone, nothing to delete"

    await lan.tap(vi(CORRECT_NAME))
    assert "Nguyễn Thị Lan" in lan.last().text and labels(lan) == [vi(BACK)]
    state, _folded = await state_and_search_name(database_url, await telegram_lan(database_url))
    assert state is DialogState.SETTINGS_NAME, "the step is a row: a restart keeps it"
    question = vi(_("Type your full name as your union should see it, or 0 to go back."))
    refusals = [
        (lan.send(sticker=STICKER), vi(_("Sorry, I cannot use {what} here.",
                                         what=_("a sticker")))),
        (lan.say("x" * 10_000), vi(_("This text has {length} characters; please shorten it "
                                     "to at most {limit}.", length=10_000, limit=100))),
        (lan.say("   "), vi(_("Please type some text."))),
        (lan.say("0912 345 678"), vi(_("Please type your full name ({minimum} to {maximum} "
                                       "letters).", minimum=2, maximum=100))),
    ]  # fmt: skip
    for sent, refusal in refusals:
        await sent
        assert refusal in lan.last().text and question in lan.last().text, lan.transcript(1)
    await lan.say("0")
    assert vi(UNCHANGED) in lan.last().text and vi(CORRECT_NAME) in labels(lan)
    assert (await telegram_lan(database_url)).full_name == "Nguyễn Thị Lan"

    await lan.tap(vi(CORRECT_NAME))
    await lan.tap(vi(BACK))
    assert vi(UNCHANGED) in lan.last().text
    await lan.tap(vi(CORRECT_NAME))
    await lan.say("/cancel")
    assert vi(UNCHANGED) in lan.last().text and "📝 Nộp sáng kiến" in lan.last().keyboard

    await lan.tap(vi(CORRECT_NAME))
    await lan.say("  Nguyễn   Thị Lan  Anh ")
    assert vi(_("✅ Your name is now: {name}", name="Nguyễn Thị Lan Anh")) in lan.last().text
    member = await telegram_lan(database_url)
    state, folded = await state_and_search_name(database_url, member)
    assert (member.full_name, state) == ("Nguyễn Thị Lan Anh", DialogState.IDLE)
    assert folded == normalize_search("Nguyễn Thị Lan Anh"), "search finds the new name"
    summary = next(c for c in await lan.say("/mydata") if c.method == "sendMessage")
    assert "Nguyễn Thị Lan Anh" in summary.text, "read from the member"


async def test_a_member_corrects_and_deletes_the_phone_on_telegram(
    bot: Harness, database_url: str
) -> None:
    lan = bot.member(LAN, "Lan")
    await join(lan)
    await lan.say("/settings")
    await lan.tap(vi(CORRECT_PHONE))
    asked = lan.last()
    assert vi(SHARE_PHONE) in asked.keyboard and vi(BACK) in asked.keyboard
    wrong = vi(_("That does not look like a phone number."))
    for letters in ("không nhớ", "abc-def-ghij", "1" * 10_000):
        await lan.say(letters)
        assert wrong in lan.last().text and vi(SHARE_PHONE) in lan.last().keyboard
    await lan.send(contact={"phone_number": "0900000000", "first_name": "X", "user_id": 999})
    assert vi(_("Please share your own phone number with the button below.")) in lan.last().text
    # The keyboard's back button sends its label.
    await lan.say(vi(BACK))
    assert "📝 Nộp sáng kiến" in lan.harness.api.sent_to(LAN)[-2].keyboard
    assert vi(CORRECT_PHONE) in labels(lan)
    await lan.tap(vi(CORRECT_PHONE))
    await lan.say("menu")
    assert vi(UNCHANGED) in lan.last().text
    assert (await telegram_lan(database_url)).phone is None

    await lan.say("/settings")
    await lan.tap(vi(CORRECT_PHONE))
    await lan.send(contact={"phone_number": "+84 912 345 678", "first_name": "Lan",
                            "user_id": LAN})  # fmt: skip
    assert vi(_("✅ Your phone number is now: {phone}", phone="+84912345678")) in lan.last().text
    assert (await telegram_lan(database_url)).phone == "+84912345678"
    await lan.say("/settings")
    await lan.tap(vi(CORRECT_PHONE))
    await lan.say("0987.654.321")
    assert (await telegram_lan(database_url)).phone == "0987654321"

    await lan.say("/settings")
    assert vi(_("Phone: {phone}", phone="0987654321")) in lan.last().text
    await lan.tap(vi(DELETE_PHONE))
    assert vi(_("✅ Your phone number was deleted.")) in lan.last().text
    assert vi(DELETE_PHONE) not in labels(lan)
    assert (await telegram_lan(database_url)).phone is None


async def test_in_english_and_before_joining(bot: Harness) -> None:
    stranger = bot.member(4302, "Minh")
    await stranger.say("/start")
    await stranger.say("/settings")
    assert vi(NOT_JOINED) in stranger.last().text
    await stranger.press(CorrectName().encode())
    assert vi(NOT_JOINED) in stranger.last().text, "a button from elsewhere changes nothing"

    lan = bot.member(LAN, "Lan")
    await join(lan)
    await lan.say("/lang")
    await lan.tap("English")
    await lan.say("/settings")
    assert "Name: Nguyễn Thị Lan" in lan.last().text and "Phone: not given" in lan.last().text
    await lan.tap("Correct my name")
    assert "Your name now: Nguyễn Thị Lan" in lan.last().text
    await lan.say("Huy")  # a name, not "hủy" (cancel)
    assert "Your name is now: Huy" in lan.last().text


async def test_a_zalo_member_corrects_by_numbers(zalo: Worker, database_url: str) -> None:
    await zalo.say(MAY10)
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
    await zalo.say("Nguyễn Thị Lan")
    await zalo.choose("Bỏ qua")
    shown = "\n".join(await zalo.say("/settings"))
    assert f"1. {vi(CORRECT_NAME)}" in shown and f"2. {vi(CORRECT_PHONE)}" in shown, shown

    asked = "\n".join(await zalo.say("1"))
    assert f"1. {vi(BACK)}" in asked, asked
    refused = "\n".join(await zalo.say("12345"))
    assert vi(_("Please type your full name ({minimum} to {maximum} letters).", minimum=2,
                maximum=100)) in refused and f"1. {vi(BACK)}" in refused  # fmt: skip
    back = "\n".join(await zalo.say("1"))
    assert vi(UNCHANGED) in back and f"1. {vi(CORRECT_NAME)}" in back, back
    await zalo.say("1")
    done = "\n".join(await zalo.say("Trần Thị Lan"))
    assert vi(_("✅ Your name is now: {name}", name="Trần Thị Lan")) in done, done

    await zalo.say("/settings")
    asked = "\n".join(await zalo.say("2"))
    assert f"1. {vi(BACK)}" in asked and vi(SHARE_PHONE) not in asked, "no contact button here"
    refused = "\n".join(await zalo.say("số của tôi"))
    assert vi(_("That does not look like a phone number.")) in refused, refused
    back = "\n".join(await zalo.say("1"))
    assert vi(UNCHANGED) in back, back
    assert (await stored_member(database_url, "zalo", zalo.user_id)).phone is None
    await zalo.say("2")
    done = "\n".join(await zalo.say("0912 345 678"))
    assert vi(_("✅ Your phone number is now: {phone}", phone="0912345678")) in done, done
    shown = "\n".join(await zalo.say("/settings"))
    assert f"3. {vi(DELETE_PHONE)}" in shown, shown
    member = await stored_member(database_url, "zalo", zalo.user_id)
    assert (member.full_name, member.phone) == ("Trần Thị Lan", "0912345678")
