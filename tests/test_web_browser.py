"""The web view in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser). Sign in by the chat's link, open the queue, approve one initiative,
see the chat card change, sign out; drill into progress and download both reports."""

from __future__ import annotations

import os
import re
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openpyxl import load_workbook

from domain.model import AttachmentKind
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import FilesBotApi, Harness
from tests.test_review import ADMIN_A, decisions, edits, grant, setup, submit
from tests.test_stats import seed
from tests.test_web_files import attach
from tests.web_world import login_link

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists() and not os.environ.get("REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
                allow_module_level=True)  # fmt: skip

from playwright.async_api import async_playwright  # noqa: E402


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(bot: Harness, port: int) -> AsyncIterator[None]:
    """The bot's HTTP side on a real socket."""
    runner = web.AppRunner(bot.runtime.http_side(False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def test_sign_in_approve_return_sign_out_and_revoked_in_chromium(
    start_bot: StartBot, database_url: str
) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    await seed_units(database_url)
    bot = await start_bot(public_url=address)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await submit(worker, "Khay đựng phụ liệu có ngăn")
    shots = os.environ.get("WEB_SCREENSHOTS")
    async with serving(bot, port), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox"])  # fmt: skip
        try:
            page = await browser.new_page()
            await sign_in_by_link(page, address, await login_link(a))
            if shots:
                await page.screenshot(path=f"{shots}/queue.png", full_page=True)
            await decide(page, address, 1, "approve")
            await bot.settle()
            assert "Đã duyệt bởi" in edits(bot, ADMIN_A)[-1].text
            await decide(page, address, 2, "return", "Bổ sung số liệu thời gian tiết kiệm.")
            await bot.settle()
            assert "Bổ sung số liệu thời gian tiết kiệm." in worker.transcript(3)
            await page.click("header button[type=submit]")
            await page.wait_for_load_state()
            answer = await page.goto(f"{address}/web/queue")
            assert answer is not None and answer.status == 401

            # Signed in again, then the role goes: the next click is refused.
            await sign_in_by_link(page, address, await login_link(a))
            await grant(database_url, "HN-LB-MAY10", ADMIN_A, revoke=True)
            async with page.expect_navigation() as refused:
                await page.click("header a[href='/web/initiatives']")
            response = await refused.value
            assert response is not None and response.status == 403
        finally:
            await browser.close()
    assert await decisions(database_url, 1) == ["approve"]
    assert await decisions(database_url, 2) == ["return"]


async def sign_in_by_link(page: Any, address: str, path: str) -> None:
    """Open the chat's login link and press its button: the queue opens."""
    await page.goto(address + path)
    await page.click("form button[type=submit]")
    await page.wait_for_url(f"{address}/web/queue")


async def decide(page: Any, address: str, initiative: int, decision: str, reason: str = "") -> None:
    """Open an initiative from the queue and take a decision on it."""
    await page.goto(f"{address}/web/queue")
    await page.click(f"text=SK-{initiative:06d}")
    await page.wait_for_url(f"{address}/web/queue/{initiative}")
    await page.check(f"input[value={decision}]")
    if reason:
        await page.fill("textarea[name=reason]", reason)
    await page.click("form.decision button[type=submit]")
    await page.wait_for_load_state()
    assert await page.locator("form.decision").count() == 0, await page.content()


async def test_drill_into_progress_and_download_both_reports_in_chromium(
    start_bot: StartBot, database_url: str
) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    await seed_units(database_url)
    bot = await start_bot(public_url=address)
    await seed(database_url)
    await grant(database_url, "NA", 3001)
    path = await login_link(bot.member(3001, "Nghệ An"))
    async with serving(bot, port), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox"])  # fmt: skip
        try:
            page = await browser.new_page(accept_downloads=True)
            await page.goto(address + path)
            await page.click("form button[type=submit]")
            await page.wait_for_url(f"{address}/web/queue")
            await page.click("header a[href='/web/progress']")
            await page.wait_for_url(f"{address}/web/progress")
            assert await page.locator("tr.own td").first.inner_text() == "LĐLĐ tỉnh Nghệ An"
            await page.click("text=LĐLĐ TP Vinh")
            await page.wait_for_url(re.compile(r".*/web/progress\?unit=\d+&phase=\d+$"))
            assert await page.locator("tr.own td").nth(2).inner_text() == "13.386"
            chart = page.locator("figure.chart img")
            assert await chart.evaluate("img => img.naturalWidth") > 0, "the chart is drawn"
            if shots := os.environ.get("WEB_SCREENSHOTS"):
                # The README's picture of the page: WEB_SCREENSHOTS=docs/ pytest this test.
                await page.screenshot(path=f"{shots}/progress.png", full_page=True)
            downloaded: dict[str, Any] = {}
            for link in await page.locator(".downloads a").all():
                async with page.expect_download() as started:
                    await link.click()
                download = await started.value
                data = Path(await download.path()).read_bytes()
                downloaded[download.suggested_filename] = load_workbook(BytesIO(data)).worksheets[0]
            listed = downloaded["danh-sach-sang-kien-NA-VINH-GD1.xlsx"]
            assert listed.max_row == 1 + 13_386 and listed.cell(2, 1).value == "SK-000001"
            progress = downloaded["tien-do-don-vi-NA-VINH-GD1.xlsx"]
            assert (
                progress.cell(2, 1).value == "NA-VINH-BVHN" and progress.cell(2, 4).value == 13_386
            )
            await page.click(".crumbs a")
            await page.wait_for_selector("h1:has-text('LĐLĐ tỉnh Nghệ An')")
        finally:
            await browser.close()


def png(width: int, height: int) -> bytes:
    """A plain grey PNG picture."""
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


async def test_an_initiatives_photos_show_in_chromium(
    start_bot: StartBot, database_url: str
) -> None:
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    await seed_units(database_url)
    api = FilesBotApi()
    api.files["AgACAgIAAxkBAAIBphoto"] = png(40, 30)
    bot = await start_bot(api, public_url=address)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await attach(database_url, [(AttachmentKind.PHOTO, "AgACAgIAAxkBAAIBphoto", None),
                                (AttachmentKind.PHOTO, png(1600, 1200), None)])  # fmt: skip
    async with serving(bot, port), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=["--no-sandbox"])  # fmt: skip
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await sign_in_by_link(page, address, await login_link(a))
            await page.goto(f"{address}/web/queue/1")
            photos = page.locator("ul.evidence img")
            await photos.nth(1).scroll_into_view_if_needed()
            await page.wait_for_function(
                "[...document.querySelectorAll('ul.evidence img')]"
                ".every(img => img.complete && img.naturalWidth > 0)"
            )
            widths = [await photo.evaluate("img => [img.naturalWidth, img.clientWidth]")
                      for photo in await photos.all()]  # fmt: skip
            assert widths[0] == [40, 40], "the Telegram photo, fetched through the Bot API"
            assert widths[1][0] == 1600 and widths[1][1] <= 390, "a big photo fits the phone"
        finally:
            await browser.close()
