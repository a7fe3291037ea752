"""The unit of work: one session, one short transaction, repositories over it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.ports import (
    ConversationRepository,
    Inbox,
    InitiativeRepository,
    MemberRepository,
    UnitRepository,
)
from storage.repositories import (
    SqlConversationRepository,
    SqlInbox,
    SqlInitiativeRepository,
    SqlMemberRepository,
    SqlUnitRepository,
)


class SqlUnitOfWork:
    """A transaction over every repository; leaving without commit rolls back."""

    units: UnitRepository
    members: MemberRepository
    conversations: ConversationRepository
    initiatives: InitiativeRepository
    inbox: Inbox

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        """Open a session and the repositories over it."""
        self._session = self._sessions()
        self.units = SqlUnitRepository(self._session)
        self.members = SqlMemberRepository(self._session)
        self.conversations = SqlConversationRepository(self._session)
        self.initiatives = SqlInitiativeRepository(self._session)
        self.inbox = SqlInbox(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back what was not committed and close the session."""
        try:
            await self._session.rollback()
        finally:
            await self._session.close()

    async def commit(self) -> None:
        """Commit the transaction."""
        await self._session.commit()


class SqlUnitOfWorkFactory:
    """Makes a unit of work per task from one session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self._sessions)
