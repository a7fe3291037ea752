"""What the core needs from storage to let people in: a person's linked accounts on
several channels, and the staff web view's login links and sessions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser of the staff web view: its cookie's hash, the member, the
    token its forms carry (CSRF) and when it ends."""

    session_hash: str
    member_id: int
    csrf: str
    expires_at: dt.datetime


class WebAccess(Protocol):
    """One-time login links to the staff web view, and its sessions."""

    async def issue_login(
        self, token_hash: str, member_id: int, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        """Store a new login link; expired ones go."""

    async def use_login(self, token_hash: str, now: dt.datetime) -> int | None:
        """The member a valid link was sent to; the link is used up."""

    async def open_session(self, session: WebSession, now: dt.datetime) -> None:
        """Store a new session; expired ones go."""

    async def session(self, session_hash: str, now: dt.datetime) -> WebSession | None:
        """The session of that hash, while it lasts."""

    async def end_session(self, session_hash: str) -> None:
        """Sign the browser out."""


class AccountLinks(Protocol):
    """One-time codes that link a person's accounts on several channels."""

    async def issue(self, member_id: int, code_hash: str, expires_at: dt.datetime,
                    now: dt.datetime) -> None:  # fmt: skip
        """Store a new code for the member, replacing theirs; expired codes go."""

    async def taken(self, code_hash: str, now: dt.datetime) -> int | None:
        """The member who was shown this code, if it is still valid; it is used up."""

    async def failures(self, member_id: int, since: dt.datetime) -> int:
        """Wrong codes the member typed since then."""

    async def failed(self, member_id: int, since: dt.datetime, now: dt.datetime) -> None:
        """Count one more wrong code; tries before ``since`` are forgotten."""

    async def channels(self, member_id: int) -> set[str]:
        """The channels of the member's accounts."""

    async def has_record(self, member_id: int) -> bool:
        """Whether the member submitted an initiative or holds a role."""

    async def absorb(self, absorbed_id: int, survivor_id: int, now: dt.datetime) -> None:
        """Give the absorbed member's accounts and drafts to the survivor."""
