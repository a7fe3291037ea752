"""Erasing a member's personal data, and deleting drafts left untouched for long, in SQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Text as SqlText
from sqlalchemy import and_, delete, exists, func, insert, not_, or_, select, update

from domain.kept import KEPT_PREFIX
from domain.model import AttachmentKind, Initiative, InitiativeStatus, Member, Step
from domain.ports_privacy import ErasureCounts, ErasurePlan
from storage.executor import Executor
from storage.repositories._base import (
    _member,
    _with_flags,
    attachments,
    broadcasts,
    cards,
    coauthors,
    consents,
    conversations,
    erasures,
    events,
    identities,
    initiatives,
    kept_files,
    link_attempts,
    link_codes,
    members,
    outgoing,
    roles,
    snapshots,
    web_logins,
    web_sessions,
)
from storage.repositories.initiatives import SqlInitiativeRepository
from storage.repositories.similar import SqlSimilarInitiatives

ERASED_CHANNEL = "erased"
RECORDINGS = (AttachmentKind.VOICE.value, AttachmentKind.VIDEO_NOTE.value)
UNSENT = (InitiativeStatus.DRAFT.value, InitiativeStatus.DISCARDED.value)
# What a not-approved initiative keeps of its answers: what the figures and lists count.
KEPT_ANSWERS = frozenset({Step.KIND.value, Step.FIELD.value, Step.APPLIED.value,
                          Step.BENEFIT.value})  # fmt: skip
# Rows read or changed per statement: IN lists stay well under every engine's limits.
CHUNK = 500
# Shorter names would match inside ordinary words of other people's messages.
SHORTEST_NAME = 3


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _unsent(member_id: int) -> Any:
    """Drafts the member writes, for themselves or for someone (never sent)."""
    return and_(
        initiatives.c.status.in_(UNSENT), initiatives.c.submitted_at.is_(None),
        or_(initiatives.c.author_id == member_id, initiatives.c.entered_by_id == member_id),
    )  # fmt: skip


def _blanked(member_id: int) -> Any:
    """Initiatives the member sent that no admin approved: they lose their texts."""
    return and_(
        initiatives.c.author_id == member_id,
        initiatives.c.status != InitiativeStatus.APPROVED.value,
        not_(and_(initiatives.c.status.in_(UNSENT), initiatives.c.submitted_at.is_(None))),
    )


def _opened_since(notice: Any) -> Any:
    """The draft's writer has been in its dialog since ``notice`` (or at that moment)."""
    return exists().where(
        conversations.c.draft_id == initiatives.c.id, conversations.c.updated_at >= notice
    )


def _scrubbed(
    value: Any, names: frozenset[str] | None, pattern: re.Pattern[str], erased: Any
) -> Any:
    """A stored message with the names taken out: a name shown as itself becomes
    ``erased``; one inside someone's words becomes "…". Without ``names``, every word
    users wrote becomes ``erased``."""
    if isinstance(value, dict):
        if set(value) == {"verbatim"} and isinstance(value["verbatim"], str):
            text = value["verbatim"]
            if names is None or text.strip() in names:
                return erased
            return {"verbatim": pattern.sub("…", text)}
        return {key: _scrubbed(inner, names, pattern, erased) for key, inner in value.items()}
    if isinstance(value, list):
        return [_scrubbed(inner, names, pattern, erased) for inner in value]
    if isinstance(value, str):
        return pattern.sub("…", value)
    return value


