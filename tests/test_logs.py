"""Logs: one JSON line per event with its fields, never a secret or a confidential text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import StructuredFormatter
from tests.fakebotapi import TOKEN, Harness
from tests.scenario import answer_all
from tests.test_review import setup
from tests.test_webhook import SECRET

CONFIDENTIAL = "Bản vẽ khuôn ép số 7, dung sai 0,02 mm."
PROBLEM = "Công nhân phải cúi người thay cuộn chỉ"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(StructuredFormatter(secrets=(TOKEN, SECRET)))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_secret_in_a_message_or_an_error_is_masked(logs: io.StringIO) -> None:
    log = logging.getLogger("tests.logs")
    log.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"header was {SECRET}")
    except RuntimeError:
        log.exception("webhook failed", extra={"update_id": 12})
    lines = logs.getvalue().splitlines()
    assert len(lines) == 2, "a traceback stays on its event's line"
    events = [json.loads(line) for line in lines]
    assert events[1]["update_id"] == 12 and "RuntimeError" in events[1]["error"]
    assert TOKEN not in logs.getvalue() and SECRET not in logs.getvalue()
    assert "bot***/getMe" in events[0]["message"]


async def test_a_whole_confidential_submission_leaves_no_secret_in_the_logs(
    bot: Harness, database_url: str, logs: io.StringIO
) -> None:
    worker, admin, _other, _upper = await setup(bot, database_url)
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("✏️ Bảo mật")
    await worker.tap("Có")
    await worker.say(CONFIDENTIAL)
    await worker.tap("Gửi duyệt")
    await admin.tap("Xem đầy đủ")
    await admin.tap("✅ Duyệt")
    await worker.say("🗂 Sáng kiến của tôi")
    await worker.send(sticker={"file_id": "s1", "file_unique_id": "u1", "type": "regular",
                               "width": 1, "height": 1, "is_animated": False,
                               "is_video": False})  # fmt: skip
    await worker.press("d:pick:999:kind:forged")  # a forged button is logged as refused
    text = logs.getvalue()
    events = [json.loads(line) for line in text.splitlines()]
    handled = [e for e in events if e["message"] == "update handled"]
    assert len(handled) >= 20
    assert {"update_id", "user_id", "ms"} <= set(handled[0])
    assert any(e["user_id"] == worker.id for e in handled)
    assert any(e["level"] == "WARNING" for e in events), "the forged button was logged"
    for secret in (TOKEN, SECRET, CONFIDENTIAL, PROBLEM, "khuôn ép"):
        assert secret not in text, f"{secret!r} reached the logs"
