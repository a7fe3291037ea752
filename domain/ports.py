"""What the core needs from storage; ``storage`` implements these protocols."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

from domain.model import (
    Approval,
    Conversation,
    CountChange,
    FieldOfUse,
    Figures,
    HistoryEntry,
    Initiative,
    InitiativeStatus,
    Invite,
    LinkedChat,
    Member,
    Phase,
    ReviewCard,
    Role,
    RoleKind,
    SolutionKind,
    Unit,
)
from domain.ports_access import AccountLinks as AccountLinks
from domain.ports_access import WebAccess as WebAccess
from domain.ports_access import WebSession as WebSession
from domain.ports_files import InitiativeLine as InitiativeLine
from domain.ports_files import KeptFileRepository as KeptFileRepository
from domain.ports_files import ReportSource as ReportSource
from domain.ports_lists import Found, ListQuery, SentAnnouncement
from domain.ports_privacy import ClaimStore as ClaimStore
from domain.ports_privacy import ConsentLog as ConsentLog
from domain.ports_privacy import ErasureStore as ErasureStore
from domain.ports_privacy import PersonalDataSource as PersonalDataSource
from domain.ports_similar import SimilarInitiatives as SimilarInitiatives
from domain.text import Text
from domain.unit_import import UnitRecord

if TYPE_CHECKING:
    from domain.delivery import BroadcastExtras, Outgoing, OutgoingState
    from domain.ui import Reply


class UnitRepository(Protocol):
    """Units of the tree."""

    async def get(self, unit_id: int) -> Unit | None:
        """A unit by id."""

    async def by_code(self, code: str) -> Unit | None:
        """A unit by its code, ignoring case."""

    async def path(self, unit: Unit) -> list[Unit]:
        """The unit and its ancestors, nearest first."""

    async def search_grassroots(self, terms: Sequence[str], limit: int) -> tuple[list[Unit], int]:
        """Grassroots units whose name or path contains every term, and how many match."""

    async def parents_by_code(self) -> dict[str, str | None]:
        """Every unit code with its parent's code."""

    async def import_records(
        self, records: Sequence[UnitRecord], now: dt.datetime
    ) -> tuple[int, bool]:
        """Insert or update units given parents first; return how many were new and
        whether an existing unit moved to another parent."""

    async def grassroots(self) -> list[Unit]:
        """Every grassroots unit, by code."""

    async def children(self, unit_id: int, limit: int) -> list[Unit]:
        """Units directly below, by name."""


class MemberRepository(Protocol):
    """Members by channel identity."""

    async def serialize(self, channel: str, external_id: str) -> None:
        """Hold back, until this transaction ends, any other transaction for the same
        person, in any process: one member's events are handled one at a time."""

    async def by_external_id(self, channel: str, external_id: str) -> Member | None:
        """The member known to a channel by this id."""

    async def by_ids(self, member_ids: Sequence[int]) -> dict[int, Member]:
        """Members by id."""

    async def in_units(self, unit_ids: Sequence[int], limit: int) -> list[Member]:
        """Members of these units, by name."""

    async def ids_below(self, unit_ids: Sequence[int]) -> list[int]:
        """Ids of every member in the subtrees of these units."""

    async def reachable_by_channel(self, member_ids: Sequence[int]) -> dict[str, int]:
        """How many of these members each channel can write to now."""

    async def add(self, member: Member, now: dt.datetime) -> Member:
        """Store a new member and return it with its id."""

    async def save(self, member: Member, now: dt.datetime) -> None:
        """Write a member's changes."""


