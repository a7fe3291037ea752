"""A member's copy of their data as files: JSON for programs (UTF-8, indented, ISO dates,
the same keys in every copy, values as stored) and the sheets of a workbook to read
(headers and labels in the member's language)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from domain.dialog import EDIT_LABELS, FIELD_LABELS, KIND_LABELS, STATUS_LABELS
from domain.erased import name_text
from domain.model import AttachmentKind, Initiative
from domain.ports import Renderer
from domain.reports import YES, Batches, Cell, CellKind, Column, Sheet
from domain.review import ACTION_LABELS
from domain.review_card import reason_text
from domain.text import Day, Text, _

if TYPE_CHECKING:
    from domain.privacy_copy import CopiedInitiative, PersonalCopy

# What identifies the file's layout, for a program reading it.
FORMAT = "sangkien-personal-data/1"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _reason(note: str | None, renderer: Renderer, language: str) -> str | None:
    """A decision's reason as the chat shows it (a preset in the member's language)."""
    text = reason_text(note)
    return renderer.render(text, language) if text is not None else None


def _name(name: str | None) -> Text | None:
    """A person's name as stored, or the erased member's label for an erased one (stored
    blank); None stays None (nobody)."""
    return None if name is None else name_text(name)


def _initiative_json(copied: CopiedInitiative, renderer: Renderer, language: str) -> dict[str, Any]:
    """One initiative, everything it carries."""
    i = copied.initiative

    def name(stored: str | None) -> str | None:
        text = _name(stored)
        return None if text is None else renderer.render(text, language)

    return {
        "number": i.number,
        "status": i.status.value,
        "title": i.title,
        "kind": i.kind.value if i.kind else None,
        "field": i.field.value if i.field else None,
        "problem": i.problem,
        "solution": i.solution,
        "applied": i.applied,
        "applied_since": _iso(i.applied_since),
        "effect": i.effect,
        "benefit_vnd": i.benefit_vnd,
        "benefit_known": i.benefit_known,
        "benefit_range": i.benefit_range,
        "confidential": i.confidential,
        "confidential_note": i.confidential_note,
        "version": i.version,
        "unit": copied.unit_name,
        "entered_by": name(copied.entered_by),
        "created_at": _iso(i.created_at),
        "updated_at": _iso(i.updated_at),
        "submitted_at": _iso(i.submitted_at),
        "coauthors": [{"name": c.name, "share": str(c.share) if c.share is not None else None}
                      for c in i.coauthors],
        "files": [{"kind": a.kind.value, "file_name": a.file_name, "mime_type": a.mime_type,
                   "size": a.file_size, "answer": a.answer, "duration": a.duration}
                  for a in i.attachments],
        "record": [{"at": _iso(e.at), "action": e.action, "version": e.version,
                    "by": name(e.actor_name), "reason": _reason(e.note, renderer, language)}
                   for e in copied.record],
        "versions": [{"version": v.version, "submitted_at": _iso(v.submitted_at),
                      "changed": [step.value for step in v.changed]} for v in copied.versions],
    }  # fmt: skip


def copy_json(copy: PersonalCopy, made_at: dt.datetime, renderer: Renderer, language: str) -> bytes:
    """The copy as JSON."""
    profile, member = copy.profile, copy.profile.member
    unit = profile.unit
    document = {
        "format": FORMAT,
        "made_at": _iso(made_at),
        "profile": {
            "member_id": member.id,
            "full_name": member.full_name,
            "display_name": member.display_name,
            "phone": member.phone,
            "language": member.language,
            "unit": {"code": unit.code, "name": unit.name} if unit else None,
            "settings": {"nudges": member.nudges, "named": member.named},
            "consent_version": member.consent_version,
            "created_at": _iso(profile.created_at),
            "updated_at": _iso(profile.updated_at),
        },
        "consents": [{"version": c.version, "action": c.action, "channel": c.channel,
                      "at": _iso(c.at)} for c in copy.consents],
        "accounts": [{"channel": a.channel, "external_id": a.external_id,
                      "linked_at": _iso(a.linked_at)} for a in copy.accounts],
        "roles": [{"kind": r.kind, "unit_code": r.unit_code, "unit_name": r.unit_name,
                   "granted_at": _iso(r.granted_at), "revoked_at": _iso(r.revoked_at)}
                  for r in copy.roles],
        "initiatives": [_initiative_json(c, renderer, language) for c in copy.submitted],
        "drafts": [_initiative_json(c, renderer, language) for c in copy.drafts],
        "nudges": [{"kind": n.kind, "day": _iso(n.day), "sent_at": _iso(n.sent_at)}
                   for n in copy.nudges],
        "commendations": [_iso(at) for at in copy.commendations],
        "messages": dict(sorted(copy.messages.items())),
        "web_sessions": copy.web_sessions,
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


# -- the workbook ----------------------------------------------------------------------

NO = _("No")
ITEM, VALUE = Column(_("Item"), width=32), Column(_("Value"), width=48)
NUMBER = Column(_("Number"), width=12)
PROFILE_SHEET = Sheet(_("Profile"), (ITEM, VALUE))
CONSENTS_SHEET = Sheet(_("Consents"), (
    Column(_("Notice version"), width=14), Column(_("Answer"), width=16),
    Column(_("Given on"), width=12), Column(_("When"), CellKind.MOMENT, 17),
))  # fmt: skip
ACCOUNTS_SHEET = Sheet(_("Linked accounts"), (
    Column(_("App"), width=12), Column(_("Account id"), width=24),
    Column(_("Linked"), CellKind.MOMENT, 17),
))  # fmt: skip
ROLES_SHEET = Sheet(_("Roles"), (
    Column(_("Role"), width=28), Column(_("Code"), width=16), Column(_("Unit"), width=36),
    Column(_("Granted"), CellKind.MOMENT, 17), Column(_("Revoked"), CellKind.MOMENT, 17),
))  # fmt: skip
_INITIATIVE_COLUMNS = (
    NUMBER,
    Column(_("Title"), width=40),
    Column(_("Status"), width=20),
    Column(_("Kind"), width=24),
    Column(_("Field"), width=22),
    Column(_("Unit"), width=30),
    Column(_("Entered for you by"), width=24),
    Column(_("Before"), width=40),
    Column(_("Solution"), width=40),
    Column(_("Applied"), width=18),
    Column(_("Effect"), width=40),
    Column(_("Estimated benefit (VND)"), CellKind.MONEY, 20),
    Column(_("Confidential"), width=12),
    Column(_("Confidential details"), width=40),
    Column(_("Version"), CellKind.COUNT, 9),
    Column(_("Created"), CellKind.MOMENT, 17),
    Column(_("Submitted"), CellKind.MOMENT, 17),
    Column(_("Last changed"), CellKind.MOMENT, 17),
)
INITIATIVES_SHEET = Sheet(_("Initiatives"), _INITIATIVE_COLUMNS)
DRAFTS_SHEET = Sheet(_("Drafts"), _INITIATIVE_COLUMNS)
COAUTHORS_SHEET = Sheet(_("Co-authors"), (
    NUMBER, Column(_("Co-author"), width=30), Column(_("Share (%)"), width=10),
))  # fmt: skip
FILES_SHEET = Sheet(_("Files"), (
    NUMBER, Column(_("Kind"), width=18), Column(_("File name"), width=36),
    Column(_("Type"), width=24), Column(_("Size (bytes)"), CellKind.COUNT, 14),
    Column(_("Length (seconds)"), CellKind.COUNT, 12),
))  # fmt: skip
RECORD_SHEET = Sheet(_("Record"), (
    NUMBER, Column(_("When"), CellKind.MOMENT, 17), Column(_("What"), width=36),
    Column(_("Version"), CellKind.COUNT, 9), Column(_("By"), width=24),
    Column(_("Reason"), width=40),
))  # fmt: skip
VERSIONS_SHEET = Sheet(_("Versions"), (
    NUMBER, Column(_("Version"), CellKind.COUNT, 9), Column(_("Submitted"), CellKind.MOMENT, 17),
    Column(_("Changed since the version before"), width=50),
))  # fmt: skip
MESSAGES_SHEET = Sheet(_("Messages"), (
    Column(_("What"), width=36), Column(_("Detail"), width=24),
    Column(_("When"), CellKind.MOMENT, 17), Column(_("How many"), CellKind.COUNT, 10),
))  # fmt: skip

FILE_KINDS: dict[AttachmentKind, Text] = {
    AttachmentKind.PHOTO: _("Photo"),
    AttachmentKind.DOCUMENT: _("Document"),
    AttachmentKind.VOICE: _("Voice message"),
    AttachmentKind.VIDEO_NOTE: _("Video message"),
}
ROLE_KINDS: dict[str, Text] = {
    "admin": _("admin"),
    "helper": _("initiative support team member"),
}
CONSENT_ACTIONS: dict[str, Text] = {
    "given": _("Agreed"),
    "refused": _("Refused"),
    "withdrawn": _("Withdrawn"),
    "stated": _("Agreed, as a helper stated"),
}
MESSAGE_STATES: dict[str, Text] = {
    "queued": _("waiting to be sent"),
    "sending": _("being sent"),
    "sent": _("sent"),
    "blocked": _("not delivered: the bot was blocked"),
    "failed": _("not delivered"),
    "cancelled": _("cancelled"),
}


def _label(labels: dict[str, Text], code: str) -> Cell:
    """A stored code's label, or the code itself when it has none."""
    return labels.get(code) or code


