"""The similar-initiatives index on both engines: what people type is matched however it
is spelled, only submitted initiatives that are not turned down are found, only in the
scope asked, and the index changes in the same transaction as the initiative."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.model import Initiative, InitiativeStatus, Member, Step
from domain.ports_similar import SimilarFound, SimilarQuery, SimilarRules
from domain.similarity import fold_for_match, fold_solution, fold_title, probe, score
from storage.repositories import similar as similar_storage
from storage.uow import SqlUnitOfWorkFactory

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
RULES = SimilarRules()
TITLE = "Gá cắt chỉ thừa cho máy may công nghiệp"
SOLUTION = "Lắp lưỡi dao nhỏ trên chân vịt, chỉ thừa được cắt ngay khi may xong đường."


# -- folding and scoring -------------------------------------------------------------


def test_folding_ignores_case_diacritics_and_punctuation() -> None:
    assert fold_for_match("  Gá cắt CHỈ thừa!! (Đồ gá)…") == "ga cat chi thua do ga"
    assert fold_title(None) == fold_solution("") == ""
    long = fold_solution("Một giải pháp rất dài, " * 100)
    assert 390 < len(long) <= 400
    assert long.split()[-1] in {"mot", "giai", "phap", "rat", "dai"}


@pytest.mark.parametrize(
    "typed",
    [
        "ga cat chi thua cho may may cong nghiep",  # without diacritics
        "GÁ CẮT CHỈ THỪA cho máy may công nghiệp.",  # shouted, with a full stop
        "Gá cắt chỉ thừa cho công nghiệp máy may",  # words swapped
        "Gá cắt chỉ thừa cho máy khâu công nghiệp",  # one word changed
    ],
)
def test_near_duplicates_score_above_the_threshold(typed: str) -> None:
    query = probe(typed, None, RULES.fields)
    assert score(query, fold_title(TITLE), "") >= RULES.threshold


def test_unrelated_titles_score_low() -> None:
    query = probe("Phần mềm quản lý ca kíp cho tổ bảo vệ", None, RULES.fields)
    assert score(query, fold_title(TITLE), fold_solution(SOLUTION)) < 0.2


def test_only_the_title_counts_when_the_query_has_no_solution() -> None:
    with_solution = probe(TITLE, SOLUTION, RULES.fields)
    title_only = probe(TITLE, None, RULES.fields)
    other_solution = fold_solution("Dùng phần mềm bảng tính để lập lịch trực.")
    assert score(title_only, fold_title(TITLE), other_solution) == 1.0
    assert score(with_solution, fold_title(TITLE), other_solution) < 1.0
    assert probe(TITLE, SOLUTION, ("solution",)).title is None


# -- the index ------------------------------------------------------------------------


@pytest.fixture(params=["scope", "index"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of finding: the scope's rows scored, or the engine's index first."""
    if request.param == "index":
        monkeypatch.setattr(similar_storage, "LARGE_SCOPE", 0)
    return str(request.param)


async def _member(factory: SqlUnitOfWorkFactory, code: str, external: str) -> tuple[int, int]:
    """A member of the unit with this code: (member id, unit id)."""
    async with factory() as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        member = await uow.members.add(
            Member(0, "telegram", external, external, "vi", unit_id=unit.id), NOW
        )
        await uow.commit()
    return member.id, unit.id


async def _add(
    factory: SqlUnitOfWorkFactory,
    who: tuple[int, int],
    title: str,
    status: InitiativeStatus = InitiativeStatus.PENDING,
    solution: str | None = SOLUTION,
) -> int:
    """A stored initiative of this member in their unit."""
    author, unit = who
    async with factory() as uow:
        stored = await uow.initiatives.add(Initiative(
            0, author, author, unit, status, NOW, NOW, step=Step.SUMMARY, title=title,
            solution=solution, version=1, submitted_at=NOW,
        ))  # fmt: skip
        await uow.commit()
    return stored.id


async def _find(
    factory: SqlUnitOfWorkFactory,
    within: str,
    title: str | None,
    solution: str | None = None,
    exclude: int | None = None,
) -> list[SimilarFound]:
    async with factory() as uow:
        unit = await uow.units.by_code(within)
        assert unit is not None
        return await uow.similar.find(SimilarQuery(title, solution, unit.id, RULES, exclude))


async def _found_ids(factory: SqlUnitOfWorkFactory, title: str, within: str = "HN-LB") -> list[int]:
    return [f.initiative_id for f in await _find(factory, within, title)]


