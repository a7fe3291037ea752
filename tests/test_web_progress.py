"""The progress page over HTTP: the figures /stats shows, drilling down and up within the
admin's scope, switching phase, the chart, the emulation groups, and both Excel reports
downloaded from the progress and queue pages."""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.settings import UNION_TIMEZONE
from domain.progress import add_phase, import_groups
from domain.reports import XLSX_TYPE
from handlers.web import progress as progress_pages
from handlers.web.words import WORDS
from locales import Translator
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import Harness
from tests.test_review import grant
from tests.test_stats import seed
from tests.web_world import PUBLIC_URL, Client, sign_in, web_client

NA_ADMIN, HN_ADMIN = 3001, 3004
VI = Translator(UNION_TIMEZONE)


def said(word: str) -> str:
    """One of the web view's words, as a Vietnamese page shows it."""
    return VI.render(WORDS[word], "vi")


class Tables(HTMLParser):
    """The page's tables: each a list of rows, each row its cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and dict(attrs).get("data-unit"):
            self.tables[-1].append([])
        elif tag == "td" and self.tables and self.tables[-1]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[list[str]]]:
    """The figures tables of a page."""
    parser = Tables()
    parser.feed(html)
    return parser.tables


def links(html: str, text: str) -> str:
    """The address of the link with that text."""
    found = re.search(r'href="([^"]+)"[^>]*>' + re.escape(text) + "<", html)
    assert found, (text, html)
    return found.group(1).replace("&amp;", "&")


def workbook(data: bytes) -> list[tuple[Any, ...]]:
    """The rows of a workbook's only sheet."""
    return list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))


async def progress_bot(start_bot: StartBot, database_url: str) -> Harness:
    """The bot with its web view, Phase 1's figures seeded, and admins of Nghệ An and Hà
    Nội."""
    await seed_units(database_url)
    bot = await start_bot(public_url=PUBLIC_URL)
    await seed(database_url)
    await grant(database_url, "NA", NA_ADMIN)
    await grant(database_url, "HN", HN_ADMIN)
    return bot


async def unit_ids(bot: Harness, *codes: str) -> list[int]:
    """The ids of units named by their codes."""
    found = []
    async with bot.runtime.graph.units_of_work() as uow:
        for code in codes:
            unit = await uow.units.by_code(code)
            assert unit is not None
            found.append(unit.id)
    return found


async def page(client: Client, address: str, status: int = 200) -> str:
    """A page's HTML, after checking its status."""
    response = await client.get(address)
    html = await response.text()
    assert response.status == status, (address, html)
    return html


async def test_the_figures_are_those_stats_shows(start_bot: StartBot, database_url: str) -> None:
    bot = await progress_bot(start_bot, database_url)
    admin = bot.member(NA_ADMIN, "Nghệ An")
    await admin.say("/stats")
    chat = admin.last().text
    async with web_client(bot) as client:
        await sign_in(client, admin)
        html = await page(client, "/web/progress")
    own, children = tables(html)[:2]
    name, target, approved, percent, rank, pending, returned, sent, people, benefit = own[0]
    assert (name, target, approved, percent, rank) == (
        "LĐLĐ tỉnh Nghệ An", "3.000", "13.386", "446,2%", "1/7")  # fmt: skip
    assert f"{name}: {approved}/{target} sáng kiến · đạt {percent} · hạng {rank}" in chat, chat
    assert (
        f"Người tham gia: {people} · chờ duyệt: {pending} · yêu cầu bổ sung: {returned} · "
        f"giá trị làm lợi: {benefit}"
    ) in chat, chat
    assert benefit == "133,9 tỷ đồng"
    assert 'data-label="Xếp hạng">1/7<' in html, "each figure says what it is on a phone"
    assert sent == "13.386", "approved, awaiting and returned together"
    assert "còn 40 ngày" in html and "01/01/2026" in html
    vinh = children[0]
    assert vinh[:5] == ["LĐLĐ TP Vinh", "2.000", "13.386", "669,3%", "1/1"]
    assert f"1. {vinh[0]}: {vinh[2]}/{vinh[1]} sáng kiến · đạt {vinh[3]}" in chat


