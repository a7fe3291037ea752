"""The hint of similar initiatives on Zalo, where choices are numbers: the hint offers
none, so the next question's numbers still mean its own choices; /xem opens a match."""

from __future__ import annotations

import re

from domain.model import InitiativeStatus
from tests.scenario import MAY10
from tests.test_similar_scenarios import DUCGIANG, HINT, TITLE, Seed, seed
from tests.zalo_world import Worker, start_draft

NUMBERED = re.compile(r"^\d+\. ", re.MULTILINE)


async def test_the_hint_leaves_the_questions_numbers_alone(zalo: Worker, database_url: str) -> None:
    approved, pending = await seed(database_url, Seed(MAY10),
                                   Seed(DUCGIANG, "Cắt chỉ thừa tự động bằng gá",
                                        InitiativeStatus.PENDING))  # fmt: skip
    await start_draft(zalo)
    answer = await zalo.say("ga cat chi thua tu dong")
    hint = next(text for text in answer if text.startswith(HINT))
    assert f"SK-{approved:06d} · {TITLE} · Đã duyệt 03/2026" in hint, hint
    assert f"SK-{pending:06d}" in hint and "Chờ duyệt" in hint, hint
    assert f"/xem SK-{approved:06d}" in hint, "how to open one without buttons"
    assert not NUMBERED.search(hint), "no numbered choices in the hint"
    assert "1. Giải pháp kỹ thuật" in answer[-1], answer
    answer = await zalo.say("1")
    assert "lĩnh vực" in answer[-1], "1 chose the question's first choice"

    answer = await zalo.say(f"/xem SK-{pending:06d}")
    view = "\n".join(answer)
    assert "Cắt chỉ thừa tự động bằng gá" in view and "CĐCS Công ty May Đức Giang" in view
    assert "Trần Văn Bình" not in view, "never its author"
    assert "lĩnh vực" in answer[-1] and "1. " in answer[-1], "the question again, numbered"
    answer = await zalo.say("1")
    assert "Câu hỏi 4/11" in answer[-1], answer


async def test_view_refusals_on_zalo(zalo: Worker, database_url: str) -> None:
    (secret,) = await seed(database_url, Seed(DUCGIANG, confidential=True))
    await start_draft(zalo)
    answer = await zalo.say(TITLE)
    assert not any(text.startswith(HINT) for text in answer), answer
    answer = await zalo.say(f"/xem SK-{secret:06d}")
    assert f"Không tìm thấy sáng kiến SK-{secret:06d}" in answer[0], answer
    assert TITLE not in answer[0]
    assert "1. Giải pháp kỹ thuật" in answer[-1], "the draft's question goes on"
    answer = await zalo.say("/xem")
    assert "/xem SK-000123" in answer[0], answer
