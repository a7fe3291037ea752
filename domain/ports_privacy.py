"""What the core needs from storage for members' personal data: the rows of a member's
copy of their data (/mydata)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.model import HistoryEntry, Initiative, InitiativeStatus, Member, Unit


@dataclass(frozen=True, slots=True)
class Profile:
    """A member as stored, with when the row was made and last changed."""

    member: Member
    unit: Unit | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One answer to the privacy notice (or a helper's statement that the member agreed)."""

    version: str
    action: str
    channel: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """A channel account linked to the member."""

    channel: str
    external_id: str
    linked_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RoleEntry:
    """A role the member holds or held, with its unit's name."""

    kind: str
    unit_code: str
    unit_name: str
    granted_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """A submitted version as remembered: when, and one digest per answer."""

    version: int
    submitted_at: dt.datetime
    digests: dict[str, str]


@dataclass(frozen=True, slots=True)
class SentEntry:
    """A nudge or reminder sent to the member: its kind and when."""

    kind: str
    day: dt.date
    sent_at: dt.datetime


class PersonalDataSource(Protocol):
    """Everything stored about one member, read a part (or a batch) at a time."""

    async def profile(self, member_id: int) -> Profile | None:
        """The member's row; None when there is none."""

    async def consents(self, member_id: int) -> list[ConsentEntry]:
        """Every answer to the privacy notice, oldest first."""

    async def accounts(self, member_id: int) -> list[AccountEntry]:
        """The channel accounts linked to the member."""

    async def roles(self, member_id: int) -> list[RoleEntry]:
        """Roles held or held once, oldest first."""

    async def status_counts(self, member_id: int) -> dict[InitiativeStatus, int]:
        """How many initiatives the member authored, by status."""

    async def authored(self, member_id: int, after_id: int, limit: int) -> list[Initiative]:
        """The next ``limit`` initiatives the member authored (any status), by id after
        ``after_id``, with their co-authors and files."""

    async def records(self, initiative_ids: Sequence[int]) -> dict[int, list[HistoryEntry]]:
        """The record of each initiative, oldest first."""

    async def snapshots(self, initiative_ids: Sequence[int]) -> dict[int, list[SnapshotEntry]]:
        """The remembered versions of each initiative, oldest first."""

    async def names(self, member_ids: Sequence[int]) -> dict[int, str]:
        """Members' names as the chat shows them (the name they gave, else their app's)."""

    async def unit_names(self, unit_ids: Sequence[int]) -> dict[int, str]:
        """Units' names by id."""

    async def nudges(self, member_id: int) -> list[SentEntry]:
        """Nudges and reminders sent to the member, oldest first."""

    async def commendations(self, member_id: int) -> list[dt.datetime]:
        """When weekly commendations were queued to the member, oldest first."""

    async def messages(self, member_id: int) -> dict[str, int]:
        """Messages queued to the member, counted by where they stand."""

    async def web_sessions(self, member_id: int) -> int:
        """How many sign-ins to the staff web view are on record."""


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    """What erasing a member would do, counted, for the confirmation they are shown."""

    drafts: int
    # Approved initiatives: the union's record, kept with their content.
    kept: int
    # Initiatives sent but not approved, which lose their texts and files.
    blanked: int
    # Voice notes and round videos, which go from every initiative.
    recordings: int
    # Channel accounts (Telegram, Zalo) that lead to the member.
    accounts: int


@dataclass(frozen=True, slots=True)
class ErasureCounts:
    """What an erasure did: the erasures row, without personal data."""

    drafts_deleted: int = 0
    initiatives_kept: int = 0
    texts_removed: int = 0
    files_removed: int = 0
    messages_cancelled: int = 0


class ErasureStore(Protocol):
    """Erasing a member's personal data, and deleting drafts left untouched for long."""

    async def erased_at(self, member_id: int) -> dt.datetime | None:
        """When the member's data was erased; None if it was not."""

    async def plan(self, member_id: int) -> ErasurePlan:
        """What erasing the member would do."""

    async def erase(
        self,
        member_id: int,
        names: Sequence[str],
        erased: tuple[object, object],
        now: dt.datetime,
    ) -> ErasureCounts:
        """Erase what the member's row and records hold of them (their drafts, the texts
        and files of what was not approved, recordings, accounts, sessions, roles, queued
        messages). ``erased`` holds two stored text arguments: what ``names`` become in
        messages to others, and what the words of the member's own messages and of the
        review cards of their initiatives that lose their texts become."""  # fmt: skip

    async def record(
        self, member_id: int, requested_by: str, counts: ErasureCounts, now: dt.datetime
    ) -> None:
        """Keep the erasure on record, without personal data."""

    async def withdraw(self, member_id: int, version: str, channel: str, now: dt.datetime) -> None:
        """Record that the member withdrew their consent."""

    async def stale_drafts(
        self, cutoff: dt.datetime, limit: int
    ) -> list[tuple[Initiative, Member | None]]:
        """Drafts untouched since ``cutoff`` and not yet told of, with their writer when
        the writer can be told (reachable, not erased)."""

    async def noticed(self, initiative_ids: Sequence[int], now: dt.datetime) -> None:
        """The writers of these drafts were told they will be deleted."""

    async def clear_touched(self, limit: int) -> int:
        """Forget the notice of drafts opened or changed since; return how many."""

    async def expired_drafts(self, noticed_before: dt.datetime, limit: int) -> list[int]:
        """Drafts told of before then and untouched since."""

    async def delete_drafts(self, initiative_ids: Sequence[int]) -> int:
        """Delete drafts with what hangs on them; return how many."""


class ConsentAction(StrEnum):
    """What was done about a privacy notice."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    # A helper stated that the member they entered, who does not use the bot, agreed.
    STATED = "stated"


@dataclass(frozen=True, slots=True)
class Consent:
    """One answer to a version of the notice, as recorded: never changed or deleted."""

    member_id: int
    version: str
    action: ConsentAction
    channel: str
    at: dt.datetime
    stated_by_id: int | None = None


class ConsentLog(Protocol):
    """The record of consents, and forgetting a newcomer who refused."""

    async def record(self, consent: Consent) -> None:
        """Add an answer to the record."""

    async def forget_newcomer(self, member_id: int) -> bool:
        """Delete a member who holds nothing (no union, role, initiative or record) with
        their dialog and accounts; False, and nothing deleted, when they hold something."""


class ClaimStore(Protocol):
    """The accounts of a member a helper entered, when the member claims the record."""

    async def stated_version(self, member_id: int) -> str | None:
        """The notice's version a helper stated the member agreed to, when that statement
        is the latest answer on the member's record but refusals; else None."""

    async def drop_stand_in(self, member_id: int, channel: str) -> None:
        """Forget the identity of ``channel`` that stood for the member while they had
        no account of their own."""

    async def hand_back(self, member_id: int, stand_in: tuple[str, str], now: dt.datetime) -> None:
        """Detach every account from the member and give it back its stand-in identity
        (channel, external id): the record is again as the helper entered it."""
