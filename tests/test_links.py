"""Tests for Telegram deep links and QR code files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import segno

from bot.links import QR_BORDER, QR_SCALE, deep_link, write_qr

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
