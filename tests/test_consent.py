"""Consent to the privacy notice: at joining before any name is stored, refused with
nothing kept, asked again of members from before it existed and after it changes, and
stated by a helper for a member who does not use the bot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from alembic import command
from sqlalchemy import Connection, select, text

from domain import privacy
from domain.model import RoleKind
from storage.db import alembic_config, create_engine, upgrade
from storage.models import ConsentRow, ConversationRow, IdentityRow, MemberRow
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import Harness
from tests.scenario import AGREE, MAY10, REFUSE, asks_consent, join
from tests.test_invites import invite
from tests.test_review import grant
from tests.test_submission import load
from tests.zalo_world import Worker, start_draft

WORKER, HELPER = 1701, 1702


async def rows(database_url: str, statement: Any) -> list[Any]:
    """Rows of one query, straight from the database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(statement))
    finally:
        await engine.dispose()


async def member_row(database_url: str, channel: str, external_id: str) -> Any:
    found = await rows(database_url, select(MemberRow).where(
        MemberRow.channel == channel, MemberRow.external_id == external_id))  # fmt: skip
    return found[0] if found else None


async def consents(database_url: str) -> list[Any]:
    return await rows(database_url, select(ConsentRow).order_by(ConsentRow.id))


async def test_consent_comes_before_the_name_and_is_recorded(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    worker = bot.member(WORKER, "Lan", "Nguyễn")
    await worker.say(f"/start {MAY10}")
    await worker.tap("Đúng")
    notice = worker.last()
    assert [label for label, _ in notice.buttons] == [AGREE, REFUSE]
    assert "/xoadulieu" in notice.text and "/mydata" in notice.text
    stored = await member_row(database_url, "telegram", str(WORKER))
    assert stored.display_name == str(WORKER), "the app's name is not stored before consent"
    assert stored.full_name is None and stored.unit_id is None and stored.consent_version is None
    assert await consents(database_url) == []

    await worker.tap(AGREE)
    assert [label for label, _ in worker.last().buttons] == ["Dùng tên “Lan Nguyễn”"]
    [given] = await consents(database_url)
    assert (given.member_id, given.version, given.action, given.channel) == (
        stored.id, privacy.NOTICE_VERSION, "given", "telegram")  # fmt: skip
    assert given.at == clock.now and given.stated_by_id is None
    await worker.tap("Lan Nguyễn")
    await worker.say("Bỏ qua")
    joined = await member_row(database_url, "telegram", str(WORKER))
    assert joined.full_name == "Lan Nguyễn" and joined.consent_version == privacy.NOTICE_VERSION
    assert joined.display_name == "Lan Nguyễn"
    await worker.say("/new")
    assert not asks_consent(worker), "asked once"


async def test_refusing_at_joining_stores_nothing_and_says_how_to_come_back(
    bot: Harness, database_url: str
) -> None:
    worker = bot.member(WORKER, "Lan")
    await worker.say(f"/start {MAY10}")
    await worker.tap("Đúng")
    await worker.tap(REFUSE)
    assert "/start" in worker.last().text and "QR" in worker.last().text
    assert await member_row(database_url, "telegram", str(WORKER)) is None
    assert await rows(database_url, select(IdentityRow)) == []
    assert await rows(database_url, select(ConversationRow)) == []
    assert await consents(database_url) == []
    await join(worker)  # coming back is joining anew
    assert (await member_row(database_url, "telegram", str(WORKER))).full_name == "Nguyễn Thị Lan"


async def test_in_english_the_notice_and_the_refusal(bot: Harness, database_url: str) -> None:
    worker = bot.member(WORKER, "Tom")
    await worker.say("/lang")
    await worker.tap("English")
    await worker.say(f"/start {MAY10}")
    await worker.tap("Yes, join")
    assert "automatic chatbot (not a person)" in worker.last().text
    assert [label for label, _ in worker.last().buttons] == ["✅ I agree", "❌ I do not agree"]
    await worker.say("no")
    assert "nothing about you is stored" in worker.last().text and "/start" in worker.last().text
    assert await member_row(database_url, "telegram", str(WORKER)) is None


async def test_on_zalo_a_typed_dong_y_agrees(zalo: Worker, database_url: str) -> None:
    await zalo.say(MAY10)
    asked = await zalo.choose("Đúng")
    assert "1. " in asked[-1] and "2. " in asked[-1] and "/xoadulieu" in asked[-1], asked
    assert (await member_row(database_url, "zalo", zalo.user_id)).display_name == zalo.user_id
    named = await zalo.say("đồng ý")
    assert "họ và tên" in named[-1].lower(), named
    [given] = await consents(database_url)
    assert (given.action, given.channel) == ("given", "zalo")


async def test_on_zalo_a_typed_khong_refuses(zalo: Worker, database_url: str) -> None:
    await zalo.say(MAY10)
    await zalo.choose("Đúng")
    told = await zalo.say("không")
    assert "/start" in told[-1], told
    assert await member_row(database_url, "zalo", zalo.user_id) is None
    assert await consents(database_url) == []


async def test_exempt_commands_work_before_consent(bot: Harness, monkeypatch: Any) -> None:
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2099-01")
    await worker.say("/new")
    assert asks_consent(worker), "nothing else before the answer"
    await worker.say("/privacy")
    assert "tin nhắn thoại" in worker.last().text, "the full notice, in Vietnamese"
    assert asks_consent(worker), "the full notice carries the answers"
    await worker.say("/help")
    assert asks_consent(worker), "asked again after help"
    await worker.say("/lang")
    assert "English" in [label for label, _ in worker.last().buttons], "its own choice, last"
    await worker.tap("English")
    assert asks_consent(worker) and "Do you agree?" in worker.last().text


async def test_a_changed_notice_asks_again_and_a_refusal_is_recorded(
    bot: Harness, database_url: str, monkeypatch: Any
) -> None:
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    await worker.say("/new")
    await worker.say("Giá treo cuộn chỉ xoay")
    first = privacy.NOTICE_VERSION
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2099-01")
    await worker.say("Giải pháp kỹ thuật")
    assert asks_consent(worker)
    await worker.tap(REFUSE)
    assert "/xoadulieu" in worker.last().text and asks_consent(worker)
    await worker.say("/my")
    assert asks_consent(worker), "the gate stays"
    await worker.say("Đồng ý")
    assert any("Giải pháp kỹ thuật" in label for label, _ in worker.last().buttons), (
        "the question comes back"
    )
    actions = [(c.version, c.action) for c in await consents(database_url)]
    assert actions == [(first, "given"), ("2099-01", "refused"), ("2099-01", "given")]
    draft = await load(database_url, 1)
    assert draft.title == "Giá treo cuộn chỉ xoay", "the draft is intact"


async def test_a_deep_link_opened_before_consent_is_followed_after(
    bot: Harness, database_url: str, monkeypatch: Any
) -> None:
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2099-01")
    await worker.say("/start TH-KCN-ANNORA")
    assert asks_consent(worker)
    await worker.tap(AGREE)
    assert "Annora" in worker.last().text, "the union of the link is offered"


async def test_an_invitation_opened_by_a_newcomer_waits_for_consent(
    bot: Harness, database_url: str
) -> None:
    await grant(database_url, MAY10, HELPER)
    admin = bot.member(HELPER, "An")
    payload = await invite(admin, "quản trị", "CĐCS Công ty May 10")
    newcomer = bot.member(WORKER, "Bình")
    await newcomer.say(f"/start {payload}")
    assert asks_consent(newcomer)
    assert (await member_row(database_url, "telegram", str(WORKER))).display_name == str(WORKER)
    await newcomer.tap(AGREE)
    assert "quản trị" in newcomer.last().text, newcomer.transcript(2)
    assert "Bình" in admin.last().text, "the inviter learns the name given with consent"


async def test_a_helper_states_the_consent_of_a_member_without_the_bot(
    bot: Harness, database_url: str
) -> None:
    await grant(database_url, MAY10, HELPER, kind=RoleKind.HELPER)
    helper = bot.member(HELPER, "Tổ")
    await helper.say("/new")
    await helper.tap("Nộp thay đoàn viên")
    await helper.say("Phạm Văn Tèo")
    await helper.tap("chưa dùng bot")
    asked = helper.last()
    assert "Phạm Văn Tèo" in asked.text and "/privacy" in asked.text
    assert len(await rows(database_url, select(MemberRow))) == 1, "not stored before"
    await helper.say("không")
    assert len(await rows(database_url, select(MemberRow))) == 1, "only the helper is stored"
    await helper.say("/new")
    await helper.tap("Nộp thay đoàn viên")
    await helper.say("Phạm Văn Tèo")
    await helper.tap("chưa dùng bot")
    await helper.say("đồng ý")
    [stated] = [c for c in await consents(database_url) if c.action == "stated"]
    helper_row = await member_row(database_url, "telegram", str(HELPER))
    teo = (await rows(database_url, select(MemberRow).where(MemberRow.channel == "proxy")))[0]
    assert (stated.member_id, stated.channel, stated.stated_by_id, stated.version) == (
        teo.id, "helper", helper_row.id, privacy.NOTICE_VERSION)  # fmt: skip
    assert teo.full_name == "Phạm Văn Tèo" and teo.consent_version == privacy.NOTICE_VERSION


# -- a member from before consent existed ------------------------------------------------


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def _before_consent(database_url: str) -> None:
    """The database as revision 0021 left it: a joined member with a draft at its third
    question, then migrated to the head."""
    engine = create_engine(database_url)
    now = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_downgrade, "0021")
        await seed_units(database_url)
        async with engine.begin() as connection:
            found = await connection.execute(
                text("SELECT id FROM units WHERE code = :code"), {"code": MAY10}
            )
            unit = found.scalar_one()
            values = {"unit": unit, "now": now, "ext": str(WORKER)}
            await connection.execute(text(
                "INSERT INTO members (id, channel, external_id, display_name, language, full_name,"
                " unit_id, nudges, named, reachable, created_at, updated_at) VALUES (1,"
                " 'telegram', :ext, 'Lan', 'vi', 'Nguyễn Thị Lan', :unit, true, true, true, :now,"
                " :now)"), values)  # fmt: skip
            await connection.execute(text(
                "INSERT INTO identities (channel, external_id, member_id, created_at)"
                " VALUES ('telegram', :ext, 1, :now)"), values)  # fmt: skip
            await connection.execute(text(
                "INSERT INTO initiatives (id, author_id, entered_by_id, unit_id, status, step,"
                " editing, title, search_text, kind, coauthors_done, version, created_at,"
                " updated_at) VALUES (1, 1, 1, :unit, 'draft', 'field', false,"
                " 'Giá treo cuộn chỉ xoay', 'gia treo cuon chi xoay', 'technical', false, 0,"
                " :now, :now)"), values)  # fmt: skip
            await connection.execute(text(
                "INSERT INTO conversations (member_id, state, draft_id, data, updated_at)"
                " VALUES (1, 'drafting', 1, '{}', :now)"), values)  # fmt: skip
        await upgrade(engine)
    finally:
        await engine.dispose()


