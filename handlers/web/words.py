"""The web view's own words, translated like every other text (English msgids)."""

from __future__ import annotations

from domain.text import Text, _

WORDS: dict[str, Text] = {
    "site": _("Initiatives: staff web view"),
    "queue": _("Review queue"),
    "sign_out": _("Sign out"),
    "sign_in": _("Sign in"),
    "sign_in_title": _("Sign in to the web view"),
    "sign_in_lead": _("This link signs you in once. Press the button to continue."),
    "signed_out": _("You are signed out. To come back, send /web to the bot."),
    "need_sign_in": _("Please sign in: send /web to the bot in Zalo or Telegram for a link."),
    "forbidden": _(
        "This request was refused, and nothing was changed. Please go back and try again."
    ),
    "not_found": _("This page does not exist."),
    "waiting_total": _("Awaiting review"),
    "unit": _("Unit"),
    "kind": _("Kind"),
    "field": _("Field"),
    "waited": _("Waiting at least"),
    "any": _("Any"),
    "filter": _("Filter"),
    "number": _("Number"),
    "title": _("Title"),
    "submitted": _("Submitted"),
    "days_waiting": _("Days waiting"),
    "nothing_waits": _("Nothing awaits review here. 👍"),
    "older": _("◀️ Older"),
    "newer": _("Newer ▶️"),
    "back": _("← Back to the queue"),
    "files": _("Files"),
    "no_files": _("No files."),
    "history": _("History"),
    "decision": _("Decision"),
    "approve": _("✅ Approve"),
    "return": _("✏️ Ask for changes"),
    "reject": _("❌ Reject"),
    "preset": _("Reason"),
    "typed_reason": _("Or type a reason (needed to return or reject)"),
    "decide": _("Confirm the decision"),
    "status": _("Status"),
    "author": _("Author"),
    "version": _("Version"),
    "app_opening": _("Opening the web view…"),
    "app_outside": _("Open this page from the bot's menu in Telegram."),
    "photo": _("Photo"),
    "document": _("Document"),
    "voice": _("Voice note"),
    "video_note": _("Video note"),
}
# How long an item has waited, as the filter offers it.
WAITED_DAYS = (3, 7, 14, 30)
DAYS = _("{days} days")
