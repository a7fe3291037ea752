"""Submitting and discarding as plain calls, against the real repositories, without a chat."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from domain import codes
from domain.dialog import DraftPress, FreshDraft, ResumeDraft, button
from domain.errors import NotFound, Outdated
from domain.model import (
    FieldOfUse,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    SolutionKind,
    Step,
)
from domain.ports import UnitOfWork
from domain.progress import add_phase, count_change
from domain.roles import grant_role
from domain.submission import MissingAnswer, Submission, discard
from domain.text import Text
from domain.ui import Forged
from storage.uow import SqlUnitOfWorkFactory

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
PHASE = ("GD2", "Giai đoạn 2", dt.date(2026, 6, 1), dt.date(2027, 9, 30), 1_000)
COMPANY, NEIGHBOUR, DISTRICT = "HN-LB-MAY10", "HN-LB-DUCGIANG", "HN-LB"
SUBMISSION = Submission(ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture(autouse=True)
async def phase(units_of_work: SqlUnitOfWorkFactory) -> None:
    """A phase is running."""
    await add_phase(units_of_work, *PHASE)


async def admin_of(units_of_work: SqlUnitOfWorkFactory, code: str, external_id: str) -> Member:
    granted = await grant_role(units_of_work, unit_code=code, channel="telegram",
                               external_id=external_id, kind=RoleKind.ADMIN, now=NOW)  # fmt: skip
    return granted.member


async def unit_id(uow: UnitOfWork, code: str) -> int:
    unit = await uow.units.by_code(code)
    assert unit is not None
    return unit.id


async def worker(uow: UnitOfWork, external_id: str, name: str, code: str = COMPANY) -> Member:
    """A member who has joined a grassroots union."""
    return await uow.members.add(
        Member(id=0, channel="telegram", external_id=external_id, display_name=name,
               language="vi", full_name=name, unit_id=await unit_id(uow, code)),
        NOW,
    )  # fmt: skip


async def draft_of(
    uow: UnitOfWork, author: Member, entered_by: Member | None = None, complete: bool = True
) -> Initiative:
    """A draft with every answer given (but the effect, unless ``complete``)."""
    assert author.unit_id is not None
    return await uow.initiatives.add(
        Initiative(
            id=0, author_id=author.id, entered_by_id=(entered_by or author).id,
            unit_id=author.unit_id, status=InitiativeStatus.DRAFT, created_at=NOW,
            updated_at=NOW, step=Step.SUMMARY, title="Giá treo cuộn chỉ xoay",
            kind=SolutionKind.TECHNICAL, field=FieldOfUse.PRODUCTION,
            problem="Cuộn chỉ rối", solution="Giá xoay", applied=False,
            effect="Nhanh hơn" if complete else None, benefit_known=True,
            benefit_vnd=5_000_000, confidential=False,
        )
    )  # fmt: skip


async def pending_in(uow: UnitOfWork, code: str) -> tuple[int, int]:
    """How many wait for review, and how many are returned, in the unit's subtree."""
    unit = await uow.units.by_code(code)
    assert unit is not None
    phase = (await uow.progress.phases())[0]
    (figures,) = await uow.progress.figures([unit], phase.id)
    return figures.pending, figures.returned


async def actions(uow: UnitOfWork, initiative_id: int) -> list[tuple[str, int, str | None]]:
    return [(e.action, e.version, e.role) for e in await uow.initiatives.history(initiative_id)]


def msgids(texts: tuple[Text, ...]) -> list[str]:
    return [text.msgid for text in texts]


