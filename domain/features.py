"""Every feature of the conversation, registered once.

Adding a command touches its feature's ``routes()``; adding a feature, its module and
one line here. The order does not matter: a name claimed twice stops start-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from domain.announce import AnnounceDesk
from domain.announce_cases import Paces
from domain.chats import ChatDesk
from domain.claiming import ClaimDesk, hand_back
from domain.commend import CardDesk, Schedule
from domain.drafting import Drafting
from domain.erasure import ErasureDesk
from domain.exports import ExportDesk
from domain.invites import InviteDesk
from domain.joining import Joining
from domain.linking import Linking
from domain.mine import Mine
from domain.ports_similar import SimilarRules
from domain.preferences import Preferences
from domain.privacy import PrivacyDesk
from domain.privacy_copy import MyData
from domain.proxy import Proxy
from domain.review import ReviewDesk
from domain.routes import Prompt, Routes, merge
from domain.similar_view import SimilarView
from domain.stats import StatsDesk, TargetDesk
from domain.text import Text
from domain.turn import Turn
from domain.web_access import WebDesk


@dataclass(frozen=True, slots=True)
class Engine:
    """What features may ask of the conversation engine."""

    # Say some lines, then ask again what the dialog state expects.
    prompt: Prompt
    # A button's label in every language, to recognise it typed instead of tapped.
    spell: Callable[[Text], tuple[str, ...]]
    # Handle a button code as if it had been pressed (a typed choice).
    press: Callable[[Turn, str], Awaitable[None]]
    # Leave the dialog in progress, as /cancel does.
    cancel: Callable[[Turn], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FeatureSettings:
    """What the features are configured with."""

    timezone: ZoneInfo
    # Makes the deep link of an invitation from its payload (it needs the bot's name).
    invite_link: Callable[[str], str] = field(default=lambda payload: payload)
    invite_lifetime: dt.timedelta = dt.timedelta(days=7)
    schedule: Schedule | None = None
    # The longest caption every channel that queues can show under an announcement photo.
    caption_limit: int = 0
    # The running channels, by the names of their apps: accounts on two may be linked.
    labels: Mapping[str, str] = field(default_factory=dict)
    # The bot's public address (PUBLIC_URL), where the staff web view is; empty: none.
    web_address: str = ""
    # Each channel's pace, for an announcement's preview of how long it takes; None: no
    # preview of it.
    paces: Paces | None = None
    # How close a similar initiative must be to be shown, and which answers are compared.
    similar: SimilarRules = field(default_factory=SimilarRules)


@dataclass(frozen=True, slots=True)
class Features:
    """All routes, and how to ask someone who has not joined to find their union."""

    routes: Routes
    ask_unit: Callable[..., Awaitable[None]]
    # Takes a refusal of the privacy notice that means more than one: True if it did.
    refused: Callable[[Turn], Awaitable[bool]] | None = None


def register(engine: Engine, settings: FeatureSettings) -> Features:
    """Build every feature and merge their routes."""
    tz = settings.timezone
    invites = InviteDesk(settings.invite_link, settings.invite_lifetime)
    joining = Joining(engine.prompt, engine.spell, accept=invites.accept)
    drafting = Drafting(
        timezone=tz, prompt=engine.prompt, spell=engine.spell, press=engine.press,
        cancel=engine.cancel, begin=lambda turn: proxy.begin(turn), similar=settings.similar,
    )  # fmt: skip
    proxy = Proxy(drafting.start_draft, engine.spell)
    claims = ClaimDesk(engine.prompt)
    routes = merge((
        Preferences(engine.prompt).routes(),
        PrivacyDesk(engine.prompt).routes(),
        joining.routes(),
        drafting.routes(),
        proxy.routes(),
        Mine(tz).routes(),
        ReviewDesk(tz).routes(),
        invites.routes(),
        StatsDesk().routes(),
        TargetDesk().routes(),
        AnnounceDesk(settings.caption_limit, settings.paces).routes(),
        ChatDesk().routes(),
        CardDesk(settings.schedule or Schedule(0, dt.time(8), tz)).routes(),
        Linking(engine.prompt, settings.labels, claim=claims.take_over).routes(),
        claims.routes(),
        ExportDesk().routes(),
        WebDesk(settings.web_address).routes(),
        MyData(dict(settings.labels)).routes(),
        ErasureDesk().routes(),
        SimilarView(tz, engine.prompt).routes(),
    ))  # fmt: skip
    return Features(routes, joining.ask_unit, hand_back)
