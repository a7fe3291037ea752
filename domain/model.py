"""Entities of the programme: units, members, initiatives and the dialog state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as default
from decimal import Decimal
from enum import StrEnum
from typing import Any


class InitiativeStatus(StrEnum):
    """Where an initiative stands; drafts are initiatives not yet submitted."""

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    DISCARDED = "discarded"


class SolutionKind(StrEnum):
    """The five kinds of solution the programme's guidance counts, plus other."""

    TECHNICAL = "technical"
    MANAGEMENT = "management"
    OPERATIONAL = "operational"
    TECHNOLOGY = "technology"
    OTHER = "other"


class FieldOfUse(StrEnum):
    """The field in which an initiative is applied."""

    PRODUCTION = "production"
    SAFETY = "safety"
    COST = "cost"
    QUALITY = "quality"
    SERVICE = "service"
    DIGITAL = "digital"
    OTHER = "other"


class Step(StrEnum):
    """A question of the submission dialog; a draft remembers the one it is at."""

    TITLE = "title"
    KIND = "kind"
    FIELD = "field"
    PROBLEM = "problem"
    SOLUTION = "solution"
    APPLIED = "applied"
    EFFECT = "effect"
    BENEFIT = "benefit"
    COAUTHORS = "coauthors"
    ATTACHMENTS = "files"
    CONFIDENTIAL = "secret"
    CONFIDENTIAL_NOTE = "secret_note"
    SUMMARY = "summary"
    DISCARD = "discard"


class DialogState(StrEnum):
    """What a member's next message answers."""

    IDLE = "idle"
    JOIN_SEARCH = "join_search"
    JOIN_CONFIRM = "join_confirm"
    # The privacy notice, answered before a name is asked (domain.privacy).
    JOIN_CONSENT = "join_consent"
    JOIN_NAME = "join_name"
    JOIN_PHONE = "join_phone"
    DRAFTING = "drafting"
    REVIEWING = "reviewing"
    PROXY_MEMBER = "proxy_member"
    # A helper states that the member they enter agreed to the privacy notice.
    PROXY_CONSENT = "proxy_consent"
    TARGETS = "targets"
    ANNOUNCING = "announcing"
    # The member is asked to confirm that their data be erased (domain.erasure).
    ERASING = "erasing"
    # /settings: the member types their corrected name, or phone (domain.preferences).
    SETTINGS_NAME = "settings_name"
    SETTINGS_PHONE = "settings_phone"
    # A helper types the name of a member they entered, for a claim code (domain.claiming).
    CLAIM_MEMBER = "claim_member"


class RoleKind(StrEnum):
    """What a person may do for a unit and the units below it."""

    ADMIN = "admin"
    HELPER = "helper"


class Decision(StrEnum):
    """What a reviewer decides about one version of an initiative."""

    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"


DECISION_STATUS = {
    Decision.APPROVE: InitiativeStatus.APPROVED,
    Decision.RETURN: InitiativeStatus.RETURNED,
    Decision.REJECT: InitiativeStatus.REJECTED,
}
# Statuses in which the author may still change the initiative.
EDITABLE = frozenset({InitiativeStatus.DRAFT, InitiativeStatus.RETURNED})


@dataclass
class Role:
    """A role a member holds for a unit, until revoked."""

    id: int
    member_id: int
    unit_id: int
    kind: RoleKind
    granted_at: dt.datetime
    granted_by_id: int | None = None
    revoked_at: dt.datetime | None = None


@dataclass
class Invite:
    """A one-time link that gives a role for a unit, until it expires."""

    id: int
    token_hash: str
    kind: RoleKind
    unit_id: int
    created_by_id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by_id: int | None = None
    used_at: dt.datetime | None = None


@dataclass
class ReviewCard:
    """A review card shown to one reviewer, kept so every copy can be updated."""

    initiative_id: int
    version: int
    member_id: int
    chat_id: str
    message_id: int


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an initiative's record."""

    action: str
    version: int
    at: dt.datetime
    actor_id: int
    actor_name: str
    role: str | None
    note: str | None


class AttachmentKind(StrEnum):
    """What a member sent as evidence."""

    PHOTO = "photo"
    DOCUMENT = "document"
    # Recorded answers: a voice message or a round video, kept with the answer they give.
    VOICE = "voice"
    VIDEO_NOTE = "video_note"


