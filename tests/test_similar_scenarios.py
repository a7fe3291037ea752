"""The hint of similar initiatives while a worker writes one, on Telegram: what is close
in their union and the neighbouring ones is shown after the title and after the solution,
never what they may not see, and the dialog goes on; "📄 Xem" and /xem open a match."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from domain.model import Initiative, InitiativeStatus, Member
from domain.ports_similar import SimilarRules
from storage.db import create_engine
from storage.repositories.similar import SqlSimilarInitiatives
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import Call, Harness
from tests.fakebotapi import Member as Person
from tests.scenario import MAY10, answer_all, join
from tests.test_review import grant, notice
from tests.test_submission import load

DUCGIANG, ANNORA = "HN-LB-DUCGIANG", "TH-KCN-ANNORA"
WORKER, AUTHOR, ADMIN = 1201, 1202, 1203
MARCH = dt.datetime(2026, 3, 10, 3, 0, tzinfo=dt.UTC)
JUNE = dt.datetime(2026, 6, 2, 3, 0, tzinfo=dt.UTC)
TITLE = "Gá cắt chỉ thừa tự động"
SOLUTION = "Lắp dao nhiệt cắt chỉ ngay dưới chân vịt máy may, không cần kéo tay."
HINT = "🔁 Có thể đã có sáng kiến tương tự:"
KIND_QUESTION = "Sáng kiến thuộc loại giải pháp nào?"


@dataclass(frozen=True)
class Seed:
    """An initiative already in the database, written by someone else unless ``author``."""

    unit: str
    title: str = TITLE
    status: InitiativeStatus = InitiativeStatus.APPROVED
    confidential: bool = False
    author: int | None = None
    updated: dt.datetime = MARCH
    solution: str = SOLUTION


async def seed(database_url: str, *seeds: Seed) -> list[int]:
    """Store the initiatives; their ids, in order."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    ids = []
    try:
        async with units_of_work() as uow:
            other = await uow.members.add(
                Member(id=0, channel="telegram", external_id="1299", display_name="Bình",
                       language="vi", full_name="Trần Văn Bình"), MARCH)  # fmt: skip
            for item in seeds:
                unit = await uow.units.by_code(item.unit)
                assert unit is not None
                author = other
                if item.author is not None:
                    found = await uow.members.by_external_id("telegram", str(item.author))
                    assert found is not None
                    author = found
                added = await uow.initiatives.add(Initiative(
                    id=0, author_id=author.id, entered_by_id=author.id, unit_id=unit.id,
                    status=item.status, created_at=item.updated, updated_at=item.updated,
                    title=item.title, problem="Cắt chỉ bằng kéo tay, chậm và dễ sót.",
                    solution=item.solution, confidential=item.confidential,
                    confidential_note="Bản vẽ dao nhiệt" if item.confidential else None,
                    version=1, submitted_at=item.updated,
                ))  # fmt: skip
                ids.append(added.id)
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return ids


def hint_of(calls: list[Call]) -> Call | None:
    """The hint among the messages answering one event."""
    return next((c for c in calls if c.text.startswith(HINT)), None)


def texts(calls: list[Call]) -> str:
    return "\n---\n".join(c.text for c in calls)


async def worker_with_draft(bot: Harness, user_id: int = WORKER, code: str = MAY10) -> Person:
    """A worker who joined ``code`` and opened a new draft."""
    worker = bot.member(user_id, "Lan")
    await join(worker, code)
    await worker.say("📝 Nộp sáng kiến")
    return worker


async def test_close_initiatives_are_hinted_and_the_dialog_goes_on(
    bot: Harness, database_url: str
) -> None:
    ids = await seed(database_url,
                     Seed(MAY10),
                     Seed(DUCGIANG, "Gá cắt chỉ thừa tự động cho máy may",
                          InitiativeStatus.PENDING, updated=JUNE))  # fmt: skip
    worker = await worker_with_draft(bot)
    calls = await worker.say("ga cat chi thua tu dong")
    hint = hint_of(calls)
    assert hint is not None, texts(calls)
    assert f"SK-{ids[0]:06d} · Gá cắt chỉ thừa tự động · Đã duyệt 03/2026" in hint.text
    assert f"SK-{ids[1]:06d} · Gá cắt chỉ thừa tự động cho máy may · Chờ duyệt 06/2026" in hint.text
    assert "/new" in hint.text, "how to come back to the draft"
    assert [label for label, _ in hint.buttons] == [f"📄 Xem SK-{i:06d}" for i in ids]
    assert "Trần Văn Bình" not in hint.text
    assert calls[-1] is not hint and KIND_QUESTION in calls[-1].text, "the next question comes"
    await worker.tap("Giải pháp kỹ thuật")
    await worker.tap("Sản xuất")
    await worker.say("Cắt chỉ bằng kéo tay.")
    await worker.tap("Xong")
    await worker.say("Lắp dao nhiệt cắt chỉ ngay dưới chân vịt.")
    calls = await worker.tap("Xong")
    assert hint_of(calls) is None, "nothing new since the title's hint: not said twice"
    assert "áp dụng" in calls[-1].text, "the question after the solution"


