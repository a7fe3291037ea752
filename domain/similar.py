"""Similar initiatives as people see them: who may see which match, how a match is told
in one line, the button that opens it, and the soft hint shown while a draft is written.

Shared by the worker's hint (here and in domain/drafting.py), the view that opens a match
(domain/similar_view.py) and the reviewer's card. A hint never blocks anything: it is a
message before the next question, and a failing search only means no hint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.codes import ButtonCode, button_code
from domain.dialog import STATUS_LABELS
from domain.model import Initiative, InitiativeStatus, Member, RoleKind, Step, format_number
from domain.ports_similar import (
    SimilarField,
    SimilarFound,
    SimilarInitiatives,
    SimilarQuery,
    SimilarRules,
)
from domain.roles import RoleScope, covers, units_held
from domain.text import Month, Text, Verbatim, _, clip
from domain.ui import Button, Reply

log = logging.getLogger("domain.similar")

# Until the settings say otherwise (bot/graph.py).
DEFAULT_RULES = SimilarRules()
# A match's title in a hint or on a card: an excerpt cut at a word.
TITLE_EXCERPT = 60
# How many matches are asked of storage for one hint; at most ``rules.shown`` are shown,
# after those the reader may not see are left out.
HINT_LIMIT = 10
# The statuses a match may have: drafts, rejected and discarded initiatives are never one.
MATCHED = frozenset({InitiativeStatus.PENDING, InitiativeStatus.RETURNED,
                     InitiativeStatus.APPROVED})  # fmt: skip
# The answers after which the dialog looks for similar initiatives, by what they compare.
HINTED: dict[Step, SimilarField] = {Step.TITLE: "title", Step.SOLUTION: "solution"}


@button_code("sm", "open")
@dataclass(frozen=True, slots=True)
class OpenSimilar(ButtonCode):
    """sm:open:123 — show this initiative as far as the one who pressed may see it."""

    initiative: int


class SimilarStore(RoleScope, Protocol):
    """What finding and filtering matches reads: the index, the unit tree and the roles."""

    similar: SimilarInitiatives


# -- where matches are looked for, and who sees which ------------------------------------


async def match_scope(store: RoleScope, unit_id: int) -> int:
    """The root of the subtree an initiative of this unit is compared within: the unit
    above it (its grassroots union and its neighbours), or the unit itself at the top."""
    unit = await store.units.get(unit_id)
    if unit is None or unit.parent_id is None:
        return unit_id
    return unit.parent_id


def is_own(reader: Member, found: SimilarFound) -> bool:
    """Whether the reader wrote the match or entered it for its author."""
    return reader.id in (found.author_id, found.entered_by_id)


async def visible(
    store: RoleScope, reader: Member, found: Sequence[SimilarFound]
) -> list[SimilarFound]:
    """The matches the reader may see, in their order: a confidential one only for its
    author, its helper and the admins above its unit. Any other is left out entirely:
    even its number tells that a confidential solution like this one exists."""
    held: list[int] | None = None
    shown: list[SimilarFound] = []
    for match in found:
        if match.confidential and not is_own(reader, match):
            if held is None:
                held = await units_held(store, reader.id, RoleKind.ADMIN)
            unit = await store.units.get(match.unit_id) if held else None
            if unit is None or not await covers(store, held, unit):
                continue
        shown.append(match)
    return shown


# -- how a match is told -----------------------------------------------------------------


def title_excerpt(title: str | None) -> Verbatim:
    """A title cut at a word to fit a line of a hint or a card."""
    return Verbatim(clip(title or "…", TITLE_EXCERPT, first_line=True))


def status_text(status: InitiativeStatus) -> Text:
    """The status as people read it elsewhere ("Đã duyệt", "Chờ duyệt")."""
    return STATUS_LABELS[status]


def standing(status: InitiativeStatus, month: Month) -> Text:
    """The status and the month it was reached: "Đã duyệt 03/2026"."""
    return _("{status} {month}", status=status_text(status), month=month)


def similar_line(reader: Member, found: SimilarFound) -> Text:
    """One match on a line: "SK-000123 · Gá cắt chỉ thừa… · Đã duyệt 03/2026", the
    reader's own as "Bạn đã có SK-000123 · …"."""
    args = {"number": format_number(found.initiative_id), "title": title_excerpt(found.title),
            "standing": standing(found.status, Month(found.updated_at))}  # fmt: skip
    if is_own(reader, found):
        return _("You already have {number} · {title} · {standing}", **args)
    return _("{number} · {title} · {standing}", **args)


def open_button(initiative_id: int) -> Button:
    """The button that opens a match: "📄 Xem SK-000123"."""
    return Button(_("📄 View {number}", number=format_number(initiative_id)),
                  OpenSimilar(initiative_id).encode())  # fmt: skip


def how_to_open(found: Sequence[SimilarFound]) -> Text:
    """Where buttons cannot be shown: the command that opens a match."""
    number = format_number(found[0].initiative_id)
    if len(found) == 1:
        return _("Type /xem {number} to view it.", number=number)
    return _("To view one, type /xem and its number, for example /xem {number}.", number=number)


# -- the hint while writing --------------------------------------------------------------


async def find_visible(
    store: SimilarStore, reader: Member, query: SimilarQuery
) -> list[SimilarFound]:
    """The closest matches the reader may see, at most ``rules.shown``."""
    found = await store.similar.find(query)
    kept = [f for f in found if f.status in MATCHED]
    return (await visible(store, reader, kept))[: query.rules.shown]


def _query(
    draft: Initiative, field: SimilarField, within: int, rules: SimilarRules
) -> SimilarQuery:
    solution = draft.solution if field == "solution" else None
    return SimilarQuery(draft.title, solution, within=within, rules=rules, exclude=draft.id,
                        limit=HINT_LIMIT)  # fmt: skip


async def hint(
    store: SimilarStore,
    reader: Member,
    draft: Initiative,
    answered: Step,
    rules: SimilarRules,
    *,
    buttons: bool,
) -> Reply | None:
    """The message shown before the next question when initiatives like the draft exist,
    or None. A search that fails is logged and shows nothing: the dialog goes on."""
    field = HINTED.get(answered)
    text = draft.title if field == "title" else draft.solution
    if field is None or field not in rules.fields or not (text or "").strip():
        return None
    try:
        within = await match_scope(store, draft.unit_id)
        found = await find_visible(store, reader, _query(draft, field, within, rules))
        if (
            field == "solution"
            and "title" in rules.fields
            and all((f.title_score or 0.0) >= rules.threshold for f in found)
        ):
            # Each was close by its title alone, so hinted a question ago: only something
            # the solution brings is worth the worker's second look.
            return None
    except Exception:
        # A hint is a courtesy: whatever goes wrong in the search, the answer is saved and
        # the next question is asked.
        log.exception("similar initiatives of draft %s could not be looked up", draft.id)
        return None
    if not found:
        return None
    return _hint_reply(reader, found, buttons)


def _hint_reply(reader: Member, found: Sequence[SimilarFound], buttons: bool) -> Reply:
    lines = [_("🔁 There may already be a similar initiative:"),
             *(similar_line(reader, f) for f in found),
             _("Nothing is blocked: go on with the next question, or stop here; your draft "
               "is kept, and /new continues it.")]  # fmt: skip
    if not buttons:
        # Numbered choices here would be confused with the next question's.
        return Reply((*lines, how_to_open(found)))
    return Reply(tuple(lines), tuple((open_button(f.initiative_id),) for f in found))