class SqlErasureStore:
    """Erasure and draft retention in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def _ids(self, condition: Any) -> list[int]:
        rows = await self._db.execute(select(initiatives.c.id).where(condition))
        return sorted(int(row.id) for row in rows)

    async def _count(self, statement: Any) -> int:
        return int((await self._db.execute(statement)).scalar_one())

    async def erased_at(self, member_id: int) -> dt.datetime | None:
        """When the member's data was erased; None if it was not."""
        row = (
            await self._db.execute(select(members.c.erased_at).where(members.c.id == member_id))
        ).first()
        return None if row is None else cast(dt.datetime | None, row.erased_at)

    async def plan(self, member_id: int) -> ErasurePlan:
        """What erasing the member would do."""
        authored = initiatives.c.author_id == member_id
        count = select(func.count()).select_from(initiatives)
        recordings = (
            select(func.count()).select_from(attachments.join(initiatives))
            .where(authored, attachments.c.kind.in_(RECORDINGS),
                   not_(_unsent(member_id)))
        )  # fmt: skip
        return ErasurePlan(
            drafts=await self._count(count.where(_unsent(member_id))),
            kept=await self._count(
                count.where(authored, initiatives.c.status == InitiativeStatus.APPROVED.value)
            ),
            blanked=await self._count(count.where(_blanked(member_id))),
            recordings=await self._count(recordings),
            accounts=await self._count(
                select(func.count()).select_from(identities)
                .where(identities.c.member_id == member_id)
            ),
        )  # fmt: skip

    async def erase(
        self,
        member_id: int,
        names: Sequence[str],
        erased: tuple[object, object],
        now: dt.datetime,
    ) -> ErasureCounts:
        """Erase what the member's row and records hold of them."""
        drafts = await self._ids(_unsent(member_id))
        blanked = await self._ids(_blanked(member_id))
        kept = await self._ids(
            and_(
                initiatives.c.author_id == member_id,
                initiatives.c.status == InitiativeStatus.APPROVED.value,
            )
        )
        files = await self._strip_files(blanked, kept)
        files += (await self._delete(drafts))[1]
        await self._blank(blanked)
        await self._db.execute(
            update(events).where(events.c.actor_id == member_id, events.c.note.is_not(None))
            .values(note=None)
        )  # fmt: skip
        await self._forget_accounts(member_id, now)
        cancelled = await self._cancel_messages(member_id)
        await self._blank_messages(member_id, blanked, erased[1])
        await self._scrub_broadcasts(names, erased[0])
        await self._db.execute(
            update(members).where(members.c.id == member_id).values(
                channel=ERASED_CHANNEL, external_id=f"erased-{member_id}", display_name="",
                full_name=None, search_name="", phone=None, nudges=False, named=False,
                reachable=False, consent_version=None, erased_at=now, updated_at=now,
            )
        )  # fmt: skip
        return ErasureCounts(drafts_deleted=len(drafts), initiatives_kept=len(kept),
                             texts_removed=len(blanked), files_removed=files,
                             messages_cancelled=cancelled)  # fmt: skip

    async def _strip_files(self, blanked: Sequence[int], kept: Sequence[int]) -> int:
        """Every file of what lost its texts, recordings of what is kept; the answers a
        recording gave are forgotten by the versions' snapshots too."""
        removed = 0
        gone_ids: list[str] = []
        for ids, only in ((blanked, None), (kept, RECORDINGS)):
            for chunk in _chunks(ids):
                which: Any = attachments.c.initiative_id.in_(chunk)
                if only is not None:
                    which = and_(which, attachments.c.kind.in_(only))
                rows = (await self._db.execute(
                    select(attachments.c.initiative_id, attachments.c.file_id,
                           attachments.c.answer).where(which)
                )).all()  # fmt: skip
                answers: dict[int, set[str]] = {}
                for row in rows:
                    answers.setdefault(row.initiative_id, set()).add(
                        row.answer or Step.ATTACHMENTS.value
                    )
                    gone_ids.append(row.file_id)
                await self._db.execute(delete(attachments).where(which))
                removed += len(rows)
                if only is not None:
                    await self._forget_answers(answers)
        await self._forget_kept(gone_ids)
        return removed

    async def _forget_answers(self, answers: dict[int, set[str]]) -> None:
        """Drop these answers' digests from every remembered version."""
        if not answers:
            return
        rows = await self._db.execute(
            select(snapshots).where(snapshots.c.initiative_id.in_(list(answers)))
        )
        for row in rows.all():
            digests = {key: value for key, value in dict(row.digests).items()
                       if key not in answers[row.initiative_id]}  # fmt: skip
            await self._db.execute(
                update(snapshots).where(snapshots.c.initiative_id == row.initiative_id,
                                        snapshots.c.version == row.version)
                .values(digests=digests)
            )  # fmt: skip

    async def _forget_kept(self, file_ids: Sequence[str]) -> None:
        """Delete the kept bytes of these files when no other attachment uses them."""
        gone = sorted({f for f in file_ids if f.startswith(KEPT_PREFIX)})
        for start in range(0, len(gone), CHUNK):
            chunk = gone[start : start + CHUNK]
            used = {row.file_id for row in await self._db.execute(
                select(attachments.c.file_id).where(attachments.c.file_id.in_(chunk))
            )}  # fmt: skip
            digests = [f.removeprefix(KEPT_PREFIX) for f in chunk if f not in used]
            if digests:
                await self._db.execute(
                    delete(kept_files).where(kept_files.c.digest.in_(digests),
                                             kept_files.c.expires_at.is_(None))
                )  # fmt: skip

    async def _blank(self, blanked: Sequence[int]) -> None:
        """Texts, confidential note and co-authors go; what the figures count stays."""
        for chunk in _chunks(blanked):
            await self._db.execute(
                update(initiatives).where(initiatives.c.id.in_(chunk)).values(
                    title="", search_text="", problem=None, solution=None, effect=None,
                    confidential_note=None, similar_title="", similar_solution="",
                )
            )  # fmt: skip
            # Nothing is found like a text that is gone, nor shown as like another one.
            await SqlSimilarInitiatives(self._db).forget(chunk)
            await self._db.execute(delete(coauthors).where(coauthors.c.initiative_id.in_(chunk)))
            rows = await self._db.execute(
                select(snapshots).where(snapshots.c.initiative_id.in_(chunk))
            )
            for row in rows.all():
                digests = {key: value for key, value in dict(row.digests).items()
                           if key in KEPT_ANSWERS}  # fmt: skip
                await self._db.execute(
                    update(snapshots).where(snapshots.c.initiative_id == row.initiative_id,
                                            snapshots.c.version == row.version)
                    .values(digests=digests)
                )  # fmt: skip

    async def _forget_accounts(self, member_id: int, now: dt.datetime) -> None:
        """Accounts, codes, sign-ins, dialog, the chats review cards were shown in; roles end."""
        for table in (identities, link_codes, link_attempts, web_logins, web_sessions,
                      conversations, cards):  # fmt: skip
            await self._db.execute(delete(table).where(table.c.member_id == member_id))
        await self._db.execute(
            update(roles).where(roles.c.member_id == member_id, roles.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )  # fmt: skip

    async def _cancel_messages(self, member_id: int) -> int:
        """Queued messages to the member are not sent; no row keeps their chat."""
        result = await self._db.execute(
            update(outgoing).where(outgoing.c.member_id == member_id, outgoing.c.state == "queued")
            .values(state="cancelled")
        )  # fmt: skip
        await self._db.execute(
            update(outgoing).where(outgoing.c.member_id == member_id).values(chat_id="")
        )
        return int(result.rowcount or 0)

    async def _blank_messages(
        self, member_id: int, blanked: Sequence[int], erased_content: object
    ) -> None:
        """Every word users wrote goes from the review cards of what loses its texts, and
        from the messages the member alone was sent; their buttons stay."""
        theirs = select(outgoing.c.broadcast_id).where(outgoing.c.member_id == member_id)
        others = select(outgoing.c.broadcast_id).where(
            or_(outgoing.c.member_id != member_id, outgoing.c.member_id.is_(None))
        )
        found = or_(broadcasts.c.id.in_(theirs) & broadcasts.c.id.not_in(others),
                    broadcasts.c.card_initiative_id.in_(blanked))  # fmt: skip
        rows = (await self._db.execute(
            select(broadcasts.c.id, broadcasts.c.message).where(found)
        )).all()  # fmt: skip
        nobody = re.compile(r"(?!)")
        for row in rows:
            await self._db.execute(
                update(broadcasts).where(broadcasts.c.id == row.id).values(
                    message=_scrubbed(row.message, None, nobody, erased_content), text=""
                )
            )  # fmt: skip

    async def _scrub_broadcasts(self, names: Sequence[str], erased_name: object) -> None:
        """Messages to others (an admin's review card, a commendation) that name the
        member: sent or not, what is stored of them names them no more."""
        wanted = frozenset(n.strip() for n in names if n and len(n.strip()) >= SHORTEST_NAME)
        if not wanted:
            return
        pattern = re.compile(
            "|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in sorted(wanted, key=len, reverse=True))
        )
        # JSON is stored with non-ASCII letters escaped by the standard library's encoder.
        forms = {form for n in wanted for form in (n, json.dumps(n)[1:-1])}
        stored = broadcasts.c.message.cast(SqlText)
        found = or_(*(stored.contains(f, autoescape=True) for f in forms),
                    *(broadcasts.c.text.contains(n, autoescape=True) for n in wanted))  # fmt: skip
        after = 0
        while True:
            rows = (await self._db.execute(
                select(broadcasts.c.id, broadcasts.c.message, broadcasts.c.text)
                .where(found, broadcasts.c.id > after).order_by(broadcasts.c.id).limit(CHUNK)
            )).all()  # fmt: skip
            for row in rows:
                await self._db.execute(
                    update(broadcasts).where(broadcasts.c.id == row.id).values(
                        message=_scrubbed(row.message, wanted, pattern, erased_name),
                        text=pattern.sub("…", row.text or ""),
                    )
                )  # fmt: skip
            if len(rows) < CHUNK:
                return
            after = rows[-1].id

    async def record(
        self, member_id: int, requested_by: str, counts: ErasureCounts, now: dt.datetime
    ) -> None:
        """Keep the erasure on record, without personal data."""
        await self._db.execute(
            insert(erasures).values(
                member_id=member_id, requested_by=requested_by, at=now,
                drafts_deleted=counts.drafts_deleted, initiatives_kept=counts.initiatives_kept,
                texts_removed=counts.texts_removed, files_removed=counts.files_removed,
                messages_cancelled=counts.messages_cancelled,
            )
        )  # fmt: skip

    async def withdraw(self, member_id: int, version: str, channel: str, now: dt.datetime) -> None:
        """Record that the member withdrew their consent."""
        await self._db.execute(
            insert(consents).values(
                member_id=member_id, version=version, action="withdrawn", channel=channel, at=now
            )
        )

    # -- retention -----------------------------------------------------------

    async def stale_drafts(
        self, cutoff: dt.datetime, limit: int
    ) -> list[tuple[Initiative, Member | None]]:
        """Drafts untouched since ``cutoff`` and not yet told of, with their writer when
        the writer can be told."""
        rows = (await self._db.execute(
            _with_flags().where(
                initiatives.c.status == InitiativeStatus.DRAFT.value,
                initiatives.c.updated_at <= cutoff,
                initiatives.c.retention_notice_at.is_(None),
                not_(_opened_since(cutoff)),
            ).order_by(initiatives.c.id).limit(limit)
        )).all()  # fmt: skip
        found = await SqlInitiativeRepository(self._db)._with_children(rows)
        writers = {i.entered_by_id for i in found}
        told = (await self._db.execute(
            select(members).where(members.c.id.in_(writers), members.c.reachable.is_(True),
                                  members.c.erased_at.is_(None))
        )).all() if writers else []  # fmt: skip
        by_id = {row.id: _member(row) for row in told}
        return [(i, by_id.get(i.entered_by_id)) for i in found]

    async def noticed(self, initiative_ids: Sequence[int], now: dt.datetime) -> None:
        """The writers of these drafts were told they will be deleted."""
        for chunk in _chunks(initiative_ids):
            await self._db.execute(
                update(initiatives).where(initiatives.c.id.in_(chunk))
                .values(retention_notice_at=now)
            )  # fmt: skip

    async def clear_touched(self, limit: int) -> int:
        """Forget the notice of drafts opened or changed since; return how many."""
        notice = initiatives.c.retention_notice_at
        rows = await self._db.execute(
            select(initiatives.c.id).where(
                notice.is_not(None), initiatives.c.status == InitiativeStatus.DRAFT.value,
                or_(initiatives.c.updated_at > notice, _opened_since(notice)),
            ).order_by(initiatives.c.id).limit(limit)
        )  # fmt: skip
        ids = [int(row.id) for row in rows]
        for chunk in _chunks(ids):
            await self._db.execute(
                update(initiatives).where(initiatives.c.id.in_(chunk))
                .values(retention_notice_at=None)
            )  # fmt: skip
        return len(ids)

    async def expired_drafts(self, noticed_before: dt.datetime, limit: int) -> list[int]:
        """Drafts told of before then and untouched since."""
        notice = initiatives.c.retention_notice_at
        rows = await self._db.execute(
            select(initiatives.c.id).where(
                initiatives.c.status == InitiativeStatus.DRAFT.value,
                notice.is_not(None), notice <= noticed_before,
                initiatives.c.updated_at <= notice, not_(_opened_since(notice)),
            ).order_by(initiatives.c.id).limit(limit)
        )  # fmt: skip
        return [int(row.id) for row in rows]

    async def delete_drafts(self, initiative_ids: Sequence[int]) -> int:
        """Delete drafts with what hangs on them; return how many."""
        return (await self._delete(initiative_ids))[0]

    async def _delete(self, initiative_ids: Sequence[int]) -> tuple[int, int]:
        """Delete initiatives with what hangs on them: how many, and how many files."""
        deleted = files = 0
        for chunk in _chunks(initiative_ids):
            file_ids = [row.file_id for row in await self._db.execute(
                select(attachments.c.file_id).where(attachments.c.initiative_id.in_(chunk))
            )]  # fmt: skip
            # A dialog left at one of these drafts (its writer's, or a helper's) goes idle.
            await self._db.execute(
                update(conversations).where(conversations.c.draft_id.in_(chunk))
                .values(draft_id=None, state="idle", data={}, choices=None)
            )  # fmt: skip
            await SqlSimilarInitiatives(self._db).forget(chunk)
            for table in (coauthors, attachments, events, cards, snapshots):
                await self._db.execute(delete(table).where(table.c.initiative_id.in_(chunk)))
            result = await self._db.execute(delete(initiatives).where(initiatives.c.id.in_(chunk)))
            deleted += int(result.rowcount or 0)
            files += len(file_ids)
            await self._forget_kept(file_ids)
        return deleted, files
