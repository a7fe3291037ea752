"""The staff web view's one-time login links and browser sessions, kept as hashes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select

from domain.ports import WebSession
from storage.executor import Executor
from storage.repositories._base import take_once, web_logins, web_sessions


class SqlWebAccess:
    """Login links and sessions in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def issue_login(self, token_hash: str, member_id: int, expires_at: dt.datetime,
                          now: dt.datetime) -> None:  # fmt: skip
        """Store a new login link; expired ones go."""
        await self._db.execute(delete(web_logins).where(web_logins.c.expires_at <= now))
        await self._db.execute(
            insert(web_logins).values(
                token_hash=token_hash, member_id=member_id, expires_at=expires_at
            )
        )

    async def use_login(self, token_hash: str, now: dt.datetime) -> int | None:
        """The member a valid link was sent to; the link is used up. Of two openings at
        once, one gets through."""
        return await take_once(self._db, web_logins, web_logins.c.token_hash, token_hash, now)

    async def open_session(self, session: WebSession, now: dt.datetime) -> None:
        """Store a new session; expired ones go."""
        await self._db.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
        await self._db.execute(
            insert(web_sessions).values(
                session_hash=session.session_hash, member_id=session.member_id,
                csrf=session.csrf, created_at=now, expires_at=session.expires_at,
            )
        )  # fmt: skip

    async def session(self, session_hash: str, now: dt.datetime) -> WebSession | None:
        """The session of that hash, while it lasts."""
        row = (
            await self._db.execute(
                select(web_sessions).where(
                    web_sessions.c.session_hash == session_hash,
                    web_sessions.c.expires_at > now,
                )
            )
        ).first()
        if row is None:
            return None
        return WebSession(row.session_hash, int(row.member_id), row.csrf, row.expires_at)

    async def end_session(self, session_hash: str) -> None:
        """Sign the browser out."""
        await self._db.execute(
            delete(web_sessions).where(web_sessions.c.session_hash == session_hash)
        )