async def test_a_complete_draft_goes_to_its_reviewers_numbered_and_counted(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    reviewer = await admin_of(units_of_work, COMPANY, "100")
    await admin_of(units_of_work, DISTRICT, "200")
    async with units_of_work() as uow:
        lan = await worker(uow, "300", "Lan")
        stranger = await worker(uow, "400", "Khách")
        draft = await draft_of(uow, lan)
        await uow.commit()

    async with units_of_work() as uow:
        with pytest.raises(NotFound):
            await SUBMISSION.submit(uow, stranger, draft.id, NOW)
        sent = await SUBMISSION.submit(uow, lan, draft.id, NOW)
        await uow.commit()
    assert sent.initiative.number == f"SK-{draft.id:06d}" and not sent.resubmitted
    assert sent.unit is not None and sent.unit.code == COMPANY
    (card,) = sent.notices.deliveries
    assert card.member.id == reviewer.id, "the company's admin, not the district's"
    assert card.card == (draft.id, 1)

    async with units_of_work() as uow:
        stored = await uow.initiatives.get(draft.id)
        assert stored is not None and stored.status is InitiativeStatus.PENDING
        assert stored.version == 1 and stored.submitted_at == NOW and stored.phase_id
        assert await actions(uow, draft.id) == [("submitted", 1, "author")]
        assert await pending_in(uow, COMPANY) == (1, 0)
        assert await pending_in(uow, DISTRICT) == (1, 0)
        with pytest.raises(Outdated, match="already been submitted"):
            await SUBMISSION.submit(uow, lan, draft.id, NOW + dt.timedelta(minutes=1))
        assert await pending_in(uow, COMPANY) == (1, 0), "counted once"


async def test_an_incomplete_draft_names_the_missing_answer_and_stays_a_draft(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    await admin_of(units_of_work, COMPANY, "100")
    async with units_of_work() as uow:
        lan = await worker(uow, "300", "Lan")
        draft = await draft_of(uow, lan, complete=False)
        await uow.commit()
    async with units_of_work() as uow:
        with pytest.raises(MissingAnswer) as missing:
            await SUBMISSION.submit(uow, lan, draft.id, NOW)
        await uow.commit()
    assert missing.value.step is Step.EFFECT
    async with units_of_work() as uow:
        stored = await uow.initiatives.get(draft.id)
        assert stored is not None and stored.status is InitiativeStatus.DRAFT
        assert stored.version == 0 and await actions(uow, draft.id) == []
        assert await pending_in(uow, COMPANY) == (0, 0)


async def test_a_returned_initiative_goes_back_to_the_same_review(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    await admin_of(units_of_work, COMPANY, "100")
    async with units_of_work() as uow:
        lan = await worker(uow, "300", "Lan")
        draft = await draft_of(uow, lan)
        sent = await SUBMISSION.submit(uow, lan, draft.id, NOW)
        returned = sent.initiative
        await count_change(uow, returned, returned.status, InitiativeStatus.RETURNED)
        returned.status = InitiativeStatus.RETURNED
        await uow.initiatives.save(returned)
        # She has moved to another company since; the review stays where it began.
        lan.unit_id = await unit_id(uow, NEIGHBOUR)
        await uow.members.save(lan, NOW)
        await uow.commit()
    assert returned.unit_id != lan.unit_id

    async with units_of_work() as uow:
        again = await SUBMISSION.submit(uow, lan, draft.id, NOW + dt.timedelta(days=1))
        await uow.commit()
    assert again.resubmitted and again.initiative.version == 2
    assert again.unit is not None and again.unit.code == COMPANY
    assert [d.card for d in again.notices.deliveries] == [(draft.id, 2)]
    async with units_of_work() as uow:
        assert await actions(uow, draft.id) == [("submitted", 1, "author"),
                                                ("resubmitted", 2, "author")]  # fmt: skip
        assert await pending_in(uow, COMPANY) == (1, 0), "no longer counted as returned"


async def test_a_helper_submits_for_the_author_who_is_told(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    reviewer = await admin_of(units_of_work, COMPANY, "100")
    async with units_of_work() as uow:
        author = await worker(uow, "300", "Lan")
        helper = await worker(uow, "500", "Minh", code=NEIGHBOUR)
        draft = await draft_of(uow, author, entered_by=helper)
        await uow.commit()
    async with units_of_work() as uow:
        sent = await SUBMISSION.submit(uow, helper, draft.id, NOW)
        await uow.commit()
    assert sent.unit is not None and sent.unit.code == COMPANY, "the author's union"
    told = {d.member.id: msgids(d.reply.text) for d in sent.notices.deliveries}
    assert set(told) == {reviewer.id, author.id}
    assert told[author.id][0].startswith("{helper} of the initiative support team")
    async with units_of_work() as uow:
        assert await actions(uow, draft.id) == [("submitted", 1, RoleKind.HELPER.value)]


async def test_a_draft_is_discarded_once_by_whoever_writes_it(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    async with units_of_work() as uow:
        lan = await worker(uow, "300", "Lan")
        stranger = await worker(uow, "400", "Khách")
        draft = await draft_of(uow, lan)
        await uow.commit()
    async with units_of_work() as uow:
        with pytest.raises(NotFound):
            await discard(uow, stranger, draft.id, NOW)
        with pytest.raises(NotFound):
            await discard(uow, lan, 10**9, NOW)
        gone = await discard(uow, lan, draft.id, NOW + dt.timedelta(hours=1))
        await uow.commit()
    assert gone.initiative.status is InitiativeStatus.DISCARDED
    async with units_of_work() as uow:
        stored = await uow.initiatives.get(draft.id)
        assert stored is not None and stored.status is InitiativeStatus.DISCARDED
        assert await actions(uow, draft.id) == [("discarded", 0, "author")]
        with pytest.raises(Outdated):
            await discard(uow, lan, draft.id, NOW + dt.timedelta(hours=2))
        with pytest.raises(Outdated):
            await SUBMISSION.submit(uow, lan, draft.id, NOW + dt.timedelta(hours=2))


async def test_the_phase_is_the_unions_day(units_of_work: SqlUnitOfWorkFactory) -> None:
    """00:30 on the phase's first day in Hà Nội is still the day before in UTC."""
    await admin_of(units_of_work, COMPANY, "100")
    first_hour = dt.datetime(2026, 5, 31, 17, 30, tzinfo=dt.UTC)
    async with units_of_work() as uow:
        lan = await worker(uow, "300", "Lan")
        sent = await SUBMISSION.submit(uow, lan, (await draft_of(uow, lan)).id, first_hour)
    assert sent.initiative.phase_id is not None


def test_draft_codes_read_back_as_made_and_refuse_the_rest() -> None:
    draft = Initiative(id=12, author_id=1, entered_by_id=1, unit_id=1,
                       status=InitiativeStatus.DRAFT, created_at=NOW, updated_at=NOW,
                       step=Step.KIND)  # fmt: skip
    made = button(draft, "pick", Text("x"), SolutionKind.TECHNICAL.value).code
    assert made == "d:pick:12:kind:technical"
    assert codes.parse(made) == DraftPress("pick", 12, "kind", "technical")
    assert button(draft, "back", Text("x")).code == "d:back:12:kind"
    assert ResumeDraft(7).encode() == "n:resume:7" and FreshDraft().encode() == "n:fresh"
    for forged in ("d:zap:12:kind", "d:pick:x:kind", "d:pick:12", "d:pick:12:kind:a:b",
                   "n:resume", "n:resume:x", "n:fresh:1", "n:other"):  # fmt: skip
        with pytest.raises(Forged):
            codes.parse(forged)
