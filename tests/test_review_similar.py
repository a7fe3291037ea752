"""Similar initiatives on the reviewer's side: the card's "🔁 Tương tự" line and buttons
(never a confidential match its reader may not read), a duplicate decision naming its
original by button, by typed number and by numbered choice, the author's notice and the
history saying it, and the same list on the web queue and initiative page."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from domain.model import Initiative, InitiativeStatus, Member, SolutionKind, Step
from domain.review import NUMBER_NOT_KNOWN
from domain.review_card import OpenPending, reason_text
from domain.similar import status_text
from domain.text import Text
from locales import Translator
from storage.repositories.similar import SqlSimilarInitiatives
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import Harness
from tests.test_review import UPPER, setup, submit
from tests.test_submission import load
from tests.web_world import PUBLIC_URL, csrf_of, sign_in, web_client
from tests.zalo_world import Worker, ZaloUser, submit_by_typing, zalo_admins

TRANSLATOR = Translator(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
NOW = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)
# What tests.scenario.answer_all answers: the worker's new initiative is like these.
TITLE = "Giá treo cuộn chỉ xoay"
SOLUTION = "Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút."
ADMIN_ZALO = "5550901"


def vi(text: Text | None) -> str:
    """A text as a Vietnamese reader is shown it."""
    assert text is not None
    return TRANSLATOR.render(text, "vi")


def duplicates(number: int) -> str:
    """ "Trùng với SK-000001", as stored reasons show it."""
    return vi(reason_text(f"preset:duplicate:{number}"))


async def seed(
    bot: Harness,
    code: str,
    status: InitiativeStatus,
    confidential: bool = False,
    title: str = TITLE + " bằng thép",
) -> int:
    """An initiative submitted earlier by someone of that unit, in that status."""
    async with bot.runtime.graph.units_of_work() as uow:
        unit = await uow.units.by_code(code)
        assert unit is not None
        author = await uow.members.add(
            Member(id=0, channel="telegram", external_id=f"99{code}{status.value}{confidential}",
                   display_name="Hà", language="vi", full_name="Lê Thị Hà", unit_id=unit.id),
            NOW,
        )  # fmt: skip
        initiative: Initiative = await uow.initiatives.add(Initiative(
            0, author.id, author.id, unit.id, InitiativeStatus.DRAFT, NOW, NOW,
            step=Step.SUMMARY, title=title, solution=SOLUTION, problem="Cúi người thay chỉ.",
            kind=SolutionKind.TECHNICAL, confidential=confidential,
        ))  # fmt: skip
        initiative.status, initiative.version, initiative.submitted_at = status, 1, NOW
        await uow.initiatives.save(initiative)
        await uow.commit()
    return initiative.id


async def seed_around(bot: Harness) -> tuple[int, int, int, int]:
    """Like the worker's: one approved in May 10, one pending beside it in Đức Giang,
    a confidential one there too, and one in another province (never in scope)."""
    return (
        await seed(bot, "HN-LB-MAY10", InitiativeStatus.APPROVED),
        await seed(bot, "HN-LB-DUCGIANG", InitiativeStatus.PENDING),
        await seed(bot, "HN-LB-DUCGIANG", InitiativeStatus.PENDING, confidential=True),
        await seed(bot, "TH-NS-XIMANG", InitiativeStatus.APPROVED),
    )


def similar_line(text: str) -> str:
    """The card's line of similar initiatives."""
    found = [line for line in text.splitlines() if line.startswith("🔁")]
    assert len(found) == 1, text
    return found[0]


def number(initiative_id: int) -> str:
    return f"SK-{initiative_id:06d}"


async def test_the_card_lists_the_matches_its_reader_may_see(
    bot: Harness, database_url: str
) -> None:
    approved, beside, secret, far = await seed_around(bot)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    mine = far + 1
    line = similar_line(a.last().text)
    assert f"{number(approved)} ({vi(status_text(InitiativeStatus.APPROVED))})" in line, line
    assert number(beside) in line, line
    assert number(secret) not in line, "confidential, and not his to read"
    assert number(far) not in line, "another province"
    labels = [label for label, _data in a.last().buttons]
    assert f"🔁 {number(approved)}" in labels and f"🔁 {number(secret)}" not in labels, labels
    assert labels[:4] == ["✅ Duyệt", "✏️ Yêu cầu bổ sung", "❌ Từ chối", "📄 Xem đầy đủ"]

    # The admin above both unions may read the confidential one: his card names it.
    upper = bot.member(UPPER, "Cường")
    await upper.press(OpenPending(mine).encode())
    assert number(secret) in similar_line(upper.last().text), upper.transcript()

    # Opened from the card: the admin of May 10 reads his own union's initiative in full.
    await a.tap(f"🔁 {number(approved)}")
    assert TITLE + " bằng thép" in a.last().text, a.transcript()
    assert number(approved) in a.last().text


