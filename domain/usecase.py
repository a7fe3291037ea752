"""What a use case hands back besides its result: the notifications it causes.

A use case is a plain call, ``decide(uow, actor, …, now)``: it checks who may do it,
does it in the caller's transaction, and returns a result or raises an ``InputError``
(``NotAllowed``, ``NotFound``, ``Outdated``). The people it concerns are told through
``Notices``, which the caller queues in the same transaction: a chat turn adds them to
its outcome, a caller without a chat (the web, a test) queues them itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ui import CardUpdate, Delivery, Outcome


@dataclass(frozen=True, slots=True)
class Notices:
    """Messages to other people, and review cards to show anew, caused by a use case."""

    deliveries: tuple[Delivery, ...] = ()
    card_updates: tuple[CardUpdate, ...] = ()

    def __add__(self, other: Notices) -> Notices:
        return Notices(self.deliveries + other.deliveries, self.card_updates + other.card_updates)

    def into(self, outcome: Outcome) -> None:
        """Add them to a chat turn's outcome, which queues them with the turn."""
        outcome.deliveries.extend(self.deliveries)
        outcome.card_updates.extend(self.card_updates)


NO_NOTICES = Notices()
