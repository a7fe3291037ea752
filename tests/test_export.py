"""The Excel reports: who may export, what the files hold, and /export in chat, on both
engines, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from bot.settings import UNION_TIMEZONE
from domain.errors import NotAllowed
from domain.model import Decision, Member
from domain.progress_cases import unit_progress
from domain.reports import (
    ADMINS_ONLY,
    YES,
    Batches,
    CellKind,
    Column,
    Exporter,
    ReportKind,
    Sheet,
)
from domain.text import Verbatim, _
from handlers.zalo.pictures import NO_FILES
from locales import Translator
from reports.xlsx import XlsxWriter
from tests.conftest import StartBot
from tests.fakebotapi import Harness
from tests.test_review import grant
from tests.test_stats import seed
from tests.test_usecases_review import NOW, Union, union
from tests.test_zalo_media import fetch, public_bot
from tests.zalo_world import Worker, zalo_admins

__all__ = ["union"]  # the fixture, shared

TODAY = NOW.date()
VI = Translator(UNION_TIMEZONE)


def sheet(data: bytes) -> list[tuple[Any, ...]]:
    """The rows of a workbook's only sheet."""
    return list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))


async def unit_id(union: Union, code: str) -> int:
    async with union.units_of_work() as uow:
        return (await union.unit(uow, code)).id


def exporter(union: Union, batch: int = 2) -> Exporter:
    return Exporter(union.units_of_work, XlsxWriter(Translator(UNION_TIMEZONE), UNION_TIMEZONE),
                    batch=batch)  # fmt: skip


async def two_decided(union: Union) -> Any:
    """Three initiatives of May 10: one approved, one returned with a reason, one waiting."""
    people = await union.people()
    for title in ("Giá xoay", "Khuôn ép", "Băng chuyền"):
        await union.submit(people.author, title)
    await union.decide(people.admin_a, Decision.APPROVE, initiative_id=1)
    await union.decide(people.admin_a, Decision.RETURN, "Thiếu số liệu", initiative_id=2)
    return people


async def test_the_list_holds_the_scope_with_decisions_and_confidential_details(
    union: Union,
) -> None:
    people = await two_decided(union)
    may10 = await unit_id(union, "HN-LB-MAY10")
    report = await exporter(union).make(ReportKind.INITIATIVES, people.upper, may10, None,
                                        TODAY, "en")  # fmt: skip
    rows = sheet(report.data)
    assert rows[0][:2] == ("Number", "Title") and rows[0][-1] == "Confidential details"
    assert [r[0] for r in rows[1:]] == ["SK-000001", "SK-000002", "SK-000003"], "batches of 2"
    first, second, third = rows[1:]
    assert first[10] == "Approved" and first[14] == 1_200_000 and first[16] == "Bản vẽ khuôn ép."
    assert second[11] == "Returned for changes" and second[12] == "Thiếu số liệu"
    assert third[9] is None and third[10] == "Awaiting review"
    assert "Hà Nội" in first[7] and first[8].year == 2026
    hidden = await exporter(union).make(ReportKind.INITIATIVES, None, may10, None, TODAY, "en",
                                        confidential=False)  # fmt: skip
    assert {r[16] for r in sheet(hidden.data)[1:]} == {None}
    assert {r[15] for r in sheet(hidden.data)[1:]} == {"Yes"}


async def test_the_list_goes_unit_by_unit_each_by_number_whatever_the_batches(
    union: Union,
) -> None:
    people = await union.people()
    async with union.units_of_work() as uow:
        hvt, ducgiang = [await uow.members.add(Member(
            0, "telegram", str(number), "Hà", "vi", unit_id=(await union.unit(uow, code)).id),
            NOW) for number, code in ((901, "HN-HM-HVT"), (902, "HN-LB-DUCGIANG"))]  # fmt: skip
        await uow.commit()
    for author in (hvt, people.author, ducgiang, people.author, hvt):
        await union.submit(author)
    hanoi = await unit_id(union, "HN")
    for batch in (1, 2, 25):
        report = await exporter(union, batch).make(ReportKind.INITIATIVES, None, hanoi, None,
                                                   TODAY, "en")  # fmt: skip
        rows = sheet(report.data)[1:]
        assert report.rows == 5
        assert [r[0] for r in rows] == ["SK-000002", "SK-000004", "SK-000003", "SK-000001",
                                        "SK-000005"], f"batches of {batch}"  # fmt: skip
        assert [r[6] for r in rows[1:4]] == ["CĐCS Công ty May 10", "CĐCS Công ty May Đức Giang",
                                             "CĐCS Trường THPT Hoàng Văn Thụ"]  # fmt: skip


async def test_only_admins_of_the_unit_or_above_may_export(union: Union) -> None:
    people = await two_decided(union)
    may10 = await unit_id(union, "HN-LB-MAY10")
    for outsider in (people.author, people.elsewhere):
        with pytest.raises(NotAllowed):
            await exporter(union).make(ReportKind.PROGRESS, outsider, may10, None, TODAY, "en")


async def test_progress_figures_equal_what_stats_shows(union: Union) -> None:
    people = await two_decided(union)
    upper = await unit_id(union, "HN-LB")
    report = await exporter(union).make(ReportKind.PROGRESS, people.upper, upper, None,
                                        TODAY, "en")  # fmt: skip
    rows = sheet(report.data)
    async with union.units_of_work() as uow:
        view = await unit_progress(uow, people.upper, upper, None, TODAY)
    shown = {f.unit.code: (f.approved, f.pending, f.returned, f.people, f.benefit_vnd)
             for f in view.children}  # fmt: skip
    exported = {r[0]: (r[3], r[6], r[7], r[9], r[10]) for r in rows[1:-1]}
    assert exported == shown
    own = view.own.figures
    assert rows[-1][1].startswith("Total") and rows[-1][3] == own.approved == 1
    assert (rows[-1][6], rows[-1][7], rows[-1][10]) == (own.pending, own.returned, 1_200_000)