async def test_found_however_typed_and_in_scope_only(
    units_of_work: SqlUnitOfWorkFactory, path: str
) -> None:
    worker = await _member(units_of_work, "HN-LB-MAY10", "1")
    sibling = await _member(units_of_work, "HN-LB-DUCGIANG", "2")
    elsewhere = await _member(units_of_work, "TH-NS-XIMANG", "3")
    original = await _add(units_of_work, worker, TITLE, InitiativeStatus.APPROVED)
    beside = await _add(units_of_work, sibling, "ga cat chi thua may may cong nghiep")
    await _add(units_of_work, elsewhere, TITLE)
    await _add(units_of_work, worker, "Phần mềm quản lý ca kíp cho tổ bảo vệ")
    for status in (InitiativeStatus.DRAFT, InitiativeStatus.REJECTED, InitiativeStatus.DISCARDED):
        await _add(units_of_work, worker, TITLE, status)

    found = await _find(units_of_work, "HN-LB", "GA CAT chi thừa, máy may công nghiệp")
    assert {f.initiative_id for f in found} == {original, beside}
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    first = next(f for f in found if f.initiative_id == original)
    assert (first.title, first.status, first.author_id) == (
        TITLE,
        InitiativeStatus.APPROVED,
        worker[0],
    )
    # Closest first, ties newest first; what is being written is left out.
    assert await _found_ids(units_of_work, TITLE) == [original, beside]
    again = await _add(units_of_work, sibling, TITLE.upper())
    assert await _found_ids(units_of_work, TITLE) == [again, original, beside]
    assert await _found_ids(units_of_work, TITLE, "HN-LB-MAY10") == [original]
    excluded = await _find(units_of_work, "HN-LB", TITLE, exclude=again)
    assert [f.initiative_id for f in excluded] == [original, beside]
    assert await _found_ids(units_of_work, "Sổ tay an toàn lao động") == []


async def test_the_solution_counts_when_given(
    units_of_work: SqlUnitOfWorkFactory, path: str
) -> None:
    worker = await _member(units_of_work, "HN-LB-MAY10", "1")
    same_idea = await _add(units_of_work, worker, "Dao tỉa chỉ gắn chân vịt")
    other = await _add(units_of_work, worker, "Dao tỉa chỉ gắn chân vịt máy may", solution=(
        "Dùng kéo điện cầm tay, tổ trưởng phát cho từng công nhân đầu ca."))  # fmt: skip
    title_only = await _find(units_of_work, "HN-LB", "Dao tia chi gan chan vit")
    both = await _find(units_of_work, "HN-LB", "Dao tia chi gan chan vit", SOLUTION)
    assert [f.initiative_id for f in title_only] == [same_idea, other]
    assert both[0].initiative_id == same_idea
    # The titles' part is told apart: the hint after the solution knows what the title
    # alone already found.
    assert [f.title_score for f in both] == [f.score for f in title_only][: len(both)]
    # Another way of doing it is less alike once the solutions are compared.
    assert {f.initiative_id: f.score for f in both}.get(other, 0) < title_only[1].score
    # Compared on the solution alone, whatever the title.
    async with units_of_work() as uow:
        unit = await uow.units.by_code("HN-LB")
        assert unit is not None
        rules = SimilarRules(fields=("solution",))
        alone = await uow.similar.find(SimilarQuery("Sổ tay", SOLUTION.upper(), unit.id, rules))
    assert [f.initiative_id for f in alone] == [same_idea]


async def test_the_same_solution_under_another_title_is_recorded_not_hinted(
    units_of_work: SqlUnitOfWorkFactory, path: str
) -> None:
    sibling = await _member(units_of_work, "HN-LB-DUCGIANG", "2")
    entered_again = await _add(units_of_work, sibling, "Cải tiến khâu hoàn thiện sản phẩm")
    await _add(units_of_work, sibling, "Sổ tay an toàn lao động",
               solution="Phát sổ tay bỏ túi in hình minh họa cho công nhân mới.")  # fmt: skip
    async with units_of_work() as uow:
        unit = await uow.units.by_code("HN-LB")
        assert unit is not None
        own = await uow.units.by_code("HN-LB-DUCGIANG")
        assert own is not None
        query = SimilarQuery(TITLE, SOLUTION.lower(), unit.id, RULES, same_solution_in=own.id)
        recorded = await uow.similar.find(query)
        hinted = await uow.similar.find(SimilarQuery(TITLE, SOLUTION, unit.id, RULES))
    # A helper's second entry of the same idea: its solution says it, not its title.
    assert [f.initiative_id for f in recorded] == [entered_again]
    assert recorded[0].score >= 0.8
    # The hint, measured by the millisecond, reads titles only.
    assert hinted == [] or path == "index"