async def test_the_solution_brings_what_the_title_alone_did_not(
    bot: Harness, database_url: str
) -> None:
    # Its title is not quite close enough alone; its solution is the same.
    ids = await seed(
        database_url, Seed(DUCGIANG, "Dao cắt chỉ thừa tự động cho máy may công nghiệp")
    )
    worker = await worker_with_draft(bot)
    calls = await worker.say("ga cat chi thua tu dong")
    assert hint_of(calls) is None, texts(calls)
    await worker.tap("Giải pháp kỹ thuật")
    await worker.tap("Sản xuất")
    await worker.say("Cắt chỉ bằng kéo tay.")
    await worker.tap("Xong")
    await worker.say(SOLUTION)
    calls = await worker.tap("Xong")
    hint = hint_of(calls)
    assert hint is not None and f"SK-{ids[0]:06d}" in hint.text, texts(calls)
    assert "áp dụng" in calls[-1].text, "then the question after the solution"


async def test_nothing_far_turned_down_unsubmitted_or_elsewhere_is_hinted(
    bot: Harness, database_url: str
) -> None:
    await seed(database_url,
               Seed(MAY10, status=InitiativeStatus.DRAFT),
               Seed(MAY10, status=InitiativeStatus.REJECTED),
               Seed(MAY10, status=InitiativeStatus.DISCARDED),
               Seed(ANNORA))  # fmt: skip
    worker = await worker_with_draft(bot)
    calls = await worker.say(TITLE)
    assert hint_of(calls) is None, texts(calls)
    assert KIND_QUESTION in calls[-1].text


async def test_nothing_close_brings_no_hint(bot: Harness, database_url: str) -> None:
    await seed(database_url, Seed(MAY10))
    worker = await worker_with_draft(bot)
    calls = await worker.say("Băng tải phân loại vải vụn")
    assert hint_of(calls) is None, texts(calls)


async def test_a_confidential_match_is_shown_only_to_who_may_read_it(
    bot: Harness, database_url: str
) -> None:
    author = bot.member(AUTHOR, "Cúc")
    await join(author, DUCGIANG, "Lê Thị Cúc")
    await grant(database_url, "HN-LB", ADMIN)
    (secret,) = await seed(database_url, Seed(DUCGIANG, confidential=True, author=AUTHOR))
    number = f"SK-{secret:06d}"

    worker = await worker_with_draft(bot)
    calls = await worker.say(TITLE)
    assert hint_of(calls) is None and number not in texts(calls), "not even its number"

    await author.say("📝 Nộp sáng kiến")
    hint = hint_of(await author.say(TITLE))
    assert hint is not None and f"Bạn đã có {number} · {TITLE}" in hint.text

    admin = await worker_with_draft(bot, ADMIN)
    hint = hint_of(await admin.say(TITLE))
    assert hint is not None and f"{number} · {TITLE} · Đã duyệt 03/2026" in hint.text
    calls = await admin.tap(f"📄 Xem {number}")
    assert "Bản vẽ dao nhiệt" in texts(calls), "an admin above reads it all"


async def test_a_title_edited_from_the_summary_is_hinted_before_it(
    bot: Harness, database_url: str
) -> None:
    (approved,) = await seed(database_url, Seed(MAY10))
    worker = await worker_with_draft(bot)
    await answer_all(worker)
    await worker.tap("✏️ Tên")
    calls = await worker.say(TITLE)
    hint = hint_of(calls)
    assert hint is not None and f"SK-{approved:06d}" in hint.text, texts(calls)
    assert "Gửi duyệt" in " ".join(label for label, _ in calls[-1].buttons), "then the summary"


