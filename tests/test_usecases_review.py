"""Review's use cases called as the web page or a channel without buttons will call them:
no chat, no bot, the real repositories on both engines."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from domain import review_cases
from domain.codes import parse
from domain.errors import InputError, NotAllowed, NotFound
from domain.model import (
    Decision,
    Initiative,
    InitiativeStatus,
    Member,
    ReviewCard,
    RoleKind,
    Unit,
)
from domain.ports import UnitOfWork
from domain.progress import add_phase, count_change, phase_on
from domain.review_card import (
    PRESET_REASONS,
    Approve,
    CancelDecision,
    ChooseReason,
    ConfirmDecision,
    OpenPending,
    PresetReason,
    ReadFull,
    Reject,
    Return,
    ShowPending,
    decided_line,
)
from domain.review_cases import Preset, ReviewOutdated
from domain.text import Text
from domain.usecase import Notices
from locales import Translator
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import seed_units
from tests.test_progress import PHASE

NOW = dt.datetime(2026, 11, 22, 2, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)
TRANSLATOR = Translator(ZoneInfo("Asia/Ho_Chi_Minh"))


def english(text: Text) -> str:
    return TRANSLATOR.render(text, "en")


@dataclass
class People:
    """Who takes part: an author, the helper who entered for her, the unit's two admins,
    the admin one level up, and an admin of a union elsewhere."""

    author: Member
    helper: Member
    admin_a: Member
    admin_b: Member
    upper: Member
    elsewhere: Member


class Union:
    """The example unit tree with its people, and a unit of work at a time."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.units_of_work = SqlUnitOfWorkFactory(self.engine)

    async def close(self) -> None:
        self.units_of_work.dispose()
        await self.engine.dispose()

    async def people(self) -> People:
        await add_phase(self.units_of_work, *PHASE)
        async with self.units_of_work() as uow:
            may10, upper_unit, annora = [await self.unit(uow, code) for code in
                                         ("HN-LB-MAY10", "HN-LB", "TH-KCN-ANNORA")]  # fmt: skip

            async def person(number: int, name: str, unit: Unit, full: str | None = None) -> Member:
                return await uow.members.add(
                    Member(0, "telegram", str(number), name, "vi", full_name=full,
                           unit_id=unit.id), NOW)  # fmt: skip

            people = People(
                author=await person(701, "Lan", may10, "Nguyễn Thị Lan"),
                helper=await person(702, "Tổ", may10, "Đỗ Văn Tổ"),
                admin_a=await person(801, "An", may10),
                admin_b=await person(802, "Bình", may10),
                upper=await person(803, "Cường", upper_unit),
                elsewhere=await person(804, "Dũng", annora),
            )
            admins = ((people.admin_a, may10), (people.admin_b, may10),
                      (people.upper, upper_unit), (people.elsewhere, annora))  # fmt: skip
            for admin, unit in admins:
                await uow.roles.grant(admin.id, unit.id, RoleKind.ADMIN, None, NOW)
            await uow.commit()
        return people

    async def unit(self, uow: UnitOfWork, code: str) -> Unit:
        unit = await uow.units.by_code(code)
        assert unit is not None, code
        return unit

    async def submit(
        self, author: Member, title: str = "Sáng kiến", entered_by: Member | None = None
    ) -> tuple[Initiative, review_cases.Routed]:
        """A version submitted, routed, and its cards shown where the reviewers read."""
        async with self.units_of_work() as uow:
            assert author.unit_id is not None
            phase = await phase_on(uow, NOW.date())
            initiative = await uow.initiatives.add(Initiative(
                0, author.id, (entered_by or author).id, author.unit_id, InitiativeStatus.DRAFT,
                NOW, NOW, title=title, problem="Cúi người thay cuộn chỉ.", solution="Giá xoay.",
                effect="Giảm dừng máy.", benefit_known=True, benefit_vnd=1_200_000,
                confidential=True, confidential_note="Bản vẽ khuôn ép.",
                phase_id=phase.id if phase else None,
            ))  # fmt: skip
            initiative.status, initiative.version, initiative.submitted_at = (
                InitiativeStatus.PENDING, 1, NOW)  # fmt: skip
            await count_change(uow, initiative, InitiativeStatus.DRAFT, initiative.status)
            await uow.initiatives.save(initiative)
            await uow.initiatives.record(initiative, author.id, "submitted", NOW)
            routed = await review_cases.route_to_reviewers(uow, initiative, NOW)
            for number, delivery in enumerate(routed.notices.deliveries):
                assert delivery.card is not None
                shown = ReviewCard(*delivery.card, delivery.member.id,
                                   delivery.member.external_id, 100 + number)  # fmt: skip
                await uow.cards.add(shown, NOW)
            await uow.commit()
        return initiative, routed

    async def decide(
        self,
        actor: Member,
        decision: Decision,
        reason: review_cases.Reason | None = None,
        initiative_id: int = 1,
        version: int = 1,
    ) -> review_cases.Decided:
        async with self.units_of_work() as uow:
            decided = await review_cases.decide(
                uow, actor, initiative_id, version, decision, reason, LATER
            )
            await uow.commit()
        return decided

    async def status(self, initiative_id: int = 1) -> tuple[InitiativeStatus, list[str]]:
        """The initiative's status and the decisions on record."""
        async with self.units_of_work() as uow:
            initiative = await uow.initiatives.get(initiative_id)
            assert initiative is not None
            entries = await uow.initiatives.history(initiative_id)
        return initiative.status, [e.action for e in entries if e.action in set(Decision)]

    async def figures(self, code: str = "HN-LB-MAY10") -> tuple[int, int, int]:
        """Approved, pending and returned in the unit this phase."""
        async with self.units_of_work() as uow:
            phase = await phase_on(uow, NOW.date())
            assert phase is not None
            (figures,) = await uow.progress.figures([await self.unit(uow, code)], phase.id)
        return figures.approved, figures.pending, figures.returned