def _yes(value: bool | None) -> Cell:
    return None if value is None else YES if value else NO


def _applied(initiative: Initiative) -> Cell:
    """Whether the initiative is applied, and since when."""
    if initiative.applied and initiative.applied_since is not None:
        return _("Yes, since {date}", date=Day(initiative.applied_since))
    return _yes(initiative.applied)


def _profile_rows(copy: PersonalCopy, made_at: dt.datetime) -> list[list[Cell]]:
    profile, member = copy.profile, copy.profile.member
    return [
        [_("Full name"), member.full_name],
        [_("Name on the app"), member.display_name],
        [_("Phone"), member.phone],
        [_("Language"), member.language],
        [_("Grassroots union"), profile.unit.name if profile.unit else None],
        [_("Reminders and announcements"), _yes(member.nudges)],
        [_("May be named in commendations"), _yes(member.named)],
        [_("Privacy notice agreed (version)"), member.consent_version],
        [_("First contact"), profile.created_at],
        [_("Last changed"), profile.updated_at],
        [_("This copy made"), made_at],
    ]


def _initiative_row(copied: CopiedInitiative) -> list[Cell]:
    i: Initiative = copied.initiative
    return [
        i.number, i.title, STATUS_LABELS[i.status], KIND_LABELS[i.kind] if i.kind else None,
        FIELD_LABELS[i.field] if i.field else None, copied.unit_name, _name(copied.entered_by),
        i.problem, i.solution, _applied(i),
        i.effect, i.benefit_vnd, _yes(i.confidential), i.confidential_note, i.version,
        i.created_at, i.submitted_at, i.updated_at,
    ]  # fmt: skip


