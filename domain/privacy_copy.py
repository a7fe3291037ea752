"""/mydata: a member's copy of everything the bot holds about them (the right to know,
see and get a copy, Luật 91/2025/QH15).

``personal_copy`` gathers it, channel-free, a part or a batch of initiatives per query;
nothing of anyone else but what the chat already shows the member (who decided their
initiative), and no secret (token hashes, CSRF tokens, file bytes). The chat answers with
a short summary, and the two files (JSON for programs, a workbook to read) are made
after the turn's transaction, as /export's reports are; the command line makes them for
requests that come on paper or by phone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from domain.dialog import STATUS_LABELS
from domain.errors import NotFound
from domain.model import HistoryEntry, Initiative, InitiativeStatus, Member, Step
from domain.ports import Renderer, UnitOfWorkFactory
from domain.ports_privacy import (
    AccountEntry,
    ConsentEntry,
    PersonalDataSource,
    Profile,
    RoleEntry,
    SentEntry,
)
from domain.privacy_files import ROLE_KINDS, copy_json, copy_sheets
from domain.reports import Batches, Sheet
from domain.review_card import changed_fields
from domain.routes import CommandRoute, Routes
from domain.text import Moment, Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Document, Outcome, Reply

log = logging.getLogger(__name__)

# Initiatives read per query: a member with thousands never has them all in one.
BATCH = 500


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """A submitted version: when, and which answers changed since the one before."""

    version: int
    submitted_at: dt.datetime
    changed: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class CopiedInitiative:
    """One of the member's initiatives with all it carries: its unit's name, the helper
    who entered it for them, its record and its versions."""

    initiative: Initiative
    unit_name: str
    entered_by: str | None
    record: tuple[HistoryEntry, ...]
    versions: tuple[VersionEntry, ...]


@dataclass(frozen=True, slots=True)
class PersonalCopy:
    """Everything the bot holds about one member."""

    profile: Profile
    consents: tuple[ConsentEntry, ...]
    accounts: tuple[AccountEntry, ...]
    roles: tuple[RoleEntry, ...]
    # Every initiative the member authored, drafts included, oldest first.
    initiatives: tuple[CopiedInitiative, ...]
    nudges: tuple[SentEntry, ...]
    commendations: tuple[dt.datetime, ...]
    # Messages queued to the member, by where they stand.
    messages: dict[str, int]
    web_sessions: int

    @property
    def drafts(self) -> tuple[CopiedInitiative, ...]:
        """The drafts, never submitted."""
        return tuple(c for c in self.initiatives if c.initiative.status is InitiativeStatus.DRAFT)

    @property
    def submitted(self) -> tuple[CopiedInitiative, ...]:
        """The initiatives submitted at least once."""
        return tuple(
            c for c in self.initiatives if c.initiative.status is not InitiativeStatus.DRAFT
        )


class CopyStore(Protocol):
    """What a copy reads."""

    privacy_copy: PersonalDataSource


def no_member(member_id: int) -> NotFound:
    """The error for a member number that names no one."""
    return NotFound(_("There is no member with the number {id}.", id=Verbatim(str(member_id))))


async def personal_copy(uow: CopyStore, member_id: int, batch: int = BATCH) -> PersonalCopy:
    """Everything stored about the member; NotFound when there is no such member."""
    source = uow.privacy_copy
    profile = await source.profile(member_id)
    if profile is None:
        raise no_member(member_id)
    copied: list[CopiedInitiative] = []
    after = 0
    while True:
        initiatives = await source.authored(member_id, after, batch)
        if not initiatives:
            break
        copied += await _copied(source, member_id, initiatives)
        after = initiatives[-1].id
    return PersonalCopy(
        profile=profile,
        consents=tuple(await source.consents(member_id)),
        accounts=tuple(await source.accounts(member_id)),
        roles=tuple(await source.roles(member_id)),
        initiatives=tuple(copied),
        nudges=tuple(await source.nudges(member_id)),
        commendations=tuple(await source.commendations(member_id)),
        messages=await source.messages(member_id),
        web_sessions=await source.web_sessions(member_id),
    )


async def _copied(
    source: PersonalDataSource, member_id: int, initiatives: Sequence[Initiative]
) -> list[CopiedInitiative]:
    """A batch of initiatives with their records, versions, units and helpers."""
    ids = [i.id for i in initiatives]
    records = await source.records(ids)
    snapshots = await source.snapshots(ids)
    units = await source.unit_names(sorted({i.unit_id for i in initiatives}))
    # The helpers who entered them for the member: /history names them too.
    helpers = await source.names(sorted({i.entered_by_id for i in initiatives} - {member_id}))
    copied = []
    for initiative in initiatives:
        versions: list[VersionEntry] = []
        before: dict[str, str] | None = None
        for snapshot in snapshots[initiative.id]:
            changed = changed_fields(before, snapshot.digests) if before is not None else []
            versions.append(VersionEntry(snapshot.version, snapshot.submitted_at, tuple(changed)))
            before = snapshot.digests
        copied.append(CopiedInitiative(
            initiative, units.get(initiative.unit_id, ""), helpers.get(initiative.entered_by_id),
            tuple(records[initiative.id]), tuple(versions),
        ))  # fmt: skip
    return copied


# -- the summary in chat ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CopySummary:
    """What /mydata says in one phone screen."""

    profile: Profile
    statuses: dict[InitiativeStatus, int]
    roles: tuple[RoleEntry, ...]
    accounts: tuple[AccountEntry, ...]
    consent: ConsentEntry | None


async def copy_summary(uow: CopyStore, member_id: int) -> CopySummary:
    """Counts and the consent in force, without reading any initiative."""
    source = uow.privacy_copy
    profile = await source.profile(member_id)
    if profile is None:
        raise no_member(member_id)
    # The answer in force: the member's current version, as given (or stated) last.
    current = profile.member.consent_version
    given = [c for c in await source.consents(member_id)
             if c.action in ("given", "stated") and c.version == current]  # fmt: skip
    roles = tuple(r for r in await source.roles(member_id) if r.revoked_at is None)
    return CopySummary(profile, await source.status_counts(member_id), roles,
                       tuple(await source.accounts(member_id)),
                       given[-1] if given else None)  # fmt: skip


# The order statuses are counted in; discarded drafts are in the files only.
_SHOWN = (InitiativeStatus.APPROVED, InitiativeStatus.PENDING, InitiativeStatus.RETURNED,
          InitiativeStatus.REJECTED)  # fmt: skip


def summary_lines(summary: CopySummary, labels: dict[str, str]) -> list[Text]:
    """The summary as lines; ``labels`` names the apps of linked accounts."""
    member, none = summary.profile.member, _("—")
    submitted = sum(summary.statuses.get(s, 0) for s in _SHOWN)
    by_status = tuple(_("{status} {count}", status=STATUS_LABELS[s], count=summary.statuses[s])
                      for s in _SHOWN if summary.statuses.get(s))  # fmt: skip
    lines = [
        _("📦 What the bot holds about you"),
        _("Name: {name}", name=Verbatim(member.full_name or member.display_name)),
        _("Phone: {phone}", phone=Verbatim(member.phone) if member.phone else none),
        _("Grassroots union: {unit}",
          unit=Verbatim(summary.profile.unit.name) if summary.profile.unit else none),
        _("Initiatives submitted: {count}", count=submitted) if not by_status else
        _("Initiatives submitted: {count} ({statuses})", count=submitted, statuses=by_status),
        _("Drafts: {count}", count=summary.statuses.get(InitiativeStatus.DRAFT, 0)),
    ]  # fmt: skip
    roles = tuple(_("{role} of {unit}", role=ROLE_KINDS.get(r.kind, Verbatim(r.kind)),
                    unit=Verbatim(r.unit_name)) for r in summary.roles)  # fmt: skip
    lines.append(_("Roles: {roles}", roles=roles or none))
    apps = tuple(Verbatim(labels.get(a.channel, a.channel)) for a in summary.accounts)
    lines.append(_("Linked accounts: {accounts}", accounts=apps or none))
    consent = summary.consent
    lines.append(
        _("Privacy notice agreed: version {version}, {moment}", version=Verbatim(consent.version),
          moment=Moment(consent.at)) if consent else _("Privacy notice agreed: not yet")
    )  # fmt: skip
    lines.append(_("Everything is in the two files below. To correct your name or phone: "
                   "/settings. To withdraw consent and erase your data: /xoadulieu."))  # fmt: skip
    return lines


# -- the files -------------------------------------------------------------------------


class CopyFormat(StrEnum):
    """The two files of a copy."""

    JSON = "json"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class CopyOrder:
    """A copy asked for: whose, and as which file."""

    member_id: int
    format: CopyFormat


class WorkbookWriter(Protocol):
    """Writes several sheets into one workbook, in a language; returns the file's bytes."""

    async def workbook(self, sheets: Sequence[tuple[Sheet, Batches]], language: str) -> bytes:
        """The workbook."""


