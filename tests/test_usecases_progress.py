"""Progress use cases called directly, without a chat: /stats, /top and /targets as data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.errors import InputError, NotAllowed, NotFound
from domain.model import Phase
from domain.ports import UnitCounts
from domain.progress import MAX_TARGET, import_groups
from domain.progress_cases import (
    PathProgress,
    UnitProgress,
    children_progress,
    progress_overview,
    rankings,
    set_target,
    target_sheet,
    unit_progress,
)
from tests.usecase_world import NOW, TODAY, World, open_world

GROUPS = Path(__file__).resolve().parent.parent / "examples" / "groups.csv"


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url) as opened:
        yield opened


async def nghe_an_ahead_of_thanh_hoa(world: World) -> Phase:
    """Nghệ An beats its target four times over; Thanh Hóa has more, against a larger one."""
    phase = await world.phase()
    await world.figures(
        phase,
        approved={"NA-VINH-BVHN": 120, "TH-KCN-ANNORA": 300, "HN-LB-MAY10": 30},
        targets={"NA": 30, "TH": 310, "HN": 520, "NA-VINH": 20, "HN-LB-MAY10": 40},
    )
    return phase


async def test_an_admin_sees_their_unit_ranked_with_the_units_below(world: World) -> None:
    phase = await nghe_an_ahead_of_thanh_hoa(world)
    admin = await world.person(admin_of="NA")
    async with world.session() as uow:
        view = await progress_overview(uow, admin, TODAY)
    assert isinstance(view, UnitProgress)
    assert view.phase.id == phase.id and view.days_left == 40
    assert view.own.figures.unit.code == "NA" and view.own.figures.approved == 120
    assert (view.own.rank, view.own.of) == (1, 7), "first of the provinces and sectors"
    assert [f.unit.code for f in view.children][:1] == ["NA-VINH"], "with a target, first"
    assert view.up is None, "nothing above their own unit for them"
    assert view.waiting_in_all == view.own.figures.pending == 0


async def test_a_member_sees_the_path_up_from_their_unit(world: World) -> None:
    await nghe_an_ahead_of_thanh_hoa(world)
    worker = await world.person(unit="HN-LB-MAY10")
    async with world.session() as uow:
        view = await progress_overview(uow, worker, TODAY)
    assert isinstance(view, PathProgress)
    assert [s.figures.unit.code for s in view.path] == ["HN-LB-MAY10", "HN-LB", "HN", "TLD"]
    assert view.own.approved == 30 and view.own.percent == 75
    hanoi = view.path[2]
    assert (hanoi.rank, hanoi.of) == (3, 7), "behind Nghệ An and Thanh Hóa by percent"


async def test_nothing_to_show_before_a_phase_or_to_someone_without_a_unit(world: World) -> None:
    worker = await world.person(unit="HN-LB-MAY10")
    async with world.session() as uow:
        with pytest.raises(NotFound):
            await progress_overview(uow, worker, TODAY)
    await world.phase()
    stranger = await world.person()
    async with world.session() as uow:
        with pytest.raises(NotFound):
            await progress_overview(uow, stranger, TODAY)
        with pytest.raises(NotFound):
            await rankings(uow, stranger, TODAY)


async def test_drilling_down_stays_within_the_admins_units(world: World) -> None:
    phase = await nghe_an_ahead_of_thanh_hoa(world)
    national = await world.person(admin_of="TLD")
    hanoi = await world.person(admin_of="HN")
    nghe_an, vinh = await world.unit("NA"), await world.unit("NA-VINH")
    async with world.session() as uow:
        view = await unit_progress(uow, national, vinh.id, phase.id, TODAY)
        assert view.own.figures.approved == 120 and view.own.figures.target == 20
        assert view.up == nghe_an.id, "one level up is still theirs"
        assert [f.unit.code for f in view.children] == ["NA-VINH-BVHN", "NA-VINH-CAPNUOC"]
        refused = [(hanoi, vinh.id, phase.id), (national, 10_000, phase.id),
                   (national, vinh.id, 999)]  # fmt: skip
        for actor, unit_id, phase_id in refused:
            with pytest.raises(NotAllowed):
                await unit_progress(uow, actor, unit_id, phase_id, TODAY)
        with pytest.raises(NotAllowed):
            await children_progress(uow, hanoi, nghe_an.id, phase.id, TODAY)
        chart = await children_progress(uow, national, nghe_an.id, None, TODAY)
    assert [f.unit.code for f in chart.children] == ["NA-VINH"]
    assert chart.pace == 89.3, "326 of the phase's 365 days have begun"


async def test_rankings_by_percent_by_count_and_in_the_emulation_group(world: World) -> None:
    await nghe_an_ahead_of_thanh_hoa(world)
    assert await import_groups(world.units_of_work, GROUPS.read_bytes()) == 3
    admin = await world.person(admin_of="NA")
    async with world.session() as uow:
        ranking = await rankings(uow, admin, TODAY)
    assert ranking.unit.code == "NA"
    assert [f.unit.code for f in ranking.by_percent][:3] == ["NA", "TH", "HN"]
    assert [f.unit.code for f in ranking.by_count][:3] == ["TH", "NA", "HN"]
    (group,) = ranking.groups
    assert group.name == "Khối thi đua các tỉnh Bắc Trung Bộ" and group.mine.code == "NA"
    assert [f.unit.code for f in group.ranked] == ["NA", "TH", "HT"]


async def test_an_admin_sets_targets_of_the_units_directly_below(world: World) -> None:
    phase = await nghe_an_ahead_of_thanh_hoa(world)
    admin = await world.person(admin_of="HN-LB")
    worker = await world.person(unit="HN-LB-MAY10")
    may10, hoang_van_thu = await world.unit("HN-LB-MAY10"), await world.unit("HN-HM-HVT")
    async with world.session() as uow:
        sheet = await target_sheet(uow, admin, TODAY)
        assert [(f.unit.code, f.target) for f in sheet.children] == [
            ("HN-LB-DUCGIANG", None), ("HN-LB-MAY10", 40)]  # fmt: skip
        with pytest.raises(NotAllowed):
            await target_sheet(uow, worker, TODAY)
        saved = await set_target(uow, admin, may10.id, phase.id, 60, NOW)
        assert (saved.unit.code, saved.target) == ("HN-LB-MAY10", 60)
        refused = [
            (worker, may10.id, phase.id, 70),
            (admin, hoang_van_thu.id, phase.id, 70),
            (admin, may10.id, 999, 70),
        ]
        for actor, unit_id, phase_id, target in refused:
            with pytest.raises(NotAllowed):
                await set_target(uow, actor, unit_id, phase_id, target, NOW)
        for target in (0, -5, MAX_TARGET + 1):
            with pytest.raises(InputError):
                await set_target(uow, admin, may10.id, phase.id, target, NOW)
        await uow.commit()
    async with world.session() as uow:
        stored = await uow.progress.targets([may10.id, hoang_van_thu.id], phase.id)
    assert stored == {may10.id: 60}


async def test_counts_are_named_and_the_targeted_units_listed(world: World) -> None:
    phase = await nghe_an_ahead_of_thanh_hoa(world)
    may10 = await world.unit("HN-LB-MAY10")
    async with world.session() as uow:
        stored = {c.unit_id: c for c in await uow.progress.stored_counts()}
        targeted = {f.unit.code: f for f in await uow.progress.with_targets(phase.id)}
    assert stored[may10.id] == UnitCounts(may10.id, phase.id, approved=30, pending=0,
                                          returned=0, people=0, benefit_vnd=0)  # fmt: skip
    assert set(targeted) == {"NA", "TH", "HN", "NA-VINH", "HN-LB-MAY10"}
    assert targeted["HN"].approved == 30 and targeted["NA-VINH"].percent == 600
