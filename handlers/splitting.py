"""Cutting a long text into messages a platform accepts, at the most natural place:
between paragraphs, then lines, then sentences, then words; one channel's limit each."""

from __future__ import annotations

import re

from domain.ui import caption_length

# Where a long text may be cut, best first: between paragraphs, lines, sentences, words.
# Each pattern captures the whitespace it cuts at, which is dropped at a cut.
_BOUNDARIES = (
    re.compile(r"(\n[ \t]*\n\s*)"),
    re.compile(r"(\n)"),
    re.compile(r"(?<=[.!?…])([ \t]+)"),
    re.compile(r"([ \t]+)"),
)


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into pieces of at most ``limit`` characters (UTF-16 units, the stricter
    count) at paragraph, then line, then sentence, then word ends; a word longer than a
    message is the one thing cut in the middle. Blank pieces are left out: no platform
    takes an empty text."""
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
