"""Similar initiatives as the worker sees them, without a chat: who sees which match, how
a match is told, and the hint's message on a channel with buttons and on one without."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from domain.codes import parse
from domain.model import Initiative, InitiativeStatus, Member, Role, RoleKind, Step, Unit
from domain.ports_similar import SimilarFound, SimilarQuery, SimilarRules
from domain.similar import (
    OpenSimilar,
    SimilarStore,
    hint,
    is_own,
    match_scope,
    similar_line,
    visible,
)
from domain.text import Text
from locales import Translator

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# 31/03/2026 20:00 UTC is already April in Hà Nội.
DECIDED = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)
LATE_MARCH = dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
# The tree: TLD > HN > HN-LB > {MAY10, DUCGIANG}; TLD > TH > ANNORA.
UNITS = {
    1: Unit(1, "TLD", "Tổng Liên đoàn", "national", None),
    2: Unit(2, "HN", "LĐLĐ TP Hà Nội", "province", 1),
    3: Unit(3, "HN-LB", "LĐLĐ quận Long Biên", "upper", 2),
    4: Unit(4, "HN-LB-MAY10", "CĐCS Công ty May 10", "grassroots", 3),
    5: Unit(5, "HN-LB-DUCGIANG", "CĐCS May Đức Giang", "grassroots", 3),
    6: Unit(6, "TH", "LĐLĐ tỉnh Thanh Hóa", "province", 1),
    7: Unit(7, "TH-KCN-ANNORA", "CĐCS Giày Annora", "grassroots", 6),
}
MAY10, DUCGIANG, ANNORA, LONG_BIEN = 4, 5, 7, 3
WORKER, AUTHOR, HELPER, ADMIN, STRANGER = 10, 11, 12, 13, 14


class Units:
    async def get(self, unit_id: int) -> Unit | None:
        return UNITS.get(unit_id)

    async def path(self, unit: Unit) -> list[Unit]:
        path = [unit]
        while path[-1].parent_id is not None:
            path.append(UNITS[path[-1].parent_id])
        return path


@dataclass
class Roles:
    held: dict[int, list[tuple[int, RoleKind]]] = field(default_factory=dict)

    async def of_member(self, member_id: int) -> list[Role]:
        return [Role(0, member_id, unit_id, kind, NOW)
                for unit_id, kind in self.held.get(member_id, [])]  # fmt: skip


@dataclass
class Similar:
    """The index, answering with what it was given; or failing, as a database may."""

    found: list[SimilarFound] = field(default_factory=list)
    fails: bool = False
    asked: list[SimilarQuery] = field(default_factory=list)

    async def find(self, query: SimilarQuery) -> list[SimilarFound]:
        self.asked.append(query)
        if self.fails:
            raise ConnectionError("the database went away")
        return self.found


@dataclass
class Store:
    units: Units = field(default_factory=Units)
    roles: Roles = field(default_factory=Roles)
    similar: Similar = field(default_factory=Similar)


def typed(store: Store) -> SimilarStore:
    """The fake, as the core's functions take it."""
    return cast(SimilarStore, cast(Any, store))


def person(member_id: int, unit_id: int | None = MAY10) -> Member:
    return Member(id=member_id, channel="chat", external_id=str(member_id), display_name="Lan",
                  language="vi", full_name="Nguyễn Thị Lan", unit_id=unit_id)  # fmt: skip


def match(
    initiative_id: int,
    title: str = "Gá cắt chỉ thừa tự động cho máy may công nghiệp một kim và hai kim",
    status: InitiativeStatus = InitiativeStatus.APPROVED,
    unit_id: int = MAY10,
    confidential: bool = False,
    author: int = AUTHOR,
    helper: int | None = None,
    updated: dt.datetime = DECIDED,
) -> SimilarFound:
    return SimilarFound(initiative_id, title, status, unit_id, author, helper or author,
                        confidential, updated, 0.8)  # fmt: skip


def draft(title: str | None = "Gá cắt chỉ", solution: str | None = None) -> Initiative:
    return Initiative(id=77, author_id=WORKER, entered_by_id=WORKER, unit_id=MAY10,
                      status=InitiativeStatus.DRAFT, created_at=NOW, updated_at=NOW,
                      title=title, solution=solution)  # fmt: skip


def said(texts: tuple[Text, ...] | Text, language: str = "vi") -> str:
    translator = Translator(TZ)
    if isinstance(texts, Text):
        return translator.render(texts, language)
    return translator.lines(texts, language)


# -- who sees which match ------------------------------------------------------------------


async def test_a_confidential_match_is_seen_only_by_those_who_may_read_it() -> None:
    store = Store(roles=Roles({ADMIN: [(LONG_BIEN, RoleKind.ADMIN)],
                               STRANGER: [(ANNORA, RoleKind.ADMIN)]}))  # fmt: skip
    found = [match(1), match(2, confidential=True, helper=HELPER), match(3)]
    assert [f.initiative_id for f in await visible(typed(store), person(WORKER), found)] == [1, 3]
    for reader in (AUTHOR, HELPER, ADMIN):
        shown = await visible(typed(store), person(reader), found)
        assert [f.initiative_id for f in shown] == [1, 2, 3], reader
    # An admin of another province is a stranger to it.
    assert [f.initiative_id for f in await visible(typed(store), person(STRANGER), found)] == [1, 3]