def _children_rows(
    initiatives: Sequence[CopiedInitiative],
) -> tuple[list[list[Cell]], list[list[Cell]], list[list[Cell]], list[list[Cell]]]:
    """Co-authors, files, records and versions of every initiative."""
    coauthors: list[list[Cell]] = []
    files: list[list[Cell]] = []
    record: list[list[Cell]] = []
    versions: list[list[Cell]] = []
    for copied in initiatives:
        i = copied.initiative
        coauthors += [[i.number, c.name, c.share] for c in i.coauthors]
        files += [[i.number, FILE_KINDS[a.kind], a.file_name, a.mime_type, a.file_size,
                   a.duration] for a in i.attachments]  # fmt: skip
        record += [[i.number, e.at, ACTION_LABELS.get(e.action) or e.action, e.version,
                    _name(e.actor_name), reason_text(e.note)] for e in copied.record]  # fmt: skip
        versions += [[i.number, v.version, v.submitted_at,
                      Text("{fields}", {"fields": tuple(EDIT_LABELS[s] for s in v.changed)})
                      if v.changed else None] for v in copied.versions]  # fmt: skip
    return coauthors, files, record, versions


def _message_rows(copy: PersonalCopy) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[_("Reminder"), n.kind, n.sent_at, None] for n in copy.nudges]
    rows += [[_("Weekly commendation"), None, at, None] for at in copy.commendations]
    rows += [[_("Messages queued to you"), _label(MESSAGE_STATES, state), None, count]
             for state, count in sorted(copy.messages.items())]  # fmt: skip
    rows.append([_("Sign-ins to the staff web page"), None, None, copy.web_sessions])
    return rows


async def _once(rows: list[list[Cell]]) -> Batches:
    """Rows already read, as one batch."""
    yield rows


def copy_sheets(copy: PersonalCopy, made_at: dt.datetime) -> list[tuple[Sheet, Batches]]:
    """The copy as the sheets of a workbook, one per part."""
    coauthors, files, record, versions = _children_rows(copy.initiatives)
    parts: list[tuple[Sheet, list[list[Cell]]]] = [
        (PROFILE_SHEET, _profile_rows(copy, made_at)),
        (CONSENTS_SHEET, [[c.version, _label(CONSENT_ACTIONS, c.action), c.channel, c.at]
                          for c in copy.consents]),
        (ACCOUNTS_SHEET, [[a.channel, a.external_id, a.linked_at] for a in copy.accounts]),
        (ROLES_SHEET, [[_label(ROLE_KINDS, r.kind), r.unit_code, r.unit_name, r.granted_at,
                        r.revoked_at] for r in copy.roles]),
        (INITIATIVES_SHEET, [_initiative_row(c) for c in copy.submitted]),
        (DRAFTS_SHEET, [_initiative_row(c) for c in copy.drafts]),
        (COAUTHORS_SHEET, coauthors),
        (FILES_SHEET, files),
        (RECORD_SHEET, record),
        (VERSIONS_SHEET, versions),
        (MESSAGES_SHEET, _message_rows(copy)),
    ]  # fmt: skip
    return [(sheet, _once(rows)) for sheet, rows in parts]
