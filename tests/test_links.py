"""Tests for Telegram deep links, Zalo links, QR code files and units' posters."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy
import pytest
import segno

from bot.links import (
    QR_BORDER,
    QR_SCALE,
    deep_link,
    poster_sheet,
    write_poster,
    write_qr,
    zalo_link,
)
from bot.settings import UNION_TIMEZONE
from charts.poster import PosterSheet, draw_poster
from charts.qr import qr_modules
from locales import Translator

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_deep_link_format() -> None:
    assert deep_link("SangKienBot", "HN-LB-MAY10") == "https://t.me/SangKienBot?start=HN-LB-MAY10"


def test_deep_link_strips_leading_at() -> None:
    assert deep_link("@sang_kien_bot", "TLD") == "https://t.me/sang_kien_bot?start=TLD"


@pytest.mark.parametrize("code", ["", "HN LB", "HÀ-NỘI", "a" * 33, "x&start=y", "../etc"])
def test_invalid_code_rejected(code: str) -> None:
    with pytest.raises(ValueError):
        deep_link("SangKienBot", code)


@pytest.mark.parametrize("username", ["", "@", "bad name", "abc"])
def test_invalid_username_rejected(username: str) -> None:
    with pytest.raises(ValueError):
        deep_link(username, "TLD")


def test_write_qr_writes_png(tmp_path: Path) -> None:
    link = deep_link("SangKienBot", "HN-LB-MAY10")
    directory = tmp_path / "qr"
    path = write_qr(directory, "HN-LB-MAY10", link)
    assert path == directory / "HN-LB-MAY10.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    qr = segno.make(link, error="q", micro=False)
    assert qr.matrix and all(len(row) for row in qr.matrix)
    assert (width, height) == qr.symbol_size(scale=QR_SCALE, border=QR_BORDER)
    assert width >= 300
    assert [p.name for p in directory.iterdir()] == ["HN-LB-MAY10.png"]


def test_write_qr_overwrites_existing_file(tmp_path: Path) -> None:
    first = write_qr(tmp_path, "TLD", deep_link("SangKienBot", "TLD"))
    second = write_qr(tmp_path, "TLD", deep_link("OtherUnionBot", "TLD"))
    assert first == second
    assert second.read_bytes().startswith(PNG_MAGIC)
    assert len(list(tmp_path.iterdir())) == 1


def test_write_qr_rejects_unsafe_code(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_qr(tmp_path, "../escape", "https://t.me/SangKienBot?start=TLD")
    assert list(tmp_path.iterdir()) == []


ZALO = "https://zalo.me/1459232241454765289"


def sheet(telegram: bool = True, zalo: bool = True) -> PosterSheet:
    """May 10's poster, on the channels asked for, in Vietnamese."""
    return poster_sheet(
        "HN-LB-MAY10",
        "CĐCS Công ty May 10",
        telegram=deep_link("sangkien_bot", "HN-LB-MAY10") if telegram else None,
        zalo=ZALO if zalo else None,
        translator=Translator(UNION_TIMEZONE),
        language="vi",
    )


@pytest.mark.parametrize("link", [ZALO, " https://zalo.me/s/botcreator/ "])
def test_a_zalo_link_is_an_https_address(link: str) -> None:
    assert zalo_link(link) == link.strip()


@pytest.mark.parametrize(
    "link",
    ["", "zalo.me/1459232241454765289", "http://zalo.me/145", "https://", "https://zalo.me/a b"],
)
def test_anything_else_is_not_a_zalo_link(link: str) -> None:
    with pytest.raises(ValueError, match="Zalo Bot Creator"):
        zalo_link(link)


def test_the_poster_has_a_panel_per_channel_and_zalo_names_the_code_to_send() -> None:
    both = sheet()
    assert [panel.heading for panel in both.panels] == ["Telegram", "Zalo"]
    assert [panel.qr for panel in both.panels] == [
        "https://t.me/sangkien_bot?start=HN-LB-MAY10",
        ZALO,
    ]
    telegram, zalo = both.panels
    assert zalo.steps.endswith(": HN-LB-MAY10") and "HN-LB-MAY10" not in telegram.steps
    assert zalo.link == "zalo.me/1459232241454765289"
    assert (both.unit, both.code) == ("CĐCS Công ty May 10", "HN-LB-MAY10")
    assert [panel.heading for panel in sheet(telegram=False).panels] == ["Zalo"]
    assert [panel.heading for panel in sheet(zalo=False).panels] == ["Telegram"]
    with pytest.raises(ValueError):
        sheet(telegram=False, zalo=False)


def test_the_poster_draws_its_sheet_texts_and_both_qr_codes_on_an_a4_page() -> None:
    both = sheet()
    figure = draw_poster(both)
    width, height = figure.get_size_inches()
    assert round(height / width, 2) == round(297 / 210, 2), "A4 portrait"

    def bare(text: str) -> str:
        """The text without its line breaks and spaces, wherever wrapping put them."""
        return "".join(text.split())

    drawn = sorted(bare(text.get_text()) for text in figure.texts)
    assert drawn == sorted(bare(text) for text in both.texts())
    images = [image.get_array() for axes in figure.axes for image in axes.get_images()]
    assert len(images) == 2
    for image, panel in zip(images, both.panels, strict=True):
        assert numpy.array_equal(image, numpy.array(qr_modules(panel.qr))), panel.heading
    # The code is printed larger than anything else on the page.
    sizes = {text.get_text(): text.get_fontsize() for text in figure.texts}
    assert sizes["HN-LB-MAY10"] == max(sizes.values()) and sizes["HN-LB-MAY10"] >= 60


def test_write_poster_writes_an_a4_png_named_after_the_code(tmp_path: Path) -> None:
    path = write_poster(tmp_path / "posters", sheet())
    assert path == tmp_path / "posters" / "HN-LB-MAY10.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1600 and round(height / width, 2) == round(297 / 210, 2)
    assert [p.name for p in path.parent.iterdir()] == ["HN-LB-MAY10.png"]
