"""Forged and absurd input gets an ordinary answer, never a crash.

Every kind of button with its numbers forged; and what the fuzz test found: digits that
are no numbers, NUL characters and lengths the database does not hold.
"""

from __future__ import annotations

import datetime as dt

from domain.announce import SCOPES
from domain.dialog import BENEFIT_RANGES, EDIT_LABELS
from domain.model import FieldOfUse, RoleKind, SolutionKind, Step
from domain.preferences import LANGUAGES
from domain.review import DECISION_CODES, PRESET_REASONS
from tests.conftest import Clock
from tests.fakebotapi import Harness
from tests.scenario import join
from tests.test_bad_input import reach_step, worker_at_title
from tests.test_fuzz import seed_phase
from tests.test_review import ADMIN_A, UPPER, WORKER, grant, notice, submit
from tests.test_submission import load

# "#" stands for a number: an id, a version or a page.
PICKS = {
    Step.KIND: [kind.value for kind in SolutionKind],
    Step.FIELD: [field.value for field in FieldOfUse],
    Step.APPLIED: ["no", "month"],
    Step.BENEFIT: ["unknown", *BENEFIT_RANGES],
    Step.CONFIDENTIAL: ["yes", "no"],
}
MULTI = (Step.PROBLEM, Step.SOLUTION, Step.COAUTHORS, Step.ATTACHMENTS)


def kinds_of_press() -> list[str]:
    """Every kind of code the bot makes (domain.codes), its numbers as "#"."""
    drafts = [
        *(f"d:pick:#:{step}:{value}" for step, values in PICKS.items() for value in values),
        *(f"d:{action}:#:{step}" for action in ("done", "clear", "keep") for step in MULTI),
        *(f"d:back:#:{step}" for step in Step),
        *(f"d:edit:#:summary:{step}" for step in EDIT_LABELS),
        *(f"d:{action}:#:summary" for action in ("submit", "save", "discard", "full")),
        "d:discard_yes:#:discard", "d:discard_no:#:discard",
    ]  # fmt: skip
    reviews = [
        *(f"r:{action}:#:#" for action in (*DECISION_CODES, "yes", "no")),
        "r:full:#",
        *(f"r:why:#:#:{reason}" for reason in PRESET_REASONS),
        "r:dup:#:#:#",
    ]
    return [
        *drafts,
        *reviews,
        "p:open:#", "p:page:#",
        *(f"a:to:{scope}" for scope in SCOPES), "a:nophoto", "a:send", "a:cancel", "a:stop:#",
        "g:off:#",
        "k:#:last", "k:#:now",
        *(f"i:role:{kind}" for kind in RoleKind), *(f"i:unit:{kind}:#" for kind in RoleKind),
        "i:revoke:#",
        "n:resume:#", "n:fresh",
        *(f"l:{language}" for language in LANGUAGES),
        *(f"o:{setting}:{state}" for setting in ("nudges", "named") for state in ("on", "off")),
        "j:keep", "j:pick:#", "j:ok:#", "j:search", "j:name",
        "h:other", "h:self", "h:pick:#", "h:new",
        "m:open:#:#", "m:page:#",
        "s:c:#:#", "s:u:#:#",
        "sm:open:#",
    ]  # fmt: skip


# Above the database's integer range, just above the bound, negative, not a number.
ABSURD = ("99999999999999999999", str(2**63), str(2**31), "-1", "x", "1e3")
NOT_VALID = "Lựa chọn này không còn hiệu lực."


def forgeries(kind: str) -> list[str]:
    """The kind with one of its numbers made absurd, the others a real id."""
    parts = kind.split(":")
    numbers = [index for index, part in enumerate(parts) if part == "#"]
    return [
        ":".join(value if index == forged else "1" if part == "#" else part
                 for index, part in enumerate(parts))
        for forged in numbers for value in ABSURD
    ]  # fmt: skip


async def test_every_kind_of_press_refuses_absurd_numbers(bot: Harness, database_url: str) -> None:
    """An admin and helper, with a pending initiative and a draft in the database, presses
    every kind of button with an absurd number: each is refused as not valid any more."""
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    await grant(database_url, "HN-LB-MAY10", ADMIN_A, kind=RoleKind.HELPER)
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    await submit(worker)
    admin = bot.member(ADMIN_A, "An")
    await join(admin, name="Trần Văn An")
    await admin.say("/new")
    kinds = [kind for kind in kinds_of_press() if "#" in kind]
    crashed: dict[str, list[str]] = {}
    refused_otherwise: dict[str, str] = {}
    for kind in kinds:
        for code in forgeries(kind):
            before = len(bot.errors)
            calls = await admin.press(code)
            if len(bot.errors) > before:
                crashed.setdefault(kind, []).append(code)
                del bot.errors[before:]
            elif (said := notice(calls)) != NOT_VALID:
                refused_otherwise[code] = said
    assert not crashed, f"{len(crashed)} of {len(kinds)} kinds crashed: {crashed}"
    assert not refused_otherwise, refused_otherwise
    assert len(kinds_of_press()) > 100


