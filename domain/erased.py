"""How what a member erased is shown: their name, and the texts of their initiatives that
no admin approved. Both are stored blank; readers see a sentence instead."""

from __future__ import annotations

from domain.text import Text, _, clip, verbatim

# A member's name after they erased their data (stored as an empty name).
ERASED_NAME = _("Member who erased their data")
# The title of an initiative whose texts the author had erased (stored as an empty title).
ERASED_CONTENT = _("Content erased at the author's request")


def name_text(name: str | None) -> Text:
    """A person's name as stored, or the erased member's placeholder for an empty one."""
    return verbatim(name) if name else ERASED_NAME


def title_text(title: str | None, missing: str = "", limit: int | None = None) -> Text:
    """An initiative's title (cut to ``limit``); an empty one (not None, which is a draft
    not named yet) was erased."""
    if title == "":
        return ERASED_CONTENT
    if title and limit is not None:
        return verbatim(clip(title, limit))
    return verbatim(title or missing)
