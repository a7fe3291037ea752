"""The unit of work: one connection, one short transaction, repositories over it."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, CursorResult, Engine, Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.ports import (
    AccountLinks,
    ChatLinks,
    ClaimStore,
    ConsentLog,
    ConversationRepository,
    ErasureStore,
    Inbox,
    InitiativeRepository,
    InviteRepository,
    KeptFileRepository,
    MemberRepository,
    NudgeLog,
    Outbox,
    PersonalDataSource,
    ProgressRepository,
    ReminderLog,
    ReportSource,
    ReviewCardRepository,
    RoleRepository,
    SimilarInitiatives,
    SubmissionSnapshots,
    UnitRepository,
    WebAccess,
    WeeklySource,
)
from storage.db import inline_sqlite_engine
from storage.executor import AwaitedExecutor, Executor, InlineExecutor
from storage.repositories import (
    Prefetched,
    SqlAccountLinks,
    SqlChatLinks,
    SqlConversationRepository,
    SqlInbox,
    SqlInitiativeRepository,
    SqlInviteRepository,
    SqlKeptFiles,
    SqlMemberRepository,
    SqlNudgeLog,
    SqlOutbox,
    SqlProgressRepository,
    SqlReminderLog,
    SqlReportSource,
    SqlReviewCardRepository,
    SqlRoleRepository,
    SqlSubmissionSnapshots,
    SqlUnitRepository,
    SqlWebAccess,
    SqlWeeklySource,
)
from storage.repositories.privacy_claims import SqlClaims
from storage.repositories.privacy_consents import SqlConsentLog
from storage.repositories.privacy_copy import SqlPersonalData
from storage.repositories.privacy_erase import SqlErasureStore
from storage.repositories.similar import SqlSimilarInitiatives


class SqlUnitOfWork:
    """A transaction over every repository; leaving without commit rolls back."""

    units: UnitRepository
    members: MemberRepository
    conversations: ConversationRepository
    initiatives: InitiativeRepository
    roles: RoleRepository
    cards: ReviewCardRepository
    snapshots: SubmissionSnapshots
    reminders: ReminderLog
    invites: InviteRepository
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

    def __init__(self, engine: AsyncEngine, inline: Engine | None) -> None:
        self._engine = engine
        self._inline = inline
        self._awaited: AsyncConnection | None = None
        self._sync: Connection | None = None

    async def __aenter__(self) -> Self:
        """Take a connection, begin, and open the repositories over it."""
        executor: Executor
        if self._inline is not None:
            # The pool has one connection and never waits (pool_timeout=0): if it is taken,
            # a transaction suspended halfway, which the inline design must never do.
            self._sync = self._inline.connect()
            self._sync.begin()
            executor = InlineExecutor(self._sync)
        else:
            self._awaited = await self._engine.connect()
            await self._awaited.begin()
            executor = AwaitedExecutor(self._awaited)
        prefetched = Prefetched()
        self.units = SqlUnitRepository(executor)
        self.members = SqlMemberRepository(executor, prefetched)
        self.conversations = SqlConversationRepository(executor, prefetched)
        self.initiatives = SqlInitiativeRepository(executor)
        self.roles = SqlRoleRepository(executor)
        self.cards = SqlReviewCardRepository(executor)
        self.snapshots = SqlSubmissionSnapshots(executor)
        self.reminders = SqlReminderLog(executor)
        self.invites = SqlInviteRepository(executor)
        self.progress = SqlProgressRepository(executor)
        self.nudges = SqlNudgeLog(executor)
        self.outbox = SqlOutbox(executor)
        self.inbox = SqlInbox(executor)
        self.weekly = SqlWeeklySource(executor)
        self.chats = SqlChatLinks(executor)
        self.links = SqlAccountLinks(executor)
        self.files = SqlKeptFiles(executor)
        self.web = SqlWebAccess(executor)
        self.reports = SqlReportSource(executor)
        self.privacy_copy = SqlPersonalData(executor)
        self.consents = SqlConsentLog(executor)
        self.erasure = SqlErasureStore(executor)
        self.claims = SqlClaims(executor)
        self.similar = SqlSimilarInitiatives(executor)
        self._executor = executor
        return self

    async def execute(self, statement: Executable) -> CursorResult[Any]:
        """A statement outside the repositories (storage's own bookkeeping: leases)."""
        return await self._executor.execute(statement)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back what was not committed and give the connection back."""
        if self._sync is not None:
            try:
                if self._sync.in_transaction():
                    self._sync.rollback()
            finally:
                self._sync.close()
                self._sync = None
        if self._awaited is not None:
            try:
                if self._awaited.in_transaction():
                    await self._awaited.rollback()
            finally:
                await self._awaited.close()
                self._awaited = None

    async def commit(self) -> None:
        """Commit the transaction."""
        if self._sync is not None:
            self._sync.commit()
        elif self._awaited is not None:
            await self._awaited.commit()


class SqlUnitOfWorkFactory:
    """Makes a unit of work per task from one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._inline = inline_sqlite_engine(engine)

    @property
    def dialect(self) -> str:
        """The database's dialect name: sqlite or postgresql."""
        return str(self._engine.dialect.name)

    def __call__(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self._engine, self._inline)

    def dispose(self) -> None:
        """Close the inline connection, if any; the async engine is its owner's to dispose."""
        if self._inline is not None:
            self._inline.dispose()