FILE_CAPTIONS: dict[CopyFormat, Text] = {
    CopyFormat.JSON: _("Your data as JSON, for programs."),
    CopyFormat.XLSX: _("Your data as an Excel workbook, one sheet for each part."),
}
# Said by a channel that can neither send a file nor link it.
ASK_THE_UNION = _("This app cannot receive files: send /mydata on Telegram, or ask your "
                  "union for a copy of your data.")  # fmt: skip


def file_name(member_id: int, fmt: CopyFormat) -> str:
    """The file's name: whose copy, as which file."""
    return f"du-lieu-ca-nhan-{member_id}.{fmt.value}"


class PersonalCopies:
    """Makes a member's copy as a file, whichever front end asks."""

    def __init__(
        self, units_of_work: UnitOfWorkFactory, writer: WorkbookWriter, renderer: Renderer
    ) -> None:
        self._uow = units_of_work
        self._writer = writer
        self._renderer = renderer

    async def language(self, member_id: int) -> str:
        """The member's language; NotFound for no such member."""
        async with self._uow() as uow:
            profile = await uow.privacy_copy.profile(member_id)
        if profile is None:
            raise no_member(member_id)
        return profile.member.language

    async def make(
        self, member_id: int, fmt: CopyFormat, language: str, now: dt.datetime
    ) -> Document:
        """The copy as a file, read in one transaction (a batch of initiatives per
        query) and written after it; NotFound for no such member."""
        async with self._uow() as uow:
            copy = await personal_copy(uow, member_id)
        if fmt is CopyFormat.JSON:
            # Megabytes for a member with thousands of initiatives: off the event loop.
            data = await asyncio.to_thread(copy_json, copy, now, self._renderer, language)
        else:
            data = await self._writer.workbook(copy_sheets(copy, now), language)
        return Document(file_name(member_id, fmt), data, unsent=ASK_THE_UNION)


