"""Repositories over one connection; they never commit, the unit of work does.

They use SQLAlchemy Core on the tables the models declare: a dialog step is a
handful of short statements, and the ORM's per-object bookkeeping cost several
times more CPU than the statements themselves.
"""

from __future__ import annotations

from storage.repositories.commend import SqlChatLinks, SqlWeeklySource
from storage.repositories.delivery import SqlOutbox
from storage.repositories.files import SqlKeptFiles
from storage.repositories.inbox import SqlInbox
from storage.repositories.initiatives import SqlInitiativeRepository
from storage.repositories.links import SqlAccountLinks
from storage.repositories.members import Prefetched, SqlConversationRepository, SqlMemberRepository
from storage.repositories.nudges import SqlNudgeLog
from storage.repositories.progress import SqlProgressRepository
from storage.repositories.reports import SqlReportSource
from storage.repositories.review import SqlReminderLog, SqlReviewCardRepository
from storage.repositories.roles import SqlInviteRepository, SqlRoleRepository
from storage.repositories.snapshots import SqlSubmissionSnapshots
from storage.repositories.units import SqlUnitRepository
from storage.repositories.web import SqlWebAccess

__all__ = [
    "Prefetched",
    "SqlAccountLinks",
    "SqlChatLinks",
    "SqlConversationRepository",
    "SqlInbox",
    "SqlInitiativeRepository",
    "SqlInviteRepository",
    "SqlKeptFiles",
    "SqlMemberRepository",
    "SqlNudgeLog",
    "SqlOutbox",
    "SqlProgressRepository",
    "SqlReminderLog",
    "SqlReportSource",
    "SqlReviewCardRepository",
    "SqlRoleRepository",
    "SqlSubmissionSnapshots",
    "SqlUnitRepository",
    "SqlWebAccess",
    "SqlWeeklySource",
]