class ConversationRepository(Protocol):
    """Dialog states."""

    async def get(self, member_id: int) -> Conversation:
        """The member's dialog state (idle if none stored)."""

    async def save(self, conversation: Conversation, now: dt.datetime) -> None:
        """Write the dialog state."""

    async def show_choices(self, member_id: int, choices: Sequence[str], now: dt.datetime) -> None:
        """Remember the numbered choices a notification just showed (dialog unchanged)."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """A page of what awaits review, the total, and how many wait in each unit, most first."""

    items: tuple[Initiative, ...]
    total: int
    per_unit: tuple[tuple[Unit, int], ...]


@dataclass(frozen=True, slots=True)
class PendingFilter:
    """Narrows what awaits review: one kind, one field, submitted before a moment."""

    kind: SolutionKind | None = None
    field: FieldOfUse | None = None
    submitted_before: dt.datetime | None = None


# A narrowed review queue is counted up to one past this many: at national scale a filter
# can match a hundred thousand, and counting each would take longer than the page may.
NARROWED_COUNT_LIMIT = 1000


class InitiativeRepository(Protocol):
    """Initiatives and drafts."""

    async def add(self, initiative: Initiative) -> Initiative:
        """Store a new initiative and return it with its id."""

    async def get(self, initiative_id: int) -> Initiative | None:
        """An initiative with its co-authors and attachments."""

    async def save(self, initiative: Initiative) -> None:
        """Write an initiative's changes, co-authors and attachments included."""

    async def by_author(
        self, author_id: int, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """A page of the initiatives a member wrote or entered for someone, newest first,
        and how many there are in all."""

    async def drafts(self, author_id: int, limit: int) -> tuple[list[Initiative], int]:
        """Open drafts a member writes or enters for someone, last touched first, and how
        many there are."""

    async def record(
        self,
        initiative: Initiative,
        actor_id: int,
        action: str,
        at: dt.datetime,
        note: str | None = None,
        role: str | None = None,
    ) -> None:
        """Append an entry to the initiative's history."""

    async def history(self, initiative_id: int) -> list[HistoryEntry]:
        """The initiative's record, oldest first."""

    async def pending_in(
        self, roots: Sequence[int], offset: int, limit: int, only: PendingFilter | None = None
    ) -> Waiting:
        """Pending initiatives in the subtrees of ``roots``, oldest first; ``only`` narrows."""

    async def waiting_count(self, roots: Sequence[int], only: PendingFilter | None = None) -> int:
        """How many wait for review in the subtrees of ``roots``; ``only`` narrows."""

    async def waiting_page(
        self, roots: Sequence[int], offset: int, limit: int, only: PendingFilter | None = None
    ) -> tuple[list[Initiative], int]:
        """A page of what waits in the subtrees of ``roots``, oldest first, and the total,
        without the count per unit; narrowed, the total is at most NARROWED_COUNT_LIMIT + 1
        (more than the limit)."""

    async def listed_in(
        self, roots: Sequence[int], query: ListQuery, offset: int, limit: int
    ) -> Found:
        """Initiatives sent for review in the subtrees of ``roots``, newest first, as
        ``query`` narrows them."""

    async def reopen(self, initiative_id: int, version: int, now: dt.datetime) -> bool:
        """Send a decided version back for changes; False when it is not decided."""

    async def waiting_since(self, cutoff: dt.datetime) -> list[Initiative]:
        """Pending initiatives submitted before ``cutoff``, oldest first."""

    async def decide(
        self, initiative_id: int, version: int, status: InitiativeStatus, now: dt.datetime
    ) -> bool:
        """Set the outcome of a pending version; False when it was decided already."""

    async def count(self, status: InitiativeStatus | None = None) -> int:
        """How many initiatives there are, optionally of one status."""


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A role in force, with the member who holds it and the unit it is for."""

    role: Role
    member: Member
    unit: Unit


class RoleRepository(Protocol):
    """Roles of members for units."""

    async def grant(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> Role:
        """Give a role, or return it if the member holds it already."""

    async def revoke(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> bool:
        """End a role; False when the member did not hold it."""

    async def of_member(self, member_id: int) -> list[Role]:
        """The member's roles in force."""

    async def ever_held(self, member_id: int, kind: RoleKind) -> bool:
        """Whether the member holds or once held a role of this kind."""

    async def holders(self, unit_ids: Sequence[int], kind: RoleKind) -> dict[int, list[Member]]:
        """Members holding a role in force for each of these units."""

    async def listing(self) -> list[HeldRole]:
        """Every role in force, with its member and unit."""

    async def get(self, role_id: int) -> Role | None:
        """A role by id, in force or not."""

    async def in_subtrees(self, roots: Sequence[int]) -> list[HeldRole]:
        """Roles in force for the units in the subtrees of ``roots``."""


class InviteRepository(Protocol):
    """Invitation links."""

    async def add(self, invite: Invite) -> Invite:
        """Store a new invitation and return it with its id."""

    async def by_token_hash(self, token_hash: str) -> Invite | None:
        """The invitation with this token."""

    async def use(self, invite_id: int, member_id: int, now: dt.datetime) -> bool:
        """Mark the invitation used; False when it was used already."""


class ReviewCardRepository(Protocol):
    """Review cards shown in reviewers' chats."""

    async def add(self, card: ReviewCard, now: dt.datetime) -> None:
        """Remember a card that was sent."""

    async def of_initiative(self, initiative_id: int) -> list[ReviewCard]:
        """Every card shown for the initiative, oldest first."""


class SubmissionSnapshots(Protocol):
    """A digest per field of each submitted version, to tell what the next one changed."""

    async def add(
        self, initiative_id: int, version: int, digests: dict[str, str], at: dt.datetime
    ) -> None:
        """Remember what a version said; a second call for the same version changes nothing."""

    async def of_versions(
        self, initiative_id: int, versions: Sequence[int]
    ) -> dict[int, dict[str, str]]:
        """The digests of these versions that were remembered."""


class ReminderLog(Protocol):
    """Reminders already sent."""

    async def claim(self, member_id: int, kind: str, day: dt.date, now: dt.datetime) -> bool:
        """Record a reminder of this kind for the day; False when one was sent already."""


@dataclass(frozen=True, slots=True, order=True)
class UnitCounts:
    """A unit's figures for a phase, as plain numbers, to check one count against another."""

    unit_id: int
    phase_id: int
    approved: int
    pending: int
    returned: int
    people: int
    benefit_vnd: int


@dataclass(frozen=True, slots=True)
class EmulationGroup:
    """An emulation group (cụm, khối thi đua) and the figures of its units."""

    name: str
    figures: tuple[Figures, ...]


class ProgressRepository(Protocol):
    """Phases, targets and the running figures of every unit's subtree."""

    async def phases(self) -> list[Phase]:
        """Every phase, earliest first."""

    async def add_phase(self, phase: Phase) -> Phase:
        """Store a new phase, or update the one with the same code."""

    async def targets(self, unit_ids: Sequence[int], phase_id: int) -> dict[int, int]:
        """Targets of these units for a phase."""

    async def set_targets(self, targets: Sequence[tuple[int, int, int]], now: dt.datetime) -> None:
        """Set (unit id, phase id, target) triples."""

    async def change(self, unit_id: int, phase_id: int, change: CountChange) -> None:
        """Move the figures of the unit and of every unit above it."""

    async def participate(self, unit_id: int, phase_id: int, person: str, step: int) -> int:
        """Count one approved initiative more (or less) for a person in a grassroots unit;
        return +1 when they start to count as a participant, -1 when they stop, else 0."""

    async def figures(self, units: Sequence[Unit], phase_id: int) -> list[Figures]:
        """The figures and targets of these units, in the same order."""

    async def children_figures(self, parent_id: int | None, phase_id: int) -> list[Figures]:
        """The figures of every unit directly below ``parent_id`` (the roots for None)."""

    async def set_groups(self, groups: dict[str, tuple[str, list[int]]]) -> None:
        """Create or replace emulation groups: code → (name, unit ids)."""

    async def groups_of(self, unit_ids: Sequence[int], phase_id: int) -> list[EmulationGroup]:
        """Each emulation group holding one of these units, with its units' figures."""

    async def rebuild_closure(self) -> None:
        """Recompute which units lie above which, after the tree changed."""

    async def rebuild_counts(self) -> None:
        """Recompute every unit's figures from the initiatives themselves."""

    async def direct_counts(self) -> list[UnitCounts]:
        """Every unit's figures counted from the initiatives without the running figures,
        for checking them; units with nothing to count are left out."""

    async def stored_counts(self) -> list[UnitCounts]:
        """The same from the running figures."""

    async def with_targets(self, phase_id: int) -> list[Figures]:
        """The figures of every unit that has a target for the phase."""


class NudgeLog(Protocol):
    """Nudges sent and milestones reached."""

    async def nudged_on(self, member_id: int, day: dt.date) -> bool:
        """Whether the member got a nudge on that day."""

    async def sent_at(self, member_id: int, key: str) -> dt.datetime | None:
        """When the nudge with this key went to the member, if it did."""

    async def record(
        self, member_id: int, kind: str, key: str, day: dt.date, now: dt.datetime
    ) -> bool:
        """Record a nudge; False when this one was sent before."""

    async def stale_drafts(self, cutoff: dt.datetime) -> list[tuple[Initiative, Member]]:
        """Drafts untouched since ``cutoff``, with the member who writes them."""

    async def reach(
        self, key: str, unit_id: int | None, phase_id: int, percent: int, now: dt.datetime
    ) -> bool:
        """Record a milestone; False when it was reached before."""

    async def milestones_since(self, since: dt.datetime) -> list[tuple[str, int | None, int, int]]:
        """Milestones reached since then: key, unit (None for the programme), phase, percent."""

    async def members_below(self, unit_id: int | None, limit: int) -> list[Member]:
        """Members of the unit's subtree (everyone for None) who accept nudges."""


class Outbox(Protocol):
    """The delivery queue."""

    async def create(
        self,
        kind: str,
        message: Reply | str,
        member_ids: Sequence[int],
        sender_id: int | None,
        now: dt.datetime,
        extra: BroadcastExtras,
    ) -> int | None:
        """Queue a message (a text as typed, or what the core says, kept untranslated) to
        the reachable members among these (and to ``extra.chats``, or as ``extra.edits``);
        return the broadcast id, or None when one with ``extra.key`` exists already."""

    async def claim(self, channel: str, limit: int, urgent: bool | None = None) -> list[Outgoing]:
        """Mark up to ``limit`` queued messages of a channel as being sent; return them
        (urgent ones first, or only urgent or only bulk ones)."""

    async def content(self, broadcast_id: int) -> Reply | None:
        """What a broadcast says; None if there is no such broadcast."""

    async def finish(
        self, outgoing_id: int, state: OutgoingState, now: dt.datetime, error: str | None
    ) -> None:
        """Record how a message ended."""

    async def finish_all(
        self, outgoing_ids: Sequence[int], state: OutgoingState, now: dt.datetime
    ) -> None:
        """Record that these messages ended alike."""

    async def requeue(
        self, outgoing_id: int, count_attempt: bool, error: str | None = None
    ) -> None:
        """Put a message back in the queue."""

    async def recover(self) -> int:
        """Put messages left mid-send by a crash back in the queue; return how many."""

    async def unreachable(self, member_id: int) -> None:
        """The member blocked the bot."""

    async def keyed(self, key: str) -> bool:
        """Whether a broadcast with this key was made."""

    async def image(self, broadcast_id: int) -> tuple[str | None, bytes | None]:
        """The broadcast's photo: its file id (once uploaded), and the picture's bytes."""

    async def uploaded(self, broadcast_id: int, file_id: str) -> None:
        """The picture is on the channel's servers: send its file id from now on (its
        bytes stay, for a channel that cannot use the id)."""

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> bool:
        """A member blocked or unblocked the bot; False for someone unknown."""

    async def tally(self, broadcast_id: int) -> dict[OutgoingState, int]:
        """How many messages of a broadcast are in each state."""

    async def backlog(self, urgent_only: bool = False) -> int:
        """How many messages of all broadcasts are still to send."""

    async def cancel(self, broadcast_id: int) -> int:
        """Stop a broadcast: its queued messages are not sent; return how many."""

    async def sent_by(
        self, member_id: int, kind: str, offset: int, limit: int
    ) -> tuple[list[SentAnnouncement], int]:
        """A page of the broadcasts of a kind a member started, newest first, and how many."""

    async def sender_of(self, broadcast_id: int) -> int | None:
        """Who started a broadcast."""

    async def close(self, broadcast_id: int) -> bool:
        """Mark a broadcast done; False when it was already closed."""

    async def show_progress(self, broadcast_id: int, chat_id: str, message_id: int) -> bool:
        """Remember where the broadcast's progress message (with its stop button) is;
        False when the broadcast has ended already."""

    async def progress_message(self, broadcast_id: int) -> tuple[str, int] | None:
        """Where the broadcast's progress message is, if it was remembered."""


class WeeklySource(Protocol):
    """What a week's commendations are made of."""

    async def approvals(
        self, start: dt.datetime, end: dt.datetime, under: int | None = None
    ) -> list[Approval]:
        """Initiatives approved in [start, end) and still approved; only those in the
        subtree of ``under`` when given."""

    async def parents(self) -> dict[int, int | None]:
        """Every unit with its parent."""

    async def units(self, unit_ids: Sequence[int]) -> dict[int, Unit]:
        """Units by id."""

    async def audience(self) -> dict[int, int]:
        """Per unit, how many of its members the bot can reach who accept announcements."""

    async def queue_members(self, broadcasts: Mapping[int, int]) -> int:
        """Queue a message of the broadcast given for their unit (unit id -> broadcast id)
        to each of those members; return how many were queued."""


class ChatLinks(Protocol):
    """Units' Telegram groups and channels."""

    async def add_code(
        self,
        unit_id: int,
        code_hash: str,
        expires_at: dt.datetime,
        member_id: int,
        now: dt.datetime,
    ) -> None:
        """Record a one-time code that links a chat to the unit."""  # fmt: skip

    async def by_code(self, code_hash: str) -> LinkedChat | None:
        """The pending link a code stands for."""

    async def link(
        self,
        unit_id: int,
        chat_id: str,
        title: str,
        member_id: int,
        now: dt.datetime,
        code_id: int | None,
    ) -> None:
        """Link a chat to a unit (moving it from another unit); a code is used up."""  # fmt: skip

    async def unlink(self, chat_id: str) -> int | None:
        """The chat is no longer linked; the unit it was linked to, if any."""

    async def of_units(self, unit_ids: Sequence[int]) -> dict[int, list[LinkedChat]]:
        """The chats linked to these units."""

    async def by_chat(self, chat_id: str) -> LinkedChat | None:
        """The link of a chat, if it has one."""


class Inbox(Protocol):
    """Inbound events already handled."""

    async def claim(self, event_id: str, now: dt.datetime) -> bool:
        """Record the event; False when it was handled before."""

    async def forget_before(self, cutoff: dt.datetime) -> int:
        """Forget events handled before ``cutoff``; return how many."""


class UnitOfWork(Protocol):
    """One short transaction over the repositories."""

    units: UnitRepository
    members: MemberRepository
    conversations: ConversationRepository
    initiatives: InitiativeRepository
    roles: RoleRepository
    cards: ReviewCardRepository
    snapshots: SubmissionSnapshots
    invites: InviteRepository
    reminders: ReminderLog
    progress: ProgressRepository
    nudges: NudgeLog
    outbox: Outbox
    inbox: Inbox
    weekly: WeeklySource
    chats: ChatLinks
    links: AccountLinks
    files: KeptFileRepository
    web: WebAccess
    reports: ReportSource
    privacy_copy: PersonalDataSource
    consents: ConsentLog
    erasure: ErasureStore
    claims: ClaimStore
    similar: SimilarInitiatives

    async def __aenter__(self) -> Self:
        """Begin."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    async def commit(self) -> None:
        """Make the work durable."""


class Renderer(Protocol):
    """Turns texts into a language (``locales.Translator`` is one)."""

    def render(self, text: Text, language: str) -> str:
        """One text, translated and filled in."""

    def lines(self, texts: Iterable[Text], language: str) -> str:
        """Texts as the lines of one message."""


class UnitOfWorkFactory(Protocol):
    """Makes a fresh unit of work per task."""

    def __call__(self) -> UnitOfWork:
        """A new unit of work."""
