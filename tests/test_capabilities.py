"""The core asks what a channel can do, never its name: the delivery queue carries a
notification to the members of every channel that has a queue, whatever its length (the
channel's sender cuts it to its limit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from domain.delivery import BroadcastExtras, queue
from domain.model import Member
from domain.ports import UnitOfWork
from domain.text import Text, _
from domain.ui import Capabilities, Delivery, Reply

NOW = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.UTC)
QUEUES = Capabilities(buttons=True, text_limit=40, caption_limit=20, queued=True)
DIRECT = Capabilities(buttons=False, text_limit=2000, caption_limit=2000, queued=False)


class Plain:
    """Renders a text as its message id."""

    def render(self, text: Text, language: str) -> str:
        return text.msgid

    def lines(self, texts: Iterable[Text], language: str) -> str:
        return "\n".join(t.msgid for t in texts)


@dataclass
class Outbox:
    """Records what was queued."""

    created: list[tuple[str, list[int]]] = field(default_factory=list)

    async def create(
        self,
        kind: str,
        message: Reply | str,
        member_ids: Sequence[int],
        sender_id: int | None,
        now: dt.datetime,
        extra: BroadcastExtras,
    ) -> int:
        assert isinstance(message, Reply), "kept as the core said it, untranslated"
        self.created.append((Plain().lines(message.text, "vi"), list(member_ids)))
        return len(self.created)  # fmt: skip


@dataclass
class Work:
    outbox: Outbox = field(default_factory=Outbox)


def member(member_id: int, channel: str) -> Member:
    return Member(id=member_id, channel=channel, external_id=str(member_id),
                  display_name="Lan", language="vi")  # fmt: skip


async def test_queued_where_the_channel_queues_whatever_the_length() -> None:
    work = Work()
    short, long = _("Short notice"), _("A notice far longer than forty characters, surely")
    deliveries = [
        Delivery(member(1, "chat"), Reply((short,))),
        Delivery(member(2, "chat"), Reply((long,))),
        Delivery(member(3, "sms"), Reply((short,))),
        Delivery(member(4, "unknown"), Reply((short,))),
        Delivery(member(5, "chat"), Reply((short,))),
    ]
    queued = await queue(cast(UnitOfWork, cast(Any, work)), deliveries, NOW, urgent=True,
                         channels={"chat": QUEUES, "sms": DIRECT})  # fmt: skip
    assert work.outbox.created == [("Short notice", [1, 5]), (long.msgid, [2])]
    assert queued == 3, "a channel without a queue, or none known, gets nothing"