@pytest.fixture
async def union(database_url: str) -> AsyncIterator[Union]:
    await seed_units(database_url)
    world = Union(database_url)
    try:
        yield world
    finally:
        await world.close()


def told(notices: Notices, member: Member) -> list[str]:
    """What the member is sent, in English."""
    return [TRANSLATOR.lines(d.reply.text, "en") for d in notices.deliveries
            if d.member.id == member.id]  # fmt: skip


async def test_a_submitted_version_goes_to_the_admins_of_its_unit(union: Union) -> None:
    people = await union.people()
    initiative, routed = await union.submit(people.author, "Giá treo cuộn chỉ xoay")
    assert {m.id for m in routed.reviewers} == {people.admin_a.id, people.admin_b.id}
    assert people.upper.id not in {d.member.id for d in routed.notices.deliveries}
    card = routed.notices.deliveries[0].reply
    assert "Giá treo cuộn chỉ xoay" in TRANSLATOR.lines(card.text, "en")
    assert [b.code for row in card.buttons for b in row] == [
        "r:ok:1:1", "r:ret:1:1", "r:rej:1:1", "r:full:1"]  # fmt: skip
    assert {d.card for d in routed.notices.deliveries} == {(initiative.id, 1)}


async def test_a_version_is_decided_once_and_the_second_decider_hears_who(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    decided = await union.decide(people.admin_a, Decision.APPROVE, "Rất thiết thực.")
    assert english(decided_line(decided.entry)).startswith("✅ Approved by An at")
    with pytest.raises(ReviewOutdated) as late:
        await union.decide(people.admin_b, Decision.REJECT, Preset("duplicate"))
    said = english(late.value.text)
    assert said.startswith("Already decided: ✅ Approved by An at"), said
    assert late.value.initiative.status is InitiativeStatus.APPROVED
    assert late.value.decided is not None and late.value.decided.actor_id == people.admin_a.id
    assert await union.status() == (InitiativeStatus.APPROVED, ["approve"])


async def test_a_click_racing_a_press_loses_at_the_database(
    union: Union, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B read the pending version before A's decision landed: only the conditional write
    tells them apart, and B is told who decided."""
    people = await union.people()
    await union.submit(people.author)
    async with union.units_of_work() as uow:
        seen = copy.deepcopy(await uow.initiatives.get(1))
        await review_cases.decide(uow, people.admin_a, 1, 1, Decision.APPROVE, None, LATER)
        real_get, reads = uow.initiatives.get, []

        async def read_before_the_decision(initiative_id: int) -> Initiative | None:
            reads.append(initiative_id)
            return seen if len(reads) == 1 else await real_get(initiative_id)

        monkeypatch.setattr(uow.initiatives, "get", read_before_the_decision)
        with pytest.raises(ReviewOutdated) as late:
            await review_cases.decide(uow, people.admin_b, 1, 1, Decision.RETURN,
                                      "Thiếu số liệu.", LATER)  # fmt: skip
        assert len(reads) == 2, "B passed the checks on what it had read"
        await uow.commit()
    assert english(late.value.text).startswith("Already decided: ✅ Approved by An")
    assert await union.status() == (InitiativeStatus.APPROVED, ["approve"])


async def test_the_author_and_her_helper_are_told_and_every_card_shows_it(
    union: Union,
) -> None:
    people = await union.people()
    await union.submit(people.author, entered_by=people.helper)
    async with union.units_of_work() as uow:
        await uow.members.save(replace(people.admin_b, language="en"), NOW)
        await uow.commit()
    decided = await union.decide(people.admin_a, Decision.RETURN, Preset("nodata"))
    (to_author,) = told(decided.notices, people.author)
    assert "Changes are requested" in to_author and "Figures on the effect are missing" in to_author
    (to_helper,) = told(decided.notices, people.helper)
    assert "(You entered SK-000001 for Nguyễn Thị Lan.)" in to_helper
    codes = [b.code for d in decided.notices.deliveries for row in d.reply.buttons for b in row]
    assert codes == ["n:resume:1", "n:resume:1"]
    updates = decided.notices.card_updates
    assert {(u.chat_id, u.language) for u in updates} == {("801", "vi"), ("802", "en")}
    for update in updates:
        assert not update.reply.buttons, "a decided card has no buttons"
        assert "Returned for changes by An" in TRANSLATOR.lines(update.reply.text, "en")
    async with union.units_of_work() as uow:
        (*_before, entry) = await uow.initiatives.history(1)
    assert (entry.action, entry.note, entry.role) == ("return", "preset:nodata", "admin")


async def test_return_and_reject_need_a_reason_of_bounded_length(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    for decision, reason in ((Decision.RETURN, None), (Decision.REJECT, "   "),
                             (Decision.REJECT, "x" * 1001)):  # fmt: skip
        with pytest.raises(InputError):
            await union.decide(people.admin_a, decision, reason)
    assert await union.status() == (InitiativeStatus.PENDING, [])
    decided = await union.decide(people.admin_a, Decision.REJECT, "  Đã có năm 2023.  ")
    assert decided.entry.note == "Đã có năm 2023."
    assert "Đã có năm 2023." in told(decided.notices, people.author)[0]


async def test_outside_the_scope_nothing_is_decided_or_read(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    for stranger in (people.elsewhere, people.author, people.helper):
        with pytest.raises(NotAllowed):
            await union.decide(stranger, Decision.APPROVE)
    with pytest.raises(NotFound):
        await union.decide(people.admin_a, Decision.APPROVE, initiative_id=99)
    async with union.units_of_work() as uow:
        with pytest.raises(NotAllowed):
            await review_cases.read_full(uow, people.elsewhere, 1)
        with pytest.raises(NotFound):
            await review_cases.history(uow, people.elsewhere, 1)
        for reader in (people.author, people.admin_b, people.upper):
            full = await review_cases.read_full(uow, reader, 1)
            assert full.confidential_note == "Bản vẽ khuôn ép."
            trail = await review_cases.history(uow, reader, 1)
            assert [e.action for e in trail.entries] == ["submitted"]
    assert await union.status() == (InitiativeStatus.PENDING, [])
    await union.decide(people.upper, Decision.APPROVE)
    assert await union.status() == (InitiativeStatus.APPROVED, ["approve"])


async def test_an_old_version_is_outdated_not_decided(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    with pytest.raises(ReviewOutdated) as old:
        await union.decide(people.admin_a, Decision.APPROVE, version=2)
    assert english(old.value.text) == "This card is for an earlier version; a newer one was sent."
    assert old.value.decided is None
    assert await union.status() == (InitiativeStatus.PENDING, [])


async def test_decisions_move_the_counts_and_reopen_moves_them_back(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    assert await union.figures() == (0, 1, 0)
    await union.decide(people.admin_a, Decision.APPROVE)
    assert await union.figures() == (1, 0, 0)
    assert await union.figures("HN-LB") == (1, 0, 0), "and every unit above it"
    async with union.units_of_work() as uow:
        with pytest.raises(NotAllowed):
            await review_cases.reopen(uow, people.elsewhere, "SK-000001", "Trùng.", LATER)
        with pytest.raises(InputError):
            await review_cases.reopen(uow, people.admin_a, "SK-000001", "  ", LATER)
        reopened = await review_cases.reopen(uow, people.upper, "sk1", "Trùng sáng kiến.", LATER)
        await uow.commit()
    assert reopened.initiative.status is InitiativeStatus.RETURNED
    assert "Trùng sáng kiến." in told(reopened.notices, people.author)[0]
    assert await union.figures() == (0, 0, 1)
    async with union.units_of_work() as uow:
        with pytest.raises(InputError, match="nothing to take back"):
            await review_cases.reopen(uow, people.upper, 1, "Lần nữa.", LATER)
        trail = await review_cases.history(uow, people.author, 1)
    assert [(e.action, e.note) for e in trail.entries][-1] == ("reopen", "Trùng sáng kiến.")


async def test_pending_is_paged_oldest_first_for_admins_only(union: Union) -> None:
    people = await union.people()
    async with union.units_of_work() as uow:
        empty = await review_cases.pending(uow, people.admin_a, 0, 5)
        assert (empty.total, empty.items) == (0, ())
        with pytest.raises(NotAllowed):
            await review_cases.pending(uow, people.author, 0, 5)
    for index in range(6):
        await union.submit(people.author, title=f"Sáng kiến {index + 1}")
    async with union.units_of_work() as uow:
        first = await review_cases.pending(uow, people.upper, 0, 5)
        past_the_end = await review_cases.pending(uow, people.admin_a, 40, 5)
        elsewhere = await review_cases.pending(uow, people.elsewhere, 0, 5)
    assert (first.total, first.page, first.pages) == (6, 0, 2)
    assert [i.title for i in first.items] == [f"Sáng kiến {n}" for n in range(1, 6)]
    assert [(unit.code, count) for unit, count in first.per_unit] == [("HN-LB-MAY10", 6)]
    assert (past_the_end.page, [i.title for i in past_the_end.items]) == (1, ["Sáng kiến 6"])
    assert elsewhere.total == 0


def test_review_codes_read_back_byte_for_byte() -> None:
    """Buttons already in people's chats keep working."""
    for press, code in ((Approve(12, 3), "r:ok:12:3"), (Return(12, 3), "r:ret:12:3"),
                        (Reject(12, 3), "r:rej:12:3"), (ReadFull(12), "r:full:12"),
                        (ChooseReason(12, 3, "nodata"), "r:why:12:3:nodata"),
                        (ConfirmDecision(12, 3), "r:yes:12:3"),
                        (CancelDecision(12, 3), "r:no:12:3"),
                        (ShowPending(2), "p:page:2"), (OpenPending(12), "p:open:12")):  # fmt: skip
        assert press.encode() == code
        assert parse(code) == press
    assert set(get_args(PresetReason)) == set(PRESET_REASONS)