async def test_view_shows_the_public_summary_and_the_question_again(
    bot: Harness, database_url: str
) -> None:
    (approved,) = await seed(database_url, Seed(DUCGIANG))
    worker = await worker_with_draft(bot)
    await worker.say(TITLE)
    calls = await worker.tap(f"📄 Xem SK-{approved:06d}")
    view = texts(calls)
    for shown in (f"SK-{approved:06d} · Đã duyệt 03/2026", TITLE, "CĐCS Công ty May Đức Giang",
                  "Cắt chỉ bằng kéo tay", "Lắp dao nhiệt"):  # fmt: skip
        assert shown in view, (shown, view)
    assert "Trần Văn Bình" not in view and "Bình" not in view, "never its author"
    assert KIND_QUESTION in calls[-1].text, "the dialog's question again"
    await worker.tap("Giải pháp kỹ thuật")
    assert "lĩnh vực" in worker.last().text, worker.transcript(2)


async def test_view_of_what_one_may_not_see_is_not_found(bot: Harness, database_url: str) -> None:
    author = bot.member(AUTHOR, "Cúc")
    await join(author, DUCGIANG, "Lê Thị Cúc")
    ids = await seed(database_url,
                     Seed(DUCGIANG, confidential=True, author=AUTHOR),
                     Seed(DUCGIANG, status=InitiativeStatus.DRAFT),
                     Seed(DUCGIANG, status=InitiativeStatus.REJECTED),
                     Seed(ANNORA),
                     Seed(MAY10))  # fmt: skip
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    for initiative_id in (*ids[:4], 99_999_999):
        await worker.press(f"sm:open:{initiative_id}")
        said = worker.last().text
        assert said.startswith(f"Không tìm thấy sáng kiến SK-{initiative_id:06d}"), said
        assert "Bản vẽ dao nhiệt" not in said and TITLE not in said
    await worker.say(f"/xem SK-{ids[4]:06d}")
    assert TITLE in worker.last().text
    await worker.say(f"/xem {ids[0]}")
    assert "Không tìm thấy" in worker.last().text and TITLE not in worker.last().text
    await worker.say("/xem")
    assert "/xem SK-000123" in worker.last().text
    await worker.say("/xem abc")
    assert "“abc” không phải số sáng kiến" in worker.last().text
    await worker.say("/xem 99999999999")
    assert "Không tìm thấy" in worker.last().text
    calls = await worker.press("sm:open:abc")
    assert notice(calls) == "Lựa chọn này không còn hiệu lực.", "a forged code"
    # The author and an admin above read it all, its confidential note included.
    await author.say(f"/xem SK-{ids[0]:06d}")
    assert "Bản vẽ dao nhiệt" in worker.harness.api.sent_to(AUTHOR)[-1].text


async def test_a_high_threshold_hints_nothing(start_bot: StartBot, database_url: str) -> None:
    await seed_units(database_url)
    bot = await start_bot(similar_rules=SimilarRules(threshold=0.95))
    await seed(database_url, Seed(MAY10))
    worker = await worker_with_draft(bot)
    calls = await worker.say("Gá cắt chỉ thừa tự động cho máy may")
    assert hint_of(calls) is None, texts(calls)
    # The very same title still reaches it.
    await worker.say("/new")
    await worker.tap("Bắt đầu mới")
    assert hint_of(await worker.say(TITLE)) is not None


async def test_a_failing_search_never_stops_the_dialog(
    bot: Harness, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(database_url, Seed(MAY10))

    async def broken(self: SqlSimilarInitiatives, query: object) -> list[object]:
        # A statement the database refuses: on PostgreSQL it would abort the transaction
        # but for the savepoint find() runs the search in.
        await self._db.execute(text("SELECT 1 / 0"))
        raise AssertionError("unreachable")

    monkeypatch.setattr(SqlSimilarInitiatives, "_find", broken)
    worker = await worker_with_draft(bot)
    calls = await worker.say(TITLE)
    assert hint_of(calls) is None
    assert KIND_QUESTION in calls[-1].text, texts(calls)
    await worker.tap("Giải pháp kỹ thuật")
    assert "lĩnh vực" in worker.last().text, "the title was kept: the kind is its next step"
    assert (await load(database_url, 2)).title == TITLE, "the draft, after the seeded one"


async def test_the_hint_in_english(bot: Harness, database_url: str) -> None:
    (approved,) = await seed(database_url, Seed(MAY10))
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    await worker.say("/lang")
    await worker.tap("English")
    await worker.say("/new")
    calls = await worker.say(TITLE)
    assert any(c.text.startswith("🔁 There may already be a similar initiative:") for c in calls)
    assert f"SK-{approved:06d} · {TITLE} · Approved 03/2026" in texts(calls)
