"""A member entered by a helper without the bot claims their record: the helper's
/claimcode gives a one-time code, the member sends it with /link from their own account,
answers the privacy notice themselves, and then has every right over the record."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import select

from bot.settings import UNION_TIMEZONE
from domain import privacy
from domain.claiming import CLAIM_LIFETIME, FOR_ISSUERS, PickEntered
from domain.linking import MAX_FAILURES
from domain.model import InitiativeStatus, RoleKind
from locales import Translator
from storage.models import ConsentRow, IdentityRow, InitiativeRow, MemberRow
from tests.conftest import Clock
from tests.fakebotapi import Harness, Member
from tests.scenario import AGREE, MAY10, answer_all, asks_consent, join
from tests.test_consent import member_row, rows
from tests.test_review import ADMIN_A, grant, notice
from tests.zalo_world import Worker

HELPER, PERSON, OTHER_HELPER = 1901, 1902, 1903
TEO = "Phạm Văn Tèo"
_CODE = re.compile(r"/link (\d{4} \d{4})")
SAY = Translator(UNION_TIMEZONE)


async def enter_for_teo(helper: Member, name: str = TEO) -> None:
    """The helper submits an initiative for a member who does not use the bot, stating
    that they agreed to the privacy notice."""
    await helper.say("/new")
    await helper.tap("Nộp thay đoàn viên")
    await helper.say(name)
    await helper.tap("chưa dùng bot")
    await helper.say("đồng ý")
    await answer_all(helper)
    await helper.tap("Gửi duyệt")


async def claim_code(helper: Member, typed: str = "teo", name: str = TEO) -> str:
    """The code /claimcode shows for the member found by ``typed``."""
    await helper.say("/claimcode")
    await helper.say(typed)
    await helper.tap(name)
    found = _CODE.search(helper.last().text)
    assert found, helper.transcript(3)
    return found.group(1)


async def teo(database_url: str) -> Any:
    """Tèo's member row."""
    [row] = await rows(database_url, select(MemberRow).where(MemberRow.full_name == TEO))
    return row


async def consent_actions(database_url: str, member_id: int) -> list[tuple[str, str]]:
    found = await rows(database_url, select(ConsentRow).where(ConsentRow.member_id == member_id)
                       .order_by(ConsentRow.id))  # fmt: skip
    return [(c.action, c.channel) for c in found]


async def accounts(database_url: str, member_id: int) -> set[str]:
    found = await rows(database_url, select(IdentityRow).where(IdentityRow.member_id == member_id))
    return {f"{i.channel}:{i.external_id}" for i in found}


async def helper_with_teo(bot: Harness, database_url: str) -> Member:
    await grant(database_url, MAY10, ADMIN_A)
    await grant(database_url, MAY10, HELPER, kind=RoleKind.HELPER)
    helper = bot.member(HELPER, "Tổ")
    await enter_for_teo(helper)
    return helper


