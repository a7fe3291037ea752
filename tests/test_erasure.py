"""Erasure of a member's personal data (/xoadulieu, /erase, ``python -m bot data erase``)
and the deletion of drafts left untouched for long."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import zoneinfo
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from domain.dialog import ResumeDraft
from domain.erased import ERASED_CONTENT, ERASED_NAME
from domain.erasure import ConfirmErasure, done_lines, plan_lines
from domain.model import Attachment, AttachmentKind, InitiativeStatus, Member
from domain.parsing import normalize_search
from domain.ports_privacy import ErasureCounts, ErasurePlan
from domain.progress import add_phase
from domain.retention import months_before
from domain.text import Text
from locales import Translator
from storage.db import create_engine
from storage.models import (
    Base,
    ConsentRow,
    ErasureRow,
    IdentityRow,
    InitiativeRow,
    MemberRow,
    OutgoingRow,
)
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import Clock, StartBot, seed_units
from tests.fakebotapi import Harness
from tests.fakebotapi import Member as Person
from tests.scenario import MAY10, asks_consent
from tests.test_review import drain, grant, run_job, submit
from tests.zalo_world import ZaloUser, zalo_worker

WORKER, ADMIN = 7101, 7201
FULL_NAME, PHONE, APP_NAME = "Nguyễn Thị Hồng Nhung", "0912345678", "Quỳnh Thơ"
STORED_PHONE = PHONE
TRANSLATOR = Translator(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
TRANSLATOR_ZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
ALREADY = Text("Those data were erased already: nothing more was changed.")


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        yield units_of_work
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def phase(database_url: str) -> None:
    async with database(database_url) as units_of_work:
        await add_phase(units_of_work, "GD1", "Giai đoạn 1", dt.date(2026, 1, 1),
                        dt.date(2026, 12, 31), 300_000)  # fmt: skip


async def dump(database_url: str) -> str:
    """Every value of every table, as text: what a search of the database would find."""
    engine = create_engine(database_url)
    lines = []
    try:
        async with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in await connection.execute(select(table)):
                    values = [v for v in row if not isinstance(v, (bytes, memoryview))]
                    lines.append(f"{table.name}: " +
                                 json.dumps(values, default=str, ensure_ascii=False))  # fmt: skip
    finally:
        await engine.dispose()
    return "\n".join(lines)


async def scalar(database_url: str, statement: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(statement)).scalar_one()
    finally:
        await engine.dispose()


async def figures(database_url: str) -> tuple[Any, ...]:
    """The running figures, the figures counted from the initiatives, and a direct count
    and sum of the approved."""
    async with database(database_url) as units_of_work, units_of_work() as uow:
        stored = await uow.progress.stored_counts()
        direct = await uow.progress.direct_counts()
    approved = InitiativeRow.status == InitiativeStatus.APPROVED.value
    count = await scalar(database_url, select(func.count()).where(approved))
    benefit = await scalar(
        database_url, select(func.sum(InitiativeRow.benefit_vnd)).where(approved)
    )
    statuses = await scalar(database_url, select(func.count()).select_from(InitiativeRow).where(
        InitiativeRow.status != InitiativeStatus.DRAFT.value))  # fmt: skip
    return stored, direct, count, int(benefit or 0), statuses


async def join_with_phone(worker: Person) -> None:
    """Join May 10 giving a name and a phone number."""
    await worker.say(f"/start {MAY10}")
    await worker.tap("Đúng")
    if asks_consent(worker):
        await worker.say("đồng ý")
    await worker.say(FULL_NAME)
    await worker.say(PHONE)
    assert "📝 Nộp sáng kiến" in worker.last().keyboard, worker.transcript()


async def member_id(database_url: str, channel: str, external_id: str) -> int:
    return int(await scalar(database_url, select(IdentityRow.member_id).where(
        IdentityRow.channel == channel, IdentityRow.external_id == external_id)))  # fmt: skip


async def record_of_three(bot: Harness, database_url: str) -> tuple[Person, Person]:
    """A worker with an approved initiative (1), one waiting (2) and a draft (3); their
    admin saw both cards."""
    await phase(database_url)
    await grant(database_url, MAY10, ADMIN)
    worker, admin = bot.member(WORKER, "Quỳnh", "Thơ"), bot.member(ADMIN, "An")
    await join_with_phone(worker)
    await submit(worker, "Giá treo cuộn chỉ xoay")
    await bot.settle()
    await admin.tap("✅ Duyệt")
    await admin.tap("Xác nhận")
    await bot.settle()
    await submit(worker, "Bàn gá hàn có khóa")
    await worker.say("/new")
    if any("Bắt đầu mới" in label for label, _ in worker.last().buttons):
        await worker.tap("Bắt đầu mới")
    await worker.say("Xe đẩy phôi nhẹ")
    await bot.settle()
    return worker, admin


async def test_erasure_keeps_the_figures_and_names_nobody(
    bot: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    worker, admin = await record_of_three(bot, database_url)
    erased_id = await member_id(database_url, "telegram", str(WORKER))
    before = await figures(database_url)
    await admin.say("/stats")
    stats_before = admin.last().text
    before_dump = await dump(database_url)
    assert FULL_NAME in before_dump and STORED_PHONE in before_dump

    await worker.say("/xoadulieu")
    plan = ErasurePlan(drafts=1, kept=1, blanked=1, recordings=0, accounts=1)
    assert worker.last().text == TRANSLATOR.lines(plan_lines(plan), "vi")
    await worker.press(ConfirmErasure(erased_id).encode())
    counts = ErasureCounts(drafts_deleted=1, initiatives_kept=1, texts_removed=1)
    assert worker.last().text == TRANSLATOR.lines(done_lines(counts), "vi")
    assert worker.last().params["reply_markup"] == {"remove_keyboard": True}, "no menu left"
    await bot.settle()

    everything = await dump(database_url)
    # The name folded for search counts too: it would find the member again.
    folded = normalize_search(FULL_NAME)
    assert folded in before_dump, "the folded name was stored, so its absence means something"
    for said in (FULL_NAME, folded, STORED_PHONE, PHONE, APP_NAME):
        assert said not in everything, [line for line in everything.splitlines() if said in line]
        assert said not in caplog.text
    assert await figures(database_url) == before
    await admin.say("/stats")
    assert admin.last().text == stats_before
    await admin.say("/history SK-000001")
    history = admin.last().text
    assert "Giá treo cuộn chỉ xoay" in history, "approved: the union's record keeps its content"
    assert TRANSLATOR.render(ERASED_NAME, "vi") in history
    await admin.say("/history SK-000002")
    assert TRANSLATOR.render(ERASED_CONTENT, "vi") in admin.last().text
    assert "Bàn gá hàn" not in everything
    async with database(database_url) as units_of_work, units_of_work() as uow:
        kept, blanked = await uow.initiatives.get(1), await uow.initiatives.get(2)
        assert await uow.initiatives.get(3) is None, "the draft is deleted"
    assert kept is not None and kept.coauthors and kept.problem, "approved content stays"
    assert blanked is not None and blanked.status is InitiativeStatus.PENDING
    assert (blanked.title, blanked.problem, blanked.coauthors) == ("", None, [])
    assert blanked.benefit_vnd == kept.benefit_vnd, "what the figures count stays"
    withdrawn = await scalar(database_url, select(ConsentRow.action).where(
        ConsentRow.member_id == erased_id, ConsentRow.action == "withdrawn"))  # fmt: skip
    assert withdrawn == "withdrawn"
    assert f"#{erased_id}" in caplog.text


def test_the_plan_leaves_out_what_does_not_happen() -> None:
    some = ErasurePlan(drafts=2, kept=0, blanked=1, recordings=0, accounts=2)
    lines = TRANSLATOR.lines(plan_lines(some), "en")
    assert "• 2 drafts will be deleted." in lines
    assert "• 1 initiative not approved loses its texts and files." in lines
    assert "approved initiative" not in lines and "voice note" not in lines
    # What always happens is always said: the accounts, no undoing, /mydata first.
    assert "links to your 2 chat accounts" in lines and "/mydata" in lines
    vietnamese = TRANSLATOR.lines(plan_lines(some), "vi")
    assert "• 0" not in vietnamese and "• 2" in vietnamese and "• 1" in vietnamese


async def test_a_stale_press_or_the_same_update_twice_changes_nothing(
    bot: Harness, database_url: str
) -> None:
    await phase(database_url)
    worker = bot.member(WORKER, "Quỳnh", "Thơ")
    await join_with_phone(worker)
    erased_id = await member_id(database_url, "telegram", str(WORKER))
    await worker.say("/xoadulieu")
    confirm = worker.button_update(ConfirmErasure(erased_id).encode())
    await bot.deliver(confirm, WORKER)
    await bot.deliver(confirm, WORKER)
    assert await scalar(database_url, select(func.count()).select_from(ErasureRow)) == 1

    await worker.press(ConfirmErasure(erased_id).encode())
    assert worker.last().text == TRANSLATOR.render(ALREADY, "vi")
    assert await scalar(database_url, select(func.count()).select_from(ErasureRow)) == 1

    # Whoever writes from the erased account now is someone new, asked to join afresh.
    await worker.say("xin chào")
    new_id = await member_id(database_url, "telegram", str(WORKER))
    assert new_id != erased_id
    erased = await scalar(database_url, select(MemberRow.channel).where(MemberRow.id == erased_id))
    assert erased == "erased"


async def test_cancel_in_english_and_by_typing(bot: Harness, database_url: str) -> None:
    await phase(database_url)
    worker = bot.member(WORKER, "Quỳnh", "Thơ")
    await join_with_phone(worker)
    await worker.say("/lang")
    await worker.tap("English")
    await worker.say("/erase")
    plan = ErasurePlan(drafts=0, kept=0, blanked=0, recordings=0, accounts=1)
    shown = worker.last().text
    assert shown == TRANSLATOR.lines(plan_lines(plan), "en")
    assert "• 0" not in shown and "draft" not in shown, "what does not happen is not said"
    assert "link to your 1 chat account" in shown and "cannot be undone" in shown
    await worker.say("0")
    assert "Nothing was erased." in worker.last().text
    erased_id = await member_id(database_url, "telegram", str(WORKER))
    await worker.press(ConfirmErasure(erased_id).encode())
    assert "no longer valid" in worker.last().text, "a confirmation from before the cancel"
    await worker.say("/erase")
    await worker.say("XÓA")
    assert await scalar(database_url, select(func.count()).select_from(ErasureRow)) == 1
    assert FULL_NAME not in await dump(database_url)


async def test_zalo_member_erases_by_typing(start_bot: StartBot, database_url: str) -> None:
    await seed_units(database_url)
    await phase(database_url)
    async with zalo_worker(start_bot) as zalo:
        await join_on_zalo(zalo)
        await zalo.say("/xoadulieu")
        assert "XÓA" in zalo.texts()[-1]
        await zalo.say("xoá")
        await zalo.harness.settle()
    erased = await scalar(database_url, select(MemberRow.erased_at).where(
        MemberRow.channel == "erased"))  # fmt: skip
    assert erased is not None
    assert await scalar(database_url, select(func.count()).select_from(IdentityRow).where(
        IdentityRow.channel == "zalo")) == 0  # fmt: skip
    assert FULL_NAME not in await dump(database_url)


async def join_on_zalo(zalo: ZaloUser) -> None:
    await zalo.say(f"/start {MAY10}")
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
    await zalo.say(FULL_NAME)
    await zalo.say(PHONE)


async def test_recordings_go_and_queued_messages_are_cancelled(
    units_of_work: SqlUnitOfWorkFactory, database_url: str
) -> None:
    from domain.erasure import erase_member
    from tests.usecase_world import NOW, World

    world = World(units_of_work)
    worker = await world.person("HN-LB-MAY10")
    async with units_of_work() as uow:
        unit = await uow.units.by_code("HN-LB-MAY10")
        assert unit is not None
        initiative = await approved_with_voice(uow, worker, unit.id)
        await uow.outbox.create("notice", "Chào", [worker.id], None, NOW, _extras())
        await uow.commit()
    async with units_of_work() as uow:
        report = await erase_member(uow, worker.id, "operator", NOW)
        await uow.commit()
    assert report.counts.messages_cancelled == 1 and report.counts.files_removed == 1
    async with units_of_work() as uow:
        kept = await uow.initiatives.get(initiative)
    assert kept is not None and [a.kind for a in kept.attachments] == [AttachmentKind.PHOTO]
    states = await scalar(database_url, select(func.count()).select_from(OutgoingRow).where(
        OutgoingRow.state == "cancelled"))  # fmt: skip
    assert states == 1


def _extras() -> Any:
    from domain.delivery import BroadcastExtras

    return BroadcastExtras()


async def approved_with_voice(uow: Any, worker: Member, unit_id: int) -> int:
    from domain.model import Initiative
    from tests.usecase_world import NOW

    initiative = await uow.initiatives.add(Initiative(
        id=0, author_id=worker.id, entered_by_id=worker.id, unit_id=unit_id,
        status=InitiativeStatus.APPROVED, created_at=NOW, updated_at=NOW, title="Máy cắt",
        submitted_at=NOW, version=1,
        attachments=[
            Attachment(AttachmentKind.PHOTO, "photo-1", "u-photo-1"),
            Attachment(AttachmentKind.VOICE, "voice-1", "u-voice-1", answer="problem"),
        ],
    ))  # fmt: skip
    return int(initiative.id)


async def test_operator_erases_a_helpers_entry(
    units_of_work: SqlUnitOfWorkFactory, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.usecase_world import NOW

    async with units_of_work() as uow:
        entered = await uow.members.add(
            Member(id=0, channel="proxy", external_id="p-1", display_name=FULL_NAME,
                   language="vi", full_name=FULL_NAME), NOW)  # fmt: skip
        await uow.commit()
    url = ["--database-url", database_url, "data", "erase"]
    assert await asyncio.to_thread(main, [*url, "--member", str(entered.id), "--yes"]) == 0
    assert FULL_NAME not in await dump(database_url)
    assert f"Member #{entered.id} erased" in capsys.readouterr().out
    assert await asyncio.to_thread(main, [*url, "--member", str(entered.id), "--yes"]) == 1
    assert "erased already" in capsys.readouterr().err
    assert await asyncio.to_thread(main, [*url, "--member", "999999", "--yes"]) == 1
    assert "There is no member #999999" in capsys.readouterr().err


async def retention(bot: Harness) -> None:
    """Run the daily retention job and wait for the notices it queued."""
    await run_job(bot, "draft_retention")
    await drain(bot)


async def test_untouched_drafts_get_a_notice_then_go(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    worker = bot.member(WORKER, "Quỳnh", "Thơ")
    await join_with_phone(worker)
    await worker.say("/new")
    await worker.say("Xe đẩy phôi nhẹ")
    await worker.say("/cancel")
    clock.now += dt.timedelta(days=370)
    await retention(bot)
    deleted_on = (clock.now + dt.timedelta(days=14)).astimezone(TRANSLATOR_ZONE).date()
    assert deleted_on.strftime("%d/%m/%Y") in worker.last().text, worker.transcript()
    noticed = await scalar(database_url, select(InitiativeRow.retention_notice_at))
    assert noticed == clock.now
    clock.now += dt.timedelta(days=13)
    await retention(bot)
    assert await scalar(database_url, select(func.count()).select_from(InitiativeRow)) == 1
    clock.now += dt.timedelta(days=1)
    await retention(bot)
    assert await scalar(database_url, select(func.count()).select_from(InitiativeRow)) == 0


async def test_a_draft_opened_after_the_notice_stays(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    worker = bot.member(WORKER, "Quỳnh", "Thơ")
    await join_with_phone(worker)
    await worker.say("/new")
    await worker.say("Xe đẩy phôi nhẹ")
    await worker.say("/cancel")
    clock.now += dt.timedelta(days=400)
    await retention(bot)
    assert "SK-000001" in worker.last().text, worker.transcript()
    clock.now += dt.timedelta(hours=1)
    await worker.press(ResumeDraft(1).encode())
    clock.now += dt.timedelta(days=15)
    await retention(bot)
    assert await scalar(database_url, select(func.count()).select_from(InitiativeRow)) == 1
    assert await scalar(database_url, select(InitiativeRow.retention_notice_at)) is None


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    moment = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)
    assert months_before(moment, 12) == dt.datetime(2025, 3, 31, 2, 0, tzinfo=dt.UTC)
    assert months_before(moment, 1) == dt.datetime(2026, 2, 28, 2, 0, tzinfo=dt.UTC)