def test_ones_own_match_is_the_authors_or_the_helpers() -> None:
    entered = match(1, author=AUTHOR, helper=HELPER)
    assert is_own(person(AUTHOR), entered)
    assert is_own(person(HELPER), entered)
    assert not is_own(person(WORKER), entered)


async def test_matches_are_looked_for_under_the_unit_above() -> None:
    store = Store()
    assert await match_scope(typed(store), MAY10) == LONG_BIEN
    assert await match_scope(typed(store), 1) == 1, "the top of the tree is its own scope"
    assert await match_scope(typed(store), 999) == 999


# -- how a match is told -------------------------------------------------------------------


def test_a_match_is_one_line_with_its_status_and_month() -> None:
    line = said(similar_line(person(WORKER), match(123)))
    title = "Gá cắt chỉ thừa tự động cho máy may công nghiệp một kim và…"
    assert line == f"SK-000123 · {title} · Đã duyệt 03/2026", "the title cut at a word"
    pending = said(similar_line(person(WORKER), match(7, "Băng tải", InitiativeStatus.PENDING,
                                                      updated=LATE_MARCH)))  # fmt: skip
    assert pending == "SK-000007 · Băng tải · Chờ duyệt 04/2026", "the month in Hà Nội's clock"


def test_ones_own_match_says_so() -> None:
    line = said(similar_line(person(AUTHOR), match(123, "Băng tải")), "en")
    assert line == "You already have SK-000123 · Băng tải · Approved 03/2026"
    own = said(similar_line(person(AUTHOR), match(123, "Băng tải")))
    assert own.startswith("Bạn đã có SK-000123")


# -- the hint --------------------------------------------------------------------------------


async def test_the_hint_lists_what_is_close_and_opens_each_with_a_button() -> None:
    found = [match(1), match(2, status=InitiativeStatus.PENDING, unit_id=DUCGIANG),
             match(3, author=WORKER), match(4), match(5)]  # fmt: skip
    store = Store(similar=Similar(found))
    shown = await hint(
        typed(store), person(WORKER), draft(), Step.TITLE, SimilarRules(), buttons=True
    )
    assert shown is not None
    text = said(shown.text)
    assert text.startswith("🔁 Có thể đã có sáng kiến tương tự:")
    assert "SK-000001" in text and "Chờ duyệt" in text and "Bạn đã có SK-000003" in text
    assert "SK-000004" not in text, "three at most"
    assert "/new" in text, "how to come back to the draft"
    codes = [parse(b.code) for row in shown.buttons for b in row]
    assert codes == [OpenSimilar(1), OpenSimilar(2), OpenSimilar(3)]
    assert said(shown.buttons[0][0].label) == "📄 Xem SK-000001"
    (query,) = store.similar.asked
    assert (query.title, query.solution, query.within, query.exclude) == (
        "Gá cắt chỉ",
        None,
        LONG_BIEN,
        77,
    )


async def test_without_buttons_the_hint_offers_no_choices_but_the_command() -> None:
    store = Store(similar=Similar([match(123)]))
    written = draft(solution="Dùng dao nhiệt")
    # Compared on the solution alone, so nothing was hinted after the title.
    rules = SimilarRules(fields=("solution",))
    shown = await hint(typed(store), person(WORKER), written, Step.SOLUTION, rules,
                       buttons=False)  # fmt: skip
    assert shown is not None
    assert shown.buttons == (), "numbers here would be taken for the next question's"
    assert "Gõ /xem SK-000123 để xem." in said(shown.text)
    assert store.similar.asked[0].solution == "Dùng dao nhiệt"


async def test_no_hint_for_drafts_rejected_or_hidden_matches() -> None:
    found = [match(1, status=InitiativeStatus.DRAFT), match(2, status=InitiativeStatus.REJECTED),
             match(3, confidential=True)]  # fmt: skip
    store = Store(similar=Similar(found))
    assert await hint(typed(store), person(WORKER), draft(), Step.TITLE, SimilarRules(),
                      buttons=True) is None  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "step", "asked"),
    [(("solution",), Step.TITLE, False), (("title",), Step.SOLUTION, False),
     (("title",), Step.TITLE, True), (("title", "solution"), Step.KIND, False)],
)  # fmt: skip
async def test_only_the_answers_compared_bring_a_hint(
    fields: tuple[str, ...], step: Step, asked: bool
) -> None:
    store = Store(similar=Similar([match(1)]))
    rules = SimilarRules(fields=fields)  # type: ignore[arg-type]
    shown = await hint(typed(store), person(WORKER), draft(solution="Dao nhiệt"), step, rules,
                       buttons=True)  # fmt: skip
    assert (shown is not None) is asked
    assert bool(store.similar.asked) is asked


async def test_a_solution_only_recorded_brings_no_hint() -> None:
    store = Store(similar=Similar([match(1)]))
    assert await hint(typed(store), person(WORKER), draft(solution=None), Step.SOLUTION,
                      SimilarRules(), buttons=True) is None  # fmt: skip
    assert not store.similar.asked


async def test_a_failing_search_only_means_no_hint(caplog: pytest.LogCaptureFixture) -> None:
    store = Store(similar=Similar([match(1)], fails=True))
    with caplog.at_level(logging.ERROR, logger="domain.similar"):
        shown = await hint(typed(store), person(WORKER), draft(), Step.TITLE, SimilarRules(),
                           buttons=True)  # fmt: skip
    assert shown is None
    assert "could not be looked up" in caplog.text