async def test_a_later_near_duplicate_shows_on_the_earlier_card(
    bot: Harness, database_url: str
) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    assert "🔁" not in a.last().text, "nothing like the first one yet"
    await submit(worker, title=TITLE + " thép")
    assert number(1) in similar_line(a.last().text)
    await a.press(OpenPending(1).encode())
    assert number(2) in similar_line(a.last().text), "recorded both ways"


async def test_a_duplicate_named_by_button_reaches_the_author_and_history(
    bot: Harness, database_url: str
) -> None:
    approved, _beside, secret, _far = await seed_around(bot)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    mine = secret + 2
    await a.tap("Từ chối")
    await a.tap("Trùng sáng kiến đã có")
    labels = [label for label, _data in a.last().buttons]
    assert any(label.startswith(f"{number(approved)} · ") for label in labels), labels
    assert not any(number(secret) in label for label in labels), labels
    assert vi(NUMBER_NOT_KNOWN) in labels, labels
    await a.tap(f"{number(approved)} · ")
    assert duplicates(approved) in a.last().text, a.transcript()
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "từ chối" in told and duplicates(approved) in told, told
    # The original is one tap away from the notice.
    await worker.tap(f"📄 Xem {number(approved)}")
    opened = worker.last().text
    assert opened.startswith(f"📄 {number(approved)} · Đã duyệt"), worker.transcript()
    stored = await load(database_url, mine)
    assert stored.status is InitiativeStatus.REJECTED
    assert stored.history[-1].note == f"preset:duplicate:{approved}"  # type: ignore[attr-defined]
    await worker.say(f"/history {number(mine)}")
    assert duplicates(approved) in worker.last().text, worker.transcript()
    # The decided card keeps its similar line, and says why.
    edited = [c for c in bot.api.by_chat[a.id] if c.method == "editMessageText"][-1]
    assert number(approved) in similar_line(edited.text) and duplicates(approved) in edited.text


async def test_a_duplicate_named_by_typed_number(bot: Harness, database_url: str) -> None:
    _approved, beside, secret, _far = await seed_around(bot)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    mine = secret + 2
    await a.tap("Yêu cầu bổ sung")
    await a.tap("Trùng sáng kiến đã có")
    await a.tap(vi(NUMBER_NOT_KNOWN))
    assert "Trùng sáng kiến đã có" in a.last().text, "the plain reason, as before"
    await a.tap("Thôi")

    await a.tap("Yêu cầu bổ sung")
    await a.tap("Trùng sáng kiến đã có")
    for wrong in ("SK-999999", number(secret), number(mine), "trùng cái hôm qua"):
        await a.say(wrong)
        asked = a.last()
        assert "Xác nhận" not in [label for label, _data in asked.buttons], (wrong, asked.text)
        assert vi(NUMBER_NOT_KNOWN) in [label for label, _data in asked.buttons], asked.text
        if wrong.startswith("SK"):
            assert wrong in asked.text, asked.text
    await a.say(str(beside))
    assert duplicates(beside) in a.last().text, a.transcript()
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "bổ sung" in told and duplicates(beside) in told, told
    assert (await load(database_url, mine)).status is InitiativeStatus.RETURNED
    # Back to the other reasons from the question works too (on a new initiative).
    await submit(worker, title=TITLE + " mới")
    await a.tap("Từ chối")
    await a.tap("Trùng sáng kiến đã có")
    await a.tap("◀️")
    assert "Chưa rõ giải pháp" in [label for label, _data in a.last().buttons], a.transcript()