async def test_index_follows_decisions_edits_and_rollbacks(
    units_of_work: SqlUnitOfWorkFactory, path: str
) -> None:
    worker = await _member(units_of_work, "HN-LB-MAY10", "1")
    draft = await _add(units_of_work, worker, TITLE, InitiativeStatus.DRAFT)
    assert await _found_ids(units_of_work, TITLE) == []
    async with units_of_work() as uow:
        initiative = await uow.initiatives.get(draft)
        assert initiative is not None
        initiative.status = InitiativeStatus.PENDING
        await uow.initiatives.save(initiative)
        # Not committed: nothing changes.
    assert await _found_ids(units_of_work, TITLE) == []
    async with units_of_work() as uow:
        initiative = await uow.initiatives.get(draft)
        assert initiative is not None
        initiative.status = InitiativeStatus.PENDING
        await uow.initiatives.save(initiative)
        assert [f.initiative_id for f in await uow.similar.find(
            SimilarQuery(TITLE, None, worker[1], RULES))] == [draft]  # fmt: skip
        await uow.commit()
    assert await _found_ids(units_of_work, TITLE) == [draft]
    async with units_of_work() as uow:
        assert await uow.initiatives.decide(draft, 1, InitiativeStatus.REJECTED, NOW)
        await uow.commit()
    assert await _found_ids(units_of_work, TITLE) == []
    async with units_of_work() as uow:
        assert await uow.initiatives.reopen(draft, 1, NOW)
        await uow.commit()
    assert await _found_ids(units_of_work, TITLE) == [draft]
    async with units_of_work() as uow:
        initiative = await uow.initiatives.get(draft)
        assert initiative is not None
        initiative.title = "Sổ tay an toàn lao động bỏ túi"
        await uow.initiatives.save(initiative)
        await uow.commit()
    assert await _found_ids(units_of_work, TITLE) == []
    assert await _found_ids(units_of_work, "so tay an toan lao dong bo tui") == [draft]


async def test_matches_kept_at_submission_are_read_both_ways(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    worker = await _member(units_of_work, "HN-LB-MAY10", "1")
    earlier = await _add(units_of_work, worker, TITLE, InitiativeStatus.APPROVED)
    second = await _add(units_of_work, worker, "Gá cắt chỉ thừa cho máy may")
    later = await _add(units_of_work, worker, "ga cat chi thua may may cong nghiep")
    async with units_of_work() as uow:
        found = await uow.similar.find(SimilarQuery(TITLE, None, worker[1], RULES, later))
        await uow.similar.record(later, 1, found)
        await uow.similar.record(second, 1, [f for f in found if f.initiative_id == earlier])
        await uow.commit()
    async with units_of_work() as uow:
        kept = await uow.similar.recorded([earlier, second, later, 999_999])
    assert {f.initiative_id for f in kept[later]} == {earlier, second}
    # The earlier one's card shows the later near-duplicates too.
    assert {f.initiative_id for f in kept[earlier]} == {later, second}
    assert {f.initiative_id for f in kept[second]} == {earlier, later}
    assert kept[999_999] == []
    async with units_of_work() as uow:
        # A resubmission replaces its matches; a rejected match is no longer shown.
        await uow.similar.record(later, 2, [f for f in found if f.initiative_id == second])
        assert await uow.initiatives.decide(second, 1, InitiativeStatus.REJECTED, NOW)
        await uow.commit()
    async with units_of_work() as uow:
        kept = await uow.similar.recorded([earlier, later])
    assert kept == {earlier: [], later: []}


async def test_erased_texts_leave_the_index(units_of_work: SqlUnitOfWorkFactory) -> None:
    worker = await _member(units_of_work, "HN-LB-MAY10", "1")
    other = await _member(units_of_work, "HN-LB-DUCGIANG", "2")
    pending = await _add(units_of_work, worker, TITLE)
    approved = await _add(units_of_work, worker, "Gá cắt chỉ thừa cho máy may",
                          InitiativeStatus.APPROVED)  # fmt: skip
    theirs = await _add(units_of_work, other, "ga cat chi thua may may cong nghiep")
    async with units_of_work() as uow:
        district = await uow.units.by_code("HN-LB")
        assert district is not None
        found = await uow.similar.find(SimilarQuery(TITLE, None, district.id, RULES, theirs))
        assert {f.initiative_id for f in found} == {pending, approved}
        await uow.similar.record(theirs, 1, found)
        await uow.erasure.erase(worker[0], [], ("", ""), NOW)
        await uow.commit()
    # The approved one keeps its text (the record of the programme); the other is gone.
    assert await _found_ids(units_of_work, TITLE) == [theirs, approved]
    async with units_of_work() as uow:
        kept = await uow.similar.recorded([theirs])
    assert [f.initiative_id for f in kept[theirs]] == [approved]
