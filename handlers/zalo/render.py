"""A core reply becomes Zalo texts: the choices numbered under it, long texts cut at
paragraph, line or sentence ends; a queued notification is rendered the same way, once
per language, when the sender sends it."""

from __future__ import annotations

import re

from domain.numbered import numbered
from domain.text import Text, _
from domain.ui import Capabilities, Reply, caption_length
from locales import Translator

CHANNEL = "zalo"
# What Zalo's Bot Platform can show: no buttons or keyboards of any kind, 1–2.000
# characters in a sendMessage text and 2.000 in a sendPhoto caption; its sender takes its
# members' notifications from the delivery queue, at its pace.
CAPABILITIES = Capabilities(
    buttons=False, text_limit=2000, caption_limit=2000, queued=True, label="Zalo"
)

# Where a long text may be cut, best first: between paragraphs, lines, sentences, words.
# Each pattern captures the whitespace it cuts at, which is dropped at a cut.
_BOUNDARIES = (
    re.compile(r"(\n[ \t]*\n\s*)"),
    re.compile(r"(\n)"),
    re.compile(r"(?<=[.!?…])([ \t]+)"),
    re.compile(r"([ \t]+)"),
)


def render(reply: Reply, translator: Translator, language: str) -> list[str]:
    """The texts that show one reply on Zalo, in order; empty when it has nothing to say.

    Its pictures (a chart, a card, a QR code, a photo) and files are left out: Zalo
    fetches pictures from a public address, which ``handlers.zalo.pictures`` adds when
    the bot has one.
    """
    text = translator.lines(reply.text, language)
    return pieces(text, choice_lines(reply, translator, language))


# A queued message is shown as a reply is; the same texts serve every reader of a language.
notification = render


def choice_lines(reply: Reply, translator: Translator, language: str) -> str:
    """A reply's buttons, or the commands of its keyboard, as numbered lines ending with
    how to choose; "" when it offers none. The order is the core's (``numbered``): a
    number typed next means the choice shown with it."""
    # Pages to open (a Mini App's button elsewhere) are links here, on lines of their own.
    links = [f"{translator.render(key.label, language)}: {key.web}"
             for row in reply.keyboard or () for key in row if key.web]  # fmt: skip
    offered = numbered(reply)
    if not offered:
        return "\n".join(links)
    lines = [f"{number}. {translator.render(choice.label, language)}"
             for number, choice in enumerate(offered, start=1)]  # fmt: skip
    lines.append(translator.render(how_to_choose(len(offered)), language))
    return "\n".join([*links, *lines])


def how_to_choose(count: int) -> Text:
    """The line under numbered choices: what to type to choose."""
    if count == 1:
        return _("Reply 1 to choose it.")
    return _("Reply with the number of your choice (1–{count}).", count=count)


def pieces(text: str, choices: str, limit: int = CAPABILITIES.text_limit) -> list[str]:
    """``text`` cut to Zalo's size with the numbered ``choices`` under it, kept whole in
    the last piece when they fit in one message."""
    if not choices:
        return split_text(text, limit)
    if caption_length(choices) > limit:
        return split_text(f"{text}\n{choices}", limit)
    parts = split_text(text, limit)
    if parts and caption_length(parts[-1]) + 1 + caption_length(choices) <= limit:
        parts[-1] = f"{parts[-1]}\n{choices}"
    else:
        parts.append(choices)
    return parts


def split_text(text: str, limit: int = CAPABILITIES.text_limit) -> list[str]:
    """Cut a text into pieces of at most ``limit`` characters (UTF-16 units, the stricter
    count) at paragraph, then line, then sentence, then word ends; a word longer than a
    message is the one thing cut in the middle. Blank pieces are left out, since Zalo
    refuses an empty text."""
    return [piece for piece in _pack(text, limit, 0) if piece.strip()]


def _pack(text: str, limit: int, level: int) -> list[str]:
    """Pieces of ``text`` cut at the boundaries of ``level`` (and finer ones inside a
    part too long), each piece holding as many whole parts as fit."""
    if caption_length(text) <= limit:
        return [text]
    if level == len(_BOUNDARIES):
        return _cut(text, limit)
    # [part, separator, part, separator, …, part]
    tokens = _BOUNDARIES[level].split(text)
    pieces: list[str] = []
    current, size = "", 0
    for index in range(0, len(tokens), 2):
        separator = tokens[index - 1] if index else ""
        chunks = _pack(tokens[index], limit, level + 1)
        first = caption_length(chunks[0])
        joined = size + caption_length(separator) + first
        if current and joined <= limit:
            current, size = current + separator + chunks[0], joined
        else:
            if current:
                pieces.append(current)
            current, size = chunks[0], first
        if len(chunks) > 1:
            pieces.append(current)
            pieces.extend(chunks[1:-1])
            current, size = chunks[-1], caption_length(chunks[-1])
    pieces.append(current)
    return pieces


def _cut(text: str, limit: int) -> list[str]:
    """A text without a boundary cut every ``limit`` units, never inside a character."""
    pieces: list[str] = []
    start, size = 0, 0
    for index, character in enumerate(text):
        width = caption_length(character)
        if size + width > limit:
            pieces.append(text[start:index])
            start, size = index, 0
        size += width
    pieces.append(text[start:])
    return pieces
