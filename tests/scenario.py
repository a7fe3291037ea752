"""Steps of whole conversations, shared by the scenario tests."""

from __future__ import annotations

from tests.fakebotapi import Member

MAY10 = "HN-LB-MAY10"


async def join(worker: Member, code: str = MAY10, name: str = "Nguyễn Thị Lan") -> None:
    """Join a grassroots union through its deep link, skipping the phone."""
    await worker.say(f"/start {code}")
    await worker.tap("Đúng")
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
