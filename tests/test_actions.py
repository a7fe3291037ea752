"""A use case run without a chat, as the web page will run it: one transaction, its
notifications queued with it, nothing written when it refuses."""

from __future__ import annotations

from functools import partial

import pytest

from domain import review_cases
from domain.actions import Actions
from domain.errors import NotAllowed, NotFound
from domain.model import Decision, InitiativeStatus
from domain.review_cases import Preset
from handlers.telegram.render import CAPABILITIES, CHANNEL
from tests.test_usecases_review import LATER, Union, union

__all__ = ["union"]  # the fixture, shared


def actions(world: Union) -> Actions:
    return Actions(world.units_of_work, lambda: LATER, {CHANNEL: CAPABILITIES})


async def backlog(world: Union) -> int:
    async with world.units_of_work() as uow:
        return await uow.outbox.backlog(urgent_only=True)


async def test_a_decision_queues_the_author_and_every_card(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    before = await backlog(union)
    decide = partial(review_cases.decide, initiative_id=1, version=1,
                     decision=Decision.RETURN, reason=Preset("nodata"))  # fmt: skip

    decided = await actions(union).run(
        people.admin_b.id, lambda uow, actor, now: decide(uow, actor, now=now)
    )

    assert decided.initiative.status is InitiativeStatus.RETURNED
    assert (await union.status())[0] is InitiativeStatus.RETURNED
    # The author's notice, and the two admins' cards shown anew.
    assert await backlog(union) - before == 3


async def test_a_refusal_writes_nothing(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    before = await backlog(union)

    with pytest.raises(NotAllowed):
        await actions(union).run(
            people.elsewhere.id,
            lambda uow, actor, now: review_cases.decide(
                uow, actor, 1, 1, Decision.APPROVE, None, now
            ),
        )
    with pytest.raises(NotFound):
        await actions(union).run(
            10_000, lambda uow, actor, now: review_cases.pending(uow, actor, 0, 5)
        )

    assert await union.status() == (InitiativeStatus.PENDING, [])
    assert await backlog(union) == before


async def test_the_result_of_a_reading_use_case_comes_back(union: Union) -> None:
    people = await union.people()
    await union.submit(people.author)
    waiting = await actions(union).run(
        people.upper.id, lambda uow, actor, now: review_cases.pending(uow, actor, 0, 5)
    )
    assert [item.id for item in waiting.items] == [1]