def test_the_command_line_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    base = ["--database-url", url]
    assert main([*base, "units", "import", "examples/units.csv"]) == 0
    assert main([*base, "phases", "add", "--code", "GD1", "--start", "01/01/2026",
                 "--end", "31/12/2030", "--target", "1000"]) == 0  # fmt: skip
    out = tmp_path / "tien-do.xlsx"
    assert main([*base, "export", "progress", "--unit", "HN", "--out", str(out),
                 "--lang", "en"]) == 0  # fmt: skip
    rows = sheet(out.read_bytes())
    assert rows[0][:4] == ("Code", "Unit", "Target", "Approved")
    assert rows[-1][1].startswith("Total") and rows[-1][3] == 0
    listed = tmp_path / "ds.xlsx"
    assert main([*base, "export", "initiatives", "--unit", "HN", "--out", str(listed)]) == 0
    assert sheet(listed.read_bytes())[0][0] is not None
    assert main([*base, "export", "progress", "--unit", "KHONG", "--out", str(out)]) == 1
    assert main([*base, "export", "progress", "--unit", "HN", "--phase", "GD9",
                 "--out", str(out)]) == 1  # fmt: skip
    assert "KHONG" in capsys.readouterr().err


async def test_export_on_telegram_sends_the_file(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "NA", 3001)
    admin = bot.member(3001, "Nghệ An")
    await admin.say("/export")
    calls = await admin.press(admin.button("📊"))
    sent = next(call for call in calls if call.method != "answerCallbackQuery")
    assert sent.method == "sendDocument" and "Nghệ An" in sent.text
    rows = sheet(next(iter(sent.files.values())))
    assert rows[1][0] == "NA-VINH" and rows[1][3] == 13_386
    assert rows[-1][3] == 13_386 and rows[-1][2] == 3_000
    outsider = bot.member(3002, "Lan")
    await outsider.say("/export")
    assert (
        outsider.last().method == "sendMessage"
        and VI.render(ADMINS_ONLY, "vi") in outsider.last().text
    )


async def test_export_on_zalo_without_a_public_address(zalo: Worker, database_url: str) -> None:
    await seed(database_url)
    await zalo_admins(database_url, zalo.user_id, unit_code="NA")
    await zalo.say("/export")
    answer = await zalo.choose("📊")
    assert any(VI.render(NO_FILES, "vi") in text for text in answer), answer
    assert not any("/files/" in text for text in answer)


async def test_export_on_zalo_links_the_file(start_bot: StartBot, database_url: str) -> None:
    async with public_bot(start_bot, database_url) as worker:
        await seed(database_url)
        await zalo_admins(database_url, worker.user_id, unit_code="NA")
        await worker.say("/export")
        answer = "\n".join(await worker.choose("📊"))
        link = re.search(r"https?://\S+/files/\S+\.xlsx", answer)
        assert link is not None, answer
        status, body, _headers = await fetch(link.group(0))
        assert status == 200 and sheet(body)[1][0] == "NA-VINH"


async def test_the_workbook_keeps_formats_and_never_runs_what_was_typed() -> None:
    columns = (
        Column(_("Title"), width=40),
        Column(_("Submitted"), CellKind.MOMENT, 17),
        Column(_("Estimated benefit (VND)"), CellKind.MONEY, 20),
        Column(_("Percent of target"), CellKind.PERCENT, 12),
        Column(_("Status"), width=20),
    )
    typed = '=HYPERLINK("http://x.example","Bấm")'
    moment = dt.datetime(2026, 5, 10, 3, 30, tzinfo=dt.UTC)

    async def batches() -> Batches:
        yield [[typed, moment, Decimal("1200000"), 0.25, YES]]
        yield [["a & b <c>\x00\x1b\r\nd", None, 1_500_000.5, None, "x" * 40_000],
               [" lề ", None, None, None, _("Total: {unit}", unit=Verbatim("HN"))]]  # fmt: skip

    data = await XlsxWriter(VI, UNION_TIMEZONE)(Sheet(_("Initiatives"), columns), batches(), "en")
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws.title == "Initiatives"
    assert [c.value for c in ws[1]] == [
        "Title", "Submitted", "Estimated benefit (VND)", "Percent of target", "Status"
    ]  # fmt: skip
    assert all(c.font.b and c.alignment.wrap_text for c in ws[1]), "bold, wrapped headers"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E4"
    assert [ws.column_dimensions[letter].width for letter in "ABCDE"] == [40, 17, 20, 12, 20]
    formula, when, money, percent, status = ws[2]
    assert formula.value == typed and formula.data_type == "s", "text, never a formula"
    assert when.value == dt.datetime(2026, 5, 10, 10, 30), "a date in the union's clock"
    assert when.number_format == "dd/mm/yyyy hh:mm" and when.is_date
    assert money.value == 1_200_000 and type(money.value) is int
    assert money.number_format == "#,##0" and percent.number_format == "0.0%"
    assert percent.value == 0.25 and status.value == "Yes"
    odd, empty, fraction, _percent, long = ws[3]
    assert odd.value == "a & b <c>\nd", "escaped, without what a file cannot hold"
    assert empty.value is None and fraction.value == 1_500_000.5
    assert long.value == "x" * 32_767, "Excel's longest text in a cell"
    assert ws.cell(4, 1).value == " lề " and ws.cell(4, 5).value == "Total: HN"