async def prepare_copies(
    outcome: Outcome, copies: PersonalCopies | None, member: Member, now: dt.datetime
) -> None:
    """Make the copies the replies ask for, after the turn's transaction."""
    for index, reply in enumerate(outcome.replies):
        document = reply.document
        if document is None or not isinstance(document.order, CopyOrder):
            continue
        if copies is None:
            outcome.replies[index] = Reply((_("Files cannot be made here."),))
            continue
        order = document.order
        try:
            made = await copies.make(order.member_id, order.format, outcome.language, now)
        except NotFound as error:
            outcome.replies[index] = Reply((error.text,))
            continue
        log.info("copy of their data (%s) sent to member %s", order.format.value, member)
        outcome.replies[index] = replace(reply, document=made)


class MyData:
    """/mydata: the summary, then the two files."""

    def __init__(self, labels: dict[str, str]) -> None:
        # The apps' names of the running channels, to name linked accounts.
        self._labels = labels

    def routes(self) -> Routes:
        """/mydata, answered before joining and in the middle of a dialog alike."""
        return Routes(commands={
            "mydata": CommandRoute(lambda turn, _a: self.show(turn), open=True, leaves=False),
        })  # fmt: skip

    async def show(self, turn: Turn) -> None:
        """The summary now; the files once the turn is over."""
        summary = await copy_summary(turn.uow, turn.member.id)
        turn.say(*summary_lines(summary, self._labels))
        for fmt, caption in FILE_CAPTIONS.items():
            order = CopyOrder(turn.member.id, fmt)
            document = Document(file_name(turn.member.id, fmt), order=order, unsent=ASK_THE_UNION)
            turn.outcome.replies.append(Reply((caption,), document=document))
