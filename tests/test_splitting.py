"""Long texts are cut where a reader expects, on both channels: a word is never cut in
two unless it alone is longer than a message."""

from __future__ import annotations

from handlers.telegram.render import split_text as telegram_split
from handlers.zalo.render import split_text as zalo_split

# A solution typed as one long paragraph, as a worker on a phone types it.
WORDS = ("Lắp dao nhiệt cắt chỉ ngay dưới chân vịt máy may, không cần kéo tay. " * 160).split()
LONG_LINE = " ".join(WORDS)


def test_telegram_cuts_one_long_paragraph_between_words() -> None:
    pieces = telegram_split(LONG_LINE)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert [w for p in pieces for w in p.split()] == WORDS, "no word cut in two"
    # At a sentence's end where one is near the limit.
    assert all(p.endswith(".") for p in pieces)


def test_both_channels_cut_the_same_way_at_their_own_limits() -> None:
    assert zalo_split(LONG_LINE) == telegram_split(LONG_LINE, 2000)
    assert all(len(p) <= 2000 for p in zalo_split(LONG_LINE))


def test_telegram_never_sends_an_empty_piece() -> None:
    assert telegram_split("") == ["…"]
    assert telegram_split("a\n\n\n\nb", 2) == ["a", "b"]
    assert telegram_split("🔧" * 3000) == ["🔧" * 2048, "🔧" * 952], "UTF-16: two units each"
