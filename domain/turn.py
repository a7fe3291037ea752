"""One event's working set, shared by the parts of the conversation service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from domain.model import Conversation, DialogState, Member
from domain.ports import UnitOfWork
from domain.text import Text
from domain.ui import MAIN_MENU, UNREACHABLE, Button, Capabilities, Outcome, Reply
from domain.ui import Forged as Forged  # features meet it here, with the turn


@dataclass
class Turn:
    """What one event works on: the member, their dialog state and the clock."""

    uow: UnitOfWork
    member: Member
    conversation: Conversation
    now: dt.datetime
    today: dt.date
    outcome: Outcome
    # What the member's channel can show.
    capabilities: Capabilities = UNREACHABLE
    # The name the member's app shows in this event: stored only once they consent.
    shown_name: str = ""
    # The member refused the notice before joining and was deleted: nothing is saved.
    forgotten: bool = False

    def say(self, *lines: Text, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Add a message to the replies."""
        self.outcome.replies.append(Reply(tuple(lines), buttons))

    def show(self, reply: Reply, *before: Text) -> None:
        """Add a prepared reply, optionally with lines before it."""
        self.outcome.replies.append(replace(reply, text=(*before, *reply.text)))

    def pause(self) -> None:
        """Leave the dialog; the draft stays saved at its step."""
        self.conversation.state = DialogState.IDLE
        self.conversation.data = {}

    def menu(self, *lines: Text) -> None:
        """Add a message that brings back the main menu keyboard."""
        self.outcome.replies.append(Reply(tuple(lines), keyboard=MAIN_MENU))