@dataclass
class Unit:
    """A union unit in the tree; only grassroots units have members."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None

    @property
    def is_grassroots(self) -> bool:
        """Whether members can join this unit directly."""
        return self.level == "grassroots"


@dataclass
class Member:
    """A person who talks to the bot through one channel."""

    id: int
    channel: str
    external_id: str
    display_name: str
    language: str
    full_name: str | None = None
    phone: str | None = None
    unit_id: int | None = None
    nudges: bool = True
    # Whether weekly commendations may name the member among the top contributors.
    named: bool = True
    # False once the channel said the member cannot be written to (they blocked the bot):
    # broadcasts skip them until they write again.
    reachable: bool = True
    # The version of the privacy notice the member agreed to last; None: not yet.
    consent_version: str | None = None

    def __str__(self) -> str:
        """How logs name a member: id and channel identity, never their name or phone."""
        return f"#{self.id} ({self.channel}:{self.external_id})"

    @property
    def has_joined(self) -> bool:
        """Whether the member finished joining a grassroots unit."""
        return self.unit_id is not None and self.full_name is not None


@dataclass
class Conversation:
    """The dialog state of one member, saved at every answer."""

    member_id: int
    state: DialogState = DialogState.IDLE
    draft_id: int | None = None
    data: dict[str, Any] = default(default_factory=dict)
    # What a number typed next stands for, on a channel without buttons: the choices
    # last shown, numbered (see domain.numbered).
    choices: tuple[str, ...] = ()


@dataclass
class Coauthor:
    """A co-author named by the author, with an optional contribution share."""

    name: str
    share: Decimal | None = None


FILE_NAME_MAX = 255
MIME_TYPE_MAX = 100


@dataclass
class Attachment:
    """A photo, document or recording kept by its channel file id."""

    kind: AttachmentKind
    file_id: str
    file_unique_id: str
    file_size: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    # A recording answers a question (the step's value); evidence files answer none.
    answer: str | None = None
    # A recording's length in seconds.
    duration: int | None = None

    def __post_init__(self) -> None:
        # The name and type are the sender's to choose: kept bounded, and without NUL,
        # which PostgreSQL refuses in text.
        self.file_name = _kept(self.file_name, FILE_NAME_MAX)
        self.mime_type = _kept(self.mime_type, MIME_TYPE_MAX)


def _kept(text: str | None, limit: int) -> str | None:
    return text.replace("\x00", "")[:limit] if text else text


@dataclass
class Initiative:
    """An initiative from its first answer as a draft to its decision."""

    id: int
    author_id: int
    entered_by_id: int
    unit_id: int
    status: InitiativeStatus
    created_at: dt.datetime
    updated_at: dt.datetime
    step: Step = Step.TITLE
    editing: bool = False
    title: str | None = None
    kind: SolutionKind | None = None
    field: FieldOfUse | None = None
    problem: str | None = None
    solution: str | None = None
    applied: bool | None = None
    applied_since: dt.date | None = None
    effect: str | None = None
    benefit_vnd: int | None = None
    benefit_known: bool | None = None
    # A range chosen instead of an amount; benefit_vnd then holds its lower bound.
    benefit_range: str | None = None
    coauthors_done: bool = False
    confidential: bool | None = None
    confidential_note: str | None = None
    version: int = 0
    phase_id: int | None = None
    submitted_at: dt.datetime | None = None
    coauthors: list[Coauthor] = default(default_factory=list)
    attachments: list[Attachment] = default(default_factory=list)

    @property
    def number(self) -> str:
        """The number people quote, e.g. SK-000123."""
        return format_number(self.id)


def format_number(initiative_id: int) -> str:
    """Format an initiative id as people quote it."""
    return f"SK-{initiative_id:06d}"


def parse_number(text: str) -> int | None:
    """Read SK-000123, sk123 or 123 back into an id."""
    cleaned = text.strip().upper().removeprefix("SK").lstrip("-").strip()
    return int(cleaned) if cleaned.isdigit() and 0 < len(cleaned) <= 12 else None


@dataclass
class Phase:
    """A phase (giai đoạn) of the programme."""

    id: int
    code: str
    name: str
    starts_on: dt.date
    ends_on: dt.date
    target: int | None = None

    def days_left(self, today: dt.date) -> int:
        """Days from today to the phase's last day, that day included; 0 once it is over."""
        return max(0, (self.ends_on - today).days + 1)


@dataclass
class Figures:
    """A unit's figures for a phase: its whole subtree counted."""

    unit: Unit
    target: int | None = None
    approved: int = 0
    pending: int = 0
    returned: int = 0
    people: int = 0
    benefit_vnd: int = 0

    @property
    def percent(self) -> Decimal | None:
        """Approved against target, in percent; None without a target."""
        if not self.target:
            return None
        return Decimal(self.approved * 100) / Decimal(self.target)


@dataclass(frozen=True)
class CountChange:
    """How one status change moves a unit's figures."""

    approved: int = 0
    pending: int = 0
    returned: int = 0
    people: int = 0
    benefit_vnd: int = 0


@dataclass(frozen=True)
class Approval:
    """An initiative approved in a given week, with what a commendation may show of it."""

    initiative_id: int
    unit_id: int
    author_id: int
    author_name: str
    # The author lets commendations name them (``/settings``).
    author_named: bool
    title: str
    benefit_vnd: int
    # Confidential initiatives count in totals only, never by name or title.
    confidential: bool
    phase_id: int | None


@dataclass(frozen=True)
class LinkedChat:
    """A unit's Telegram group or channel, or the one-time code that will link one."""

    id: int
    unit_id: int
    chat_id: str | None
    title: str | None
    active: bool
    linked_by_id: int
    code_expires_at: dt.datetime | None = None
