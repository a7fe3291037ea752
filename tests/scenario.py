"""Steps of whole conversations, shared by the scenario tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from domain import privacy
from domain.ports_privacy import Consent, ConsentAction
from locales import Translator
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Member

MAY10 = "HN-LB-MAY10"
# The privacy notice's buttons, as a Vietnamese member sees them.
AGREE = Translator(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).render(privacy.AGREE, "vi")
REFUSE = Translator(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")).render(privacy.REFUSE, "vi")


async def agreed_before(database_url: str, channel: str, external_id: str) -> None:
    """The person (given a role by the operator) agreed to the current privacy notice in
    an earlier chat, so that tests about other things need not answer it."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        async with units_of_work() as uow:
            member = await uow.members.by_external_id(channel, external_id)
            assert member is not None, external_id
            member.consent_version = privacy.NOTICE_VERSION
            await uow.members.save(member, now)
            await uow.consents.record(Consent(member.id, privacy.NOTICE_VERSION,
                                              ConsentAction.GIVEN, channel, now))  # fmt: skip
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


def asks_consent(worker: Member) -> bool:
    """Whether the latest message asks for consent to the privacy notice."""
    return any(data == privacy.Agree().encode() for _label, data in worker.last().buttons)


async def join(worker: Member, code: str = MAY10, name: str = "Nguyễn Thị Lan") -> None:
    """Join a grassroots union through its deep link, agreeing to the privacy notice
    (asked first of one who holds a role, else once the union is confirmed), skipping the
    phone."""
    await worker.say(f"/start {code}")
    if asks_consent(worker):
        await worker.say("đồng ý")
    await worker.tap("Đúng")
    if asks_consent(worker):
        await worker.say("đồng ý")
    await worker.say(name)
    await worker.say("Bỏ qua")
    assert "📝 Nộp sáng kiến" in worker.last().keyboard, worker.transcript()


PROBLEM = "Công nhân phải cúi người thay cuộn chỉ, mất 5 phút mỗi lần."


async def answer_all(
    worker: Member, title: str = "Giá treo cuộn chỉ xoay", problem: str = PROBLEM
) -> None:
    """Answer every question of a new draft up to the summary."""
    await worker.say(title)
    await worker.tap("Giải pháp kỹ thuật")
    await worker.tap("Sản xuất")
    await worker.say(problem)
    await worker.tap("Xong")
    await worker.say("Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút.")
    await worker.tap("Xong")
    await worker.tap("Tháng này")
    await worker.say("Giảm thời gian dừng máy, đỡ đau lưng cho công nhân.")
    await worker.say("1.200.000đ")
    await worker.say("Trần Văn Bình 30%")
    await worker.tap("Xong")
    await worker.tap("Bỏ qua")
    await worker.tap("Không")