def test_a_stored_duplicate_reason_in_each_language() -> None:
    assert TRANSLATOR.render(reason_text("preset:duplicate:123") or Text(""), "en") == (
        "Duplicates SK-000123"
    )
    assert TRANSLATOR.render(reason_text("preset:duplicate") or Text(""), "en") == (
        "Duplicates an existing initiative"
    )
    assert reason_text("preset:duplicate:x1") is not None
    assert vi(reason_text("preset:duplicate:x1")) == "preset:duplicate:x1", "not ours: as typed"


async def test_a_duplicate_chosen_by_number_on_zalo(zalo: Worker, database_url: str) -> None:
    approved = await seed(zalo.harness, "HN-LB-MAY10", InitiativeStatus.APPROVED)
    await zalo_admins(database_url, ADMIN_ZALO)
    await submit_by_typing(zalo)
    mine = approved + 1
    admin = ZaloUser(zalo.fake, zalo.channel, ADMIN_ZALO)
    (card,) = await zalo.fake.wait_for_messages(ADMIN_ZALO, 1)
    assert card.text is not None and number(approved) in similar_line(card.text), card.text
    await admin.say(f"tu choi {number(mine)}")
    await admin.choose("Trùng sáng kiến đã có")
    answer = await admin.choose(f"{number(approved)} · ")
    assert any(duplicates(approved) in text for text in answer), answer
    seen = len(zalo.texts())
    await admin.choose("Xác nhận")
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    told = zalo.texts()[-1]
    assert number(mine) in told and duplicates(approved) in told, told


async def test_the_web_queue_and_page_list_them(start_bot: StartBot, database_url: str) -> None:
    await seed_units(database_url)
    bot = await start_bot(public_url=PUBLIC_URL)
    approved, beside, secret, far = await seed_around(bot)
    worker, a, _b, upper = await setup(bot, database_url)
    await submit(worker)
    mine = far + 1
    async with web_client(bot) as client:
        await sign_in(client, a)
        queue = await (await client.get("/web/queue")).text()
        assert f'<a href="/web/queue/{approved}">{number(approved)}</a>' in queue, queue
        assert number(beside) in queue, queue
        assert f">{number(beside)}</a>" not in queue, "not his to open: plain text"
        assert number(secret) not in queue and number(far) not in queue
        page = await (await client.get(f"/web/queue/{mine}")).text()
        assert f'<a href="/web/queue/{approved}">{number(approved)}</a>' in page
        assert f'<option value="{approved}">{number(approved)} · ' in page
        assert number(secret) not in page
        token = csrf_of(page)
        form = {"csrf": token, "version": "1", "decision": "reject", "preset": "duplicate"}
        refused = await client.post(f"/web/queue/{mine}/decide",
                                    data={**form, "original_number": number(secret)})  # fmt: skip
        assert refused.status == 400 and number(secret) in await refused.text()
        wrong = await client.post(f"/web/queue/{mine}/decide",
                                  data={**form, "original_number": "hôm qua"})  # fmt: skip
        assert wrong.status == 400
        decided = await client.post(f"/web/queue/{mine}/decide", allow_redirects=False,
                                    data={**form, "original": str(approved)})  # fmt: skip
        assert decided.status == 303
        page = await (await client.get(f"/web/queue/{mine}")).text()
        assert duplicates(approved) in page, page
    await bot.settle()
    stored = await load(database_url, mine)
    assert stored.history[-1].note == f"preset:duplicate:{approved}"  # type: ignore[attr-defined]
    assert duplicates(approved) in worker.last().text, worker.transcript()

    async with web_client(bot) as client:
        await sign_in(client, upper)
        page = await (await client.get(f"/web/queue/{mine}")).text()
        for shown in (approved, beside, secret):
            assert f'<a href="/web/queue/{shown}">{number(shown)}</a>' in page, shown


async def test_a_failing_search_never_loses_the_submission(
    bot: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(bot, "HN-LB-MAY10", InitiativeStatus.APPROVED)

    async def broken(_self: object, _query: object) -> list[object]:
        raise RuntimeError("the index is unwell")

    monkeypatch.setattr(SqlSimilarInitiatives, "_find", broken)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    assert "SK-000002" in a.last().text and "🔁" not in a.last().text, a.transcript()
    assert (await load(database_url, 2)).status is InitiativeStatus.PENDING