async def test_drill_down_and_up_within_the_scope_only(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await progress_bot(start_bot, database_url)
    admin = bot.member(NA_ADMIN, "Nghệ An")
    national, hanoi = await unit_ids(bot, "TLD", "HN")
    async with web_client(bot) as client:
        await sign_in(client, admin)
        top = await page(client, "/web/progress")
        vinh = await page(client, links(top, "LĐLĐ TP Vinh"))
        assert tables(vinh)[0][0][:3] == ["LĐLĐ TP Vinh", "2.000", "13.386"]
        crumbs = vinh.split('class="crumbs"')[1].split("</nav>")[0]
        assert "LĐLĐ tỉnh Nghệ An" in crumbs and "Tổng Liên đoàn" not in crumbs
        deeper = await page(client, links(vinh, "CĐCS Bệnh viện Hữu nghị Đa khoa Nghệ An"))
        assert tables(deeper)[0][0][:3] == ["CĐCS Bệnh viện Hữu nghị Đa khoa Nghệ An", "1.000",
                                            "13.386"]  # fmt: skip
        assert "LĐLĐ TP Vinh</a>" in deeper, "the path leads back up"
        back = await page(client, links(deeper, "LĐLĐ tỉnh Nghệ An"))
        assert tables(back)[0][0][0] == "LĐLĐ tỉnh Nghệ An"
        for outside in (national, hanoi, 10**9):
            refused = await page(client, f"/web/progress?unit={outside}", status=403)
            assert "Tổng Liên đoàn" not in refused and "Hà Nội" not in refused
            await page(client, f"/web/progress/chart.png?unit={outside}", status=403)
            await page(client, f"/web/export/progress?unit={outside}", status=403)
    async with web_client(bot) as stranger:
        assert (await stranger.get("/web/progress")).status == 401
        assert (await stranger.get(f"/web/export/progress?unit={hanoi}")).status == 401


async def test_switching_phase(start_bot: StartBot, database_url: str) -> None:
    bot = await progress_bot(start_bot, database_url)
    admin = bot.member(NA_ADMIN, "Nghệ An")
    units_of_work = bot.runtime.graph.units_of_work
    await add_phase(units_of_work, "GD2", "Giai đoạn 2", dt.date(2027, 1, 1),
                    dt.date(2027, 12, 31), None)  # fmt: skip
    async with web_client(bot) as client:
        await sign_in(client, admin)
        first = await page(client, "/web/progress")
        assert "📊 Giai đoạn 1" in first
        second = await page(client, links(first, "Giai đoạn 2"))
        assert "📊 Giai đoạn 2" in second and "<strong>Giai đoạn 2</strong>" in second
        assert tables(second)[0][0][1:3] == ["—", "0"], "nothing counted in phase 2 yet"
        assert "/web/export/progress?unit=" in second and "phase=" in second
        back = await page(client, links(second, "Giai đoạn 1"))
        assert tables(back)[0][0][2] == "13.386"
        await page(client, "/web/progress?phase=999999", status=403)


async def test_the_chart_and_the_emulation_groups(start_bot: StartBot, database_url: str) -> None:
    bot = await progress_bot(start_bot, database_url)
    await import_groups(bot.runtime.graph.units_of_work,
                        "group_code,group_name,unit_code\nBTB,Cụm Bắc Trung Bộ,NA\n"
                        "BTB,Cụm Bắc Trung Bộ,TH\nBTB,Cụm Bắc Trung Bộ,HT\n".encode())  # fmt: skip
    admin = bot.member(NA_ADMIN, "Nghệ An")
    await admin.say("/top")
    chat = admin.last().text
    async with web_client(bot) as client:
        await sign_in(client, admin)
        html = await page(client, "/web/progress")
        chart = re.search(r'<img src="([^"]+)"', html)
        assert chart is not None, html
        picture = await client.get(chart.group(1).replace("&amp;", "&"))
        assert picture.status == 200 and picture.content_type == "image/png"
        assert (await picture.read()).startswith(b"\x89PNG")
        assert "Cụm Bắc Trung Bộ" in html
        group = tables(html)[-1]
        assert [r[0] for r in group] == ["LĐLĐ tỉnh Nghệ An", "LĐLĐ tỉnh Thanh Hóa",
                                         "LĐLĐ tỉnh Hà Tĩnh"]  # fmt: skip
        in_chat = chat.split("Cụm Bắc Trung Bộ")[1]
        assert in_chat.index("Nghệ An") < in_chat.index("Thanh Hóa") < in_chat.index("Hà Tĩnh")
        mine = re.search(r'<tr data-unit="\d+" class="own"><td>([^<]+)<', html.split("<h3>")[1])
        assert mine is not None and mine.group(1) == "LĐLĐ tỉnh Nghệ An"


async def test_both_reports_download_from_the_progress_and_queue_pages(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await progress_bot(start_bot, database_url)
    admin = bot.member(HN_ADMIN, "Hà Nội")
    async with web_client(bot) as client:
        await sign_in(client, admin)
        html = await page(client, "/web/progress")
        shown = tables(html)
        listed = await client.get(links(html, said("export_initiatives")))
        assert listed.status == 200 and listed.content_type == XLSX_TYPE
        assert listed.headers["Content-Disposition"].startswith(
            'attachment; filename="danh-sach-sang-kien-HN-GD1.xlsx"')  # fmt: skip
        rows = workbook(await listed.read())
        assert len(rows) == 1 + 30, "May 10's thirty initiatives, the only ones in Hà Nội"
        progress = await client.get(links(html, said("export_progress")))
        assert progress.status == 200
        assert "tien-do-don-vi-HN-GD1.xlsx" in progress.headers["Content-Disposition"]
        sheet = workbook(await progress.read())
        total = sheet[-1]
        assert total[3] == 30 and total[2] == 52_000
        assert shown[0][0][1:3] == ["52.000", "30"], "the page and the file agree"
        assert [r[1] for r in sheet[1:-1]] == [r[0] for r in shown[1]], "same units, same order"
        queue = await page(client, "/web/queue")
        from_queue = await client.get(links(queue, said("export_progress")))
        assert from_queue.status == 200 and workbook(await from_queue.read())[-1][3] == 30
        listed_again = await client.get(links(queue, said("export_initiatives")))
        assert len(workbook(await listed_again.read())) == 31


async def test_the_units_below_come_a_page_at_a_time(
    start_bot: StartBot, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_pages, "ROWS_PER_PAGE", 1)
    bot = await progress_bot(start_bot, database_url)
    admin = bot.member(NA_ADMIN, "Nghệ An")
    async with web_client(bot) as client:
        await sign_in(client, admin)
        top = await page(client, "/web/progress")
        vinh = await page(client, links(top, "LĐLĐ TP Vinh"))
        below = tables(vinh)[1]
        assert [r[0] for r in below] == ["CĐCS Bệnh viện Hữu nghị Đa khoa Nghệ An"], below
        assert below[0][4] == "1/2" and "Các đơn vị trước" not in vinh
        later = await page(client, links(vinh, "Các đơn vị tiếp theo ▶️"))
        below = tables(later)[1]
        assert [r[0] for r in below] == ["CĐCS Công ty CP Cấp nước Nghệ An"], below
        assert below[0][4] == "2/2" and "Các đơn vị tiếp theo" not in later