async def test_the_member_claims_consents_and_sees_and_erases_their_record(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    helper = await helper_with_teo(bot, database_url)
    code = await claim_code(helper)
    shown = helper.last().text
    assert TEO in shown and "/link" in shown, shown
    until = (clock.now + CLAIM_LIFETIME).astimezone(UNION_TIMEZONE).strftime("%H:%M %d/%m/%Y")
    assert until in shown, shown
    entered = await teo(database_url)
    assert await accounts(database_url, entered.id) == {f"proxy:{entered.external_id}"}

    person = bot.member(PERSON, "Tèo")
    await person.say("/start")
    await person.say(f"/link {code}")
    assert asks_consent(person) and TEO in person.last().text, person.transcript(2)
    await person.say("/my")
    assert asks_consent(person), "nothing but the exempt commands before their own answer"
    await person.tap(AGREE)
    claimed = await teo(database_url)
    assert claimed.id == entered.id and claimed.consent_version == privacy.NOTICE_VERSION
    assert await accounts(database_url, claimed.id) == {f"telegram:{PERSON}"}
    assert await consent_actions(database_url, claimed.id) == [
        ("stated", "helper"), ("given", "telegram")]  # fmt: skip

    await person.say("/my")
    assert "SK-000001" in person.last().text, person.transcript(2)
    calls = await person.say("/mydata")
    (copy,) = [data for call in calls if call.method == "sendDocument"
               for data in call.files.values() if data.startswith(b"{")]  # fmt: skip
    assert [i["title"] for i in json.loads(copy)["initiatives"]] == ["Giá treo cuộn chỉ xoay"]

    await person.say("/xoadulieu")
    await person.say("XÓA")
    erased = await member_row(database_url, "erased", f"erased-{claimed.id}")
    assert erased is not None and erased.full_name is None and erased.erased_at is not None
    [initiative] = await rows(database_url, select(InitiativeRow))
    assert initiative.author_id == claimed.id and initiative.status == InitiativeStatus.PENDING


async def test_in_english_a_refusal_hands_the_record_back_and_a_new_code_works(
    bot: Harness, database_url: str
) -> None:
    helper = await helper_with_teo(bot, database_url)
    code = await claim_code(helper)
    person = bot.member(PERSON, "Tom")
    await person.say("/lang")
    await person.tap("English")
    await person.say(f"/link {code}")
    assert f"This is your record now: {TEO}" in person.last().text, person.transcript(2)
    assert "answer it yourself" in person.last().text
    await person.tap("❌ I do not agree")
    told = person.last().text
    assert "no longer leads to the record" in told and "/xoadulieu" in told, told
    entered = await teo(database_url)
    assert entered.channel == "proxy" and entered.consent_version == privacy.NOTICE_VERSION
    assert await accounts(database_url, entered.id) == {f"proxy:{entered.external_id}"}
    assert await consent_actions(database_url, entered.id) == [
        ("stated", "helper"), ("refused", "telegram")]  # fmt: skip
    [initiative] = await rows(database_url, select(InitiativeRow))
    assert initiative.author_id == entered.id, "the record stays as the helper entered it"

    await person.say("/my")
    assert "grassroots union" in person.last().text, "a new account: asked to join"
    code = await claim_code(helper)
    await person.say(f"/link {code}")
    assert asks_consent(person), person.transcript(2)
    await person.say("no")
    assert "no longer leads to the record" in person.last().text, "handed back again"
    code = await claim_code(helper)
    await person.say(f"/link {code}")
    await person.say("I agree")
    await person.say("/my")
    assert "SK-000001" in person.last().text, person.transcript(2)


async def test_wrong_expired_replaced_and_used_codes_are_refused(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    helper = await helper_with_teo(bot, database_url)
    person = bot.member(PERSON, "Tèo")
    old = await claim_code(helper)
    code = await claim_code(helper)
    await person.say(f"/link {old}")
    assert "sai hoặc đã hết hạn" in person.last().text, "a new code replaces the old one"
    clock.now += CLAIM_LIFETIME + dt.timedelta(minutes=1)
    await person.say(f"/link {code}")
    assert "sai hoặc đã hết hạn" in person.last().text, "expired"
    assert "nhờ tổ cấp mã mới" in person.last().text, "who gives a claim code again"
    assert (await teo(database_url)).channel == "proxy"

    code = await claim_code(helper)
    for attempt in range(MAX_FAILURES - 1):
        await person.say(f"/link {10000000 + attempt}")
    await person.say(f"/link {code}")
    assert "quá nhiều lần" in person.last().text, "wrong codes count as /link's do"
    clock.now += dt.timedelta(hours=1, minutes=1)
    await person.say(f"/link {code}")
    assert asks_consent(person), person.transcript(2)
    await person.tap(AGREE)
    other = bot.member(PERSON + 1, "Bình")
    await other.say(f"/link {code}")
    assert "sai hoặc đã hết hạn" in other.last().text, "used once"
    assert (await teo(database_url)).external_id == str(PERSON)


async def test_an_account_with_records_and_members_outside_the_units_are_refused(
    bot: Harness, database_url: str
) -> None:
    helper = await helper_with_teo(bot, database_url)
    worker = bot.member(PERSON, "Lan")
    await join(worker, name="Nguyễn Thị Lan")
    await worker.say("/claimcode")
    assert SAY.render(FOR_ISSUERS, "vi") in worker.last().text, "for helpers and admins only"
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("Gửi duyệt")
    code = await claim_code(helper)
    await worker.say(f"/link {code}")
    assert not asks_consent(worker), worker.transcript(2)
    assert (await teo(database_url)).channel == "proxy", "the account keeps its own record"
    await helper.say(f"/link {await claim_code(helper)}")
    assert (await teo(database_url)).channel == "proxy", "the helper holds a role"

    # A member with an account of their own gets no code; one of another union neither.
    await helper.say("/claimcode lan")
    assert not helper.last().buttons, helper.transcript(2)
    await grant(database_url, "TH-KCN-ANNORA", OTHER_HELPER, kind=RoleKind.HELPER)
    other_helper = bot.member(OTHER_HELPER, "Khác")
    await enter_for_teo(other_helper, name="Lê Văn Xa")
    [far] = await rows(database_url, select(MemberRow).where(MemberRow.full_name == "Lê Văn Xa"))
    calls = await helper.press(PickEntered(far.id).encode())
    assert notice(calls), "not in the helper's units"
    calls = await worker.press(PickEntered((await teo(database_url)).id).encode())
    assert notice(calls), "not a helper"
    admin = bot.member(ADMIN_A, "An")
    await admin.say("/claimcode tèo")
    await admin.tap(TEO)
    assert _CODE.search(admin.last().text), "an admin of the union may make one"


async def test_on_zalo_the_member_claims_by_typing(zalo: Worker, database_url: str) -> None:
    helper = await helper_with_teo(zalo.harness, database_url)
    code = await claim_code(helper)
    asked = await zalo.say(f"/link {code}")
    assert TEO in asked[0] and "/xoadulieu" in asked[-1], asked
    await zalo.say("đồng ý")
    answer = await zalo.say("/my")
    assert any("SK-000001" in text for text in answer), answer
    claimed = await teo(database_url)
    assert await consent_actions(database_url, claimed.id) == [
        ("stated", "helper"), ("given", "zalo")]  # fmt: skip