async def test_a_member_from_before_consent_is_asked_first_and_keeps_the_draft(
    start_bot: StartBot, database_url: str
) -> None:
    await _before_consent(database_url)
    bot = await start_bot()
    worker = bot.member(WORKER, "Lan")
    await worker.say("Sản xuất")
    assert asks_consent(worker) and "/xoadulieu" in worker.last().text
    draft = await load(database_url, 1)
    assert draft.title == "Giá treo cuộn chỉ xoay" and draft.field is None, "nothing answered"
    await worker.say("đồng ý")
    assert any("Sản xuất" in label for label, _ in worker.last().buttons), worker.transcript(2)
    await worker.tap("Sản xuất")
    draft = await load(database_url, 1)
    assert draft.field is not None and draft.title == "Giá treo cuộn chỉ xoay"
    [given] = await consents(database_url)
    assert (given.member_id, given.action) == (1, "given")


async def test_on_zalo_a_changed_notice_is_answered_by_its_number(
    zalo: Worker, database_url: str, monkeypatch: Any
) -> None:
    await start_draft(zalo)
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2099-01")
    asked = await zalo.say("Giá treo cuộn chỉ xoay")
    assert "/xoadulieu" in asked[-1] and "1. " in asked[-1], asked
    again = await zalo.say("1")
    assert "Sáng kiến của bạn tên là gì?" in again[-1], ("the question comes back", again)
    assert [c.action for c in await consents(database_url)] == ["given", "given"]
    assert (await member_row(database_url, "zalo", zalo.user_id)).consent_version == "2099-01"


async def test_erasing_is_possible_before_answering(bot: Harness, monkeypatch: Any) -> None:
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    monkeypatch.setattr(privacy, "NOTICE_VERSION", "2099-01")
    await worker.say("/xoadulieu")
    assert not asks_consent(worker), "the erasure's own confirmation comes last"
    keep = next(data for _label, data in worker.last().buttons if data.startswith("e:no"))
    await worker.press(keep)
    assert asks_consent(worker), "nothing erased: the notice again"


async def test_on_zalo_the_first_answer_says_it_is_a_bot(zalo: Worker) -> None:
    told = await zalo.say("Xin chào")
    assert "chatbot tự động" in told[0] and "không phải người thật" in told[0], told
