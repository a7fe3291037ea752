"""/mydata: a member's copy of their data, the use case, its two files, the chat on
Telegram and Zalo, and the command line, on both engines."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from bot.__main__ import main
from bot.settings import UNION_TIMEZONE
from domain.erased import ERASED_NAME
from domain.erasure import erase_member
from domain.errors import NotFound
from domain.model import Decision, Initiative, InitiativeStatus, Member
from domain.privacy_copy import (
    ASK_THE_UNION,
    FILE_CAPTIONS,
    CopyFormat,
    PersonalCopies,
    copy_summary,
    personal_copy,
    summary_lines,
)
from domain.privacy_files import RECORD_SHEET
from domain.reports import Batches, Column, Sheet
from domain.text import _
from locales import Translator
from reports.xlsx import XlsxWriter
from storage.models import ConsentRow
from tests.conftest import StartBot
from tests.fakebotapi import Harness
from tests.scenario import answer_all, join
from tests.test_usecases_review import NOW, People, Union, union
from tests.test_zalo_media import fetch, public_bot
from tests.zalo_world import Worker, submit_by_typing

__all__ = ["union"]  # the fixture, shared

SAY = Translator(UNION_TIMEZONE)
OTHER_TITLE = "Máy dán nhãn tự động của Khải"
OTHER_NAME = "Phạm Văn Khải"
SHEETS_EN = ["Profile", "Consents", "Linked accounts", "Roles", "Initiatives", "Drafts",
             "Co-authors", "Files", "Record", "Versions", "Messages"]  # fmt: skip


def copies(union: Union) -> PersonalCopies:
    return PersonalCopies(union.units_of_work, XlsxWriter(SAY, UNION_TIMEZONE), SAY)


async def lived(union: Union) -> tuple[People, Member]:
    """Lan's initiatives in every state (approved, returned with a reason, waiting, a
    draft, one a helper entered for her), her consent on record, and a co-worker of her
    unit with one of his own."""
    people = await union.people()
    for title in ("Giá xoay", "Khuôn ép", "Băng chuyền"):
        await union.submit(people.author, title)
    await union.decide(people.admin_a, Decision.APPROVE, initiative_id=1)
    await union.decide(people.admin_a, Decision.RETURN, "Thiếu số liệu", initiative_id=2)
    async with union.units_of_work() as uow:
        assert people.author.unit_id is not None
        await uow.initiatives.add(Initiative(
            0, people.author.id, people.author.id, people.author.unit_id,
            InitiativeStatus.DRAFT, NOW, NOW, title="Nháp: đèn báo",
        ))  # fmt: skip
        people.author.consent_version = "2026-01"
        await uow.members.save(people.author, NOW)
        await uow.execute(insert(ConsentRow).values(
            member_id=people.author.id, version="2026-01", action="given", channel="telegram",
            at=NOW,
        ))  # fmt: skip
        other = await uow.members.add(Member(0, "telegram", "705", "Khải", "vi",
                                             full_name=OTHER_NAME,
                                             unit_id=people.author.unit_id), NOW)  # fmt: skip
        await uow.commit()
    await union.submit(people.author, "Bàn ủi hơi", entered_by=people.helper)
    await union.submit(other, OTHER_TITLE)
    return people, other


async def test_the_copy_holds_every_initiative_of_the_member_and_nothing_of_another(
    union: Union,
) -> None:
    people, _other = await lived(union)
    async with union.units_of_work() as uow:
        copy = await personal_copy(uow, people.author.id, batch=2)
    assert [c.initiative.title for c in copy.initiatives] == [
        "Giá xoay", "Khuôn ép", "Băng chuyền", "Nháp: đèn báo", "Bàn ủi hơi",
    ], "read two at a time"  # fmt: skip
    made = await copies(union).make(people.author.id, CopyFormat.JSON, "en", NOW)
    assert made.file_name.endswith(".json")
    text = made.data.decode("utf-8")
    data = json.loads(text)
    assert list(data)[:3] == ["format", "made_at", "profile"]
    assert data["profile"]["full_name"] == "Nguyễn Thị Lan" and "Nguyễn Thị Lan" in text
    statuses = {i["title"]: i["status"] for i in data["initiatives"]}
    assert statuses == {"Giá xoay": "approved", "Khuôn ép": "returned", "Băng chuyền": "pending",
                        "Bàn ủi hơi": "pending"}  # fmt: skip
    entered = {i["title"]: i["entered_by"] for i in data["initiatives"]}
    assert entered["Bàn ủi hơi"] == "Đỗ Văn Tổ" and entered["Giá xoay"] is None
    assert [d["title"] for d in data["drafts"]] == ["Nháp: đèn báo"]
    returned = next(i for i in data["initiatives"] if i["title"] == "Khuôn ép")
    decision = returned["record"][-1]
    assert (decision["action"], decision["reason"], decision["by"]) == (
        "return", "Thiếu số liệu", "An"), "as /history shows it to her"  # fmt: skip
    approved = next(i for i in data["initiatives"] if i["title"] == "Giá xoay")
    assert approved["record"][-1]["action"] == "approve"
    assert approved["confidential_note"] == "Bản vẽ khuôn ép.", "her own, confidential or not"
    assert dt.datetime.fromisoformat(approved["submitted_at"]) == NOW
    assert data["consents"] == [{"version": "2026-01", "action": "given",
                                 "channel": "telegram", "at": NOW.isoformat()}]  # fmt: skip
    assert OTHER_TITLE not in text and OTHER_NAME not in text and "Khải" not in text
    assert "csrf" not in text and "hash" not in text


async def test_the_workbook_has_a_sheet_per_part_in_the_members_language(union: Union) -> None:
    people, _other = await lived(union)
    for language in ("en", "vi"):
        made = await copies(union).make(people.author.id, CopyFormat.XLSX, language, NOW)
        book = load_workbook(io.BytesIO(made.data))
        assert len(book.sheetnames) == len(SHEETS_EN) == len(set(book.sheetnames))
        record = book.worksheets[SHEETS_EN.index("Record")]
        assert [c.value for c in record[1]] == [
            SAY.render(column.title, language) for column in RECORD_SHEET.columns
        ]
        assert ["SK-000002", "Thiếu số liệu"] in [[r[0], r[5]] for r in
                                                  record.iter_rows(values_only=True)]  # fmt: skip
    assert book.sheetnames[0] == SAY.render(_("Profile"), "vi")
    english = load_workbook(io.BytesIO(
        (await copies(union).make(people.author.id, CopyFormat.XLSX, "en", NOW)).data))  # fmt: skip
    assert english.sheetnames == SHEETS_EN
    listed = [row[:3] for row in english["Initiatives"].iter_rows(min_row=2, values_only=True)]
    assert listed == [("SK-000001", "Giá xoay", "Approved"),
                      ("SK-000002", "Khuôn ép", "Returned for changes"),
                      ("SK-000003", "Băng chuyền", "Awaiting review"),
                      ("SK-000005", "Bàn ủi hơi", "Awaiting review")]  # fmt: skip
    drafts = list(english["Drafts"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in drafts] == ["Nháp: đèn báo"]
    every = "".join(str(v) for ws in english.worksheets for r in ws.iter_rows(values_only=True)
                    for v in r)  # fmt: skip
    assert OTHER_TITLE not in every and OTHER_NAME not in every


async def test_an_erased_admin_is_named_by_the_erased_label(union: Union) -> None:
    people, _other = await lived(union)
    async with union.units_of_work() as uow:
        await erase_member(uow, people.admin_a.id, "operator", NOW)
        await uow.commit()
    made = await copies(union).make(people.author.id, CopyFormat.JSON, "vi", NOW)
    returned = next(i for i in json.loads(made.data)["initiatives"] if i["title"] == "Khuôn ép")
    assert returned["record"][-1]["by"] == SAY.render(ERASED_NAME, "vi")
    made = await copies(union).make(people.author.id, CopyFormat.XLSX, "en", NOW)
    record = load_workbook(io.BytesIO(made.data))["Record"]
    by = [row[4] for row in record.iter_rows(min_row=2, values_only=True) if row[0] == "SK-000002"]
    assert by == ["Nguyễn Thị Lan", "Member who erased their data"], "she sent it, he returned it"


async def test_the_summary_counts_by_status(union: Union) -> None:
    people, _other = await lived(union)
    async with union.units_of_work() as uow:
        summary = await copy_summary(uow, people.author.id)
        with pytest.raises(NotFound):
            await copy_summary(uow, 9999)
    text = SAY.lines(summary_lines(summary, {"telegram": "Telegram"}), "en")
    assert "Initiatives submitted: 4 (Approved 1, Awaiting review 2, Returned for changes 1)" in (
        text
    )
    assert "Drafts: 1" in text and "Nguyễn Thị Lan" in text
    assert "version 2026-01" in text


async def test_one_workbook_holds_several_sheets_with_distinct_names() -> None:
    async def rows(value: str) -> Batches:
        yield [[value]]

    sheet = Sheet(_("Title"), (Column(_("Title")),))
    data = await XlsxWriter(SAY, UNION_TIMEZONE).workbook(
        [(sheet, rows("a")), (sheet, rows("b")), (Sheet(_("Initiatives"), sheet.columns),
                                                 rows("c"))], "en")  # fmt: skip
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Title", "Title (2)", "Initiatives"]
    assert [ws["A2"].value for ws in book.worksheets] == ["a", "b", "c"]
    assert [ws.auto_filter.ref for ws in book.worksheets] == ["A1:A2"] * 3


def documents(calls: list[Any]) -> list[bytes]:
    """The files sent, in order."""
    return [data for call in calls if call.method == "sendDocument" for data in call.files.values()]


async def test_mydata_on_telegram_sends_the_summary_and_both_files(bot: Harness) -> None:
    lan = bot.member(4101, "Lan")
    await join(lan)
    await lan.say("/new")
    await answer_all(lan)
    await lan.tap("Gửi duyệt")
    calls = await lan.say("/mydata")
    summary = next(call for call in calls if call.method == "sendMessage")
    assert SAY.render(_("📦 What the bot holds about you"), "vi") in summary.text
    assert "Nguyễn Thị Lan" in summary.text
    sent = [call for call in calls if call.method == "sendDocument"]
    assert [call.text for call in sent] == [SAY.render(t, "vi") for t in FILE_CAPTIONS.values()]
    files = documents(calls)
    (json_bytes,) = [data for data in files if data.startswith(b"{")]
    data = json.loads(json_bytes)
    assert [i["title"] for i in data["initiatives"]] == ["Giá treo cuộn chỉ xoay"]
    assert data["initiatives"][0]["coauthors"] == [{"name": "Trần Văn Bình", "share": "30.00"}]
    (xlsx_bytes,) = [data for data in files if data.startswith(b"PK")]
    book = load_workbook(io.BytesIO(xlsx_bytes))
    assert book.sheetnames[0] == SAY.render(_("Profile"), "vi")
    assert len(book.sheetnames) == len(SHEETS_EN)


async def test_mydata_works_before_joining_and_in_english(bot: Harness) -> None:
    stranger = bot.member(4102, "Minh")
    await stranger.say("/start")
    await stranger.say("/lang")
    await stranger.tap("English")
    calls = await stranger.say("/mydata")
    summary = next(call for call in calls if call.method == "sendMessage")
    assert "What the bot holds about you" in summary.text and "Drafts: 0" in summary.text
    data = json.loads(next(d for d in documents(calls) if d.startswith(b"{")))
    assert data["profile"]["language"] == "en" and data["initiatives"] == []


async def test_mydata_on_zalo_without_a_public_address_says_where_to_ask(zalo: Worker) -> None:
    await submit_by_typing(zalo)
    answer = await zalo.say("/mydata")
    joined = "\n".join(answer)
    assert SAY.render(_("📦 What the bot holds about you"), "vi") in joined
    assert joined.count(SAY.render(ASK_THE_UNION, "vi")) == 2, joined
    assert "/files/" not in joined


async def test_mydata_on_zalo_links_both_files(start_bot: StartBot, database_url: str) -> None:
    async with public_bot(start_bot, database_url) as worker:
        await submit_by_typing(worker)
        answer = "\n".join(await worker.say("/mydata"))
        links = re.findall(r"https?://\S+/files/\S+\.(?:json|xlsx)", answer)
        assert len(links) == 2, answer
        by_kind = {link.rsplit(".", 1)[1]: link for link in links}
        status, body, headers = await fetch(by_kind["json"])
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        assert json.loads(body)["initiatives"][0]["title"] == "Giá treo cuộn chỉ xoay"
        status, body, _headers = await fetch(by_kind["xlsx"])
        assert status == 200 and len(load_workbook(io.BytesIO(body)).sheetnames) == len(SHEETS_EN)


def test_the_command_line_writes_the_copy_and_refuses_an_unknown_member(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    base = ["--database-url", url]
    assert main([*base, "units", "import", "examples/units.csv"]) == 0
    assert main([*base, "admins", "add", "--unit", "HN", "--telegram-id", "77"]) == 0
    out = tmp_path / "copy.json"
    assert main([*base, "data", "export", "--member", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text("utf-8"))
    assert data["profile"]["member_id"] == 1 and data["roles"][0]["unit_code"] == "HN"
    book = tmp_path / "copy.xlsx"
    assert main([*base, "data", "export", "--member", "1", "--out", str(book),
                 "--lang", "en"]) == 0  # fmt: skip
    assert load_workbook(book).sheetnames == SHEETS_EN
    capsys.readouterr()
    assert main([*base, "data", "export", "--member", "999", "--out", str(out)]) == 1
    assert "There is no member with the number 999." in capsys.readouterr().err
    assert main([*base, "data", "export", "--member", "1", "--out", str(tmp_path / "x.pdf")]) == 2