async def test_targets_in_digits_that_are_no_numbers(bot: Harness, database_url: str) -> None:
    await seed_phase(database_url)
    await grant(database_url, "HN-LB", UPPER)
    admin = bot.member(UPPER, "Cường")
    await admin.say("/targets")
    assert "HN-LB-MAY10" in admin.last().text
    for typed in ("²", "٣", "9" * 5_000, "1e3"):
        await admin.say(f"HN-LB-MAY10 {typed}")
        assert "chỉ tiêu phải là số nguyên từ 1 đến 10.000.000" in admin.last().text, typed
    await admin.say("HN-LB-MAY10 1.500")
    assert "số nguyên" not in admin.last().text
    await admin.say("/targets")
    assert "HN-LB-MAY10 · CĐCS Công ty May 10: 1.500" in admin.last().text


async def test_unit_codes_with_a_nul_character(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB", UPPER)
    admin = bot.member(UPPER, "Cường")
    for command in ("/card", "/linkchat"):
        await admin.say(f"{command} HN-LB-MAY10\x00")
        assert "Không có đơn vị mã" in admin.last().text, command


async def test_a_shared_contact_with_an_impossible_number(bot: Harness) -> None:
    worker = bot.member(WORKER, "Lan")
    await worker.say("/start HN-LB-MAY10")
    await worker.tap("Đúng")
    await worker.say("đồng ý")
    await worker.say("Nguyễn Thị Lan")
    contact = {"phone_number": "1" * 40, "first_name": "Lan", "user_id": worker.id}
    await worker.send(contact=contact)
    assert "Số này có vẻ không phải số điện thoại." in worker.last().text
    await worker.send(contact={**contact, "phone_number": "84912345678"})
    assert "📝 Nộp sáng kiến" in worker.last().keyboard


async def test_a_file_with_an_absurd_name(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 412)
    await reach_step(worker, 11)
    document = {"file_id": "d1", "file_unique_id": "d1", "file_name": "báo cáo " + "x" * 300,
                "mime_type": "application/pdf\x00" + "x" * 150}  # fmt: skip
    await worker.send(document=document)
    assert "Đã nhận tệp 1/10." in worker.last().text
    (kept,) = (await load(database_url, 1)).attachments
    assert kept.file_name == ("báo cáo " + "x" * 300)[:255]
    assert kept.mime_type == ("application/pdf" + "x" * 150)[:100]


async def test_a_co_author_with_a_nul_character(bot: Harness, database_url: str) -> None:
    worker = await worker_at_title(bot, 413)
    await reach_step(worker, 10)
    await worker.say("Ngô\x00Văn Phú 10%")
    assert [c.name for c in (await load(database_url, 1)).coauthors] == ["NgôVăn Phú"]


async def test_a_dollar_in_a_name_or_title_is_drawn_as_typed(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    """matplotlib reads "$...$" as a formula; on the commendation card it is text."""
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    worker = bot.member(WORKER, "Lan")
    await join(worker, name="Lan $x^$")
    await submit(worker, title="Giảm $x^$ phế phẩm")
    admin = bot.member(ADMIN_A, "An")
    await admin.tap("Duyệt")
    await admin.tap("Xác nhận")
    clock.now += dt.timedelta(minutes=5)
    await admin.say("/card")
    calls = await admin.tap("Tuần này")
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert next(iter(photo.files.values())).startswith(b"\x89PNG")


async def test_a_page_past_the_end_shows_the_last_page(bot: Harness, database_url: str) -> None:
    """Buttons from when there was more: /my and /pending show the last page there is."""
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    await submit(worker)
    await worker.press("m:page:7")
    assert "trang 1/1" in worker.last().text and "SK-000001" in worker.last().text
    admin = bot.member(ADMIN_A, "An")
    await admin.press("p:page:2147483647")
    assert "trang 1/1" in admin.last().text and "SK-000001" in admin.last().text
