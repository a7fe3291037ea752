"""What the core asks a channel to show, and what a channel hands the core.

Replies are data: translatable texts and buttons carrying short codes. Telegram
renders buttons as inline keyboards; a channel without buttons can number them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from domain.model import Attachment, Member
from domain.text import Text, _


class Forged(Exception):
    """A button code we could not have made for this member."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show, as it declares it; the core reads this, never the name."""

    # Buttons under a message (a channel without them numbers the choices).
    buttons: bool
    # Characters in one message, and under a picture (counted in UTF-16 units).
    text_limit: int
    caption_limit: int
    # A sender takes its messages from the delivery queue, at the channel's pace; members
    # of a channel without one get no notifications.
    queued: bool
    # The app's name as its users know it ("Zalo"), a proper noun in every language: how
    # a member linking their accounts on two channels is told which is which.
    label: str = ""
    # Opens an https page inside the app and hands it the member's signed identity
    # (Telegram's Mini Apps): the staff web view signs an admin in without a link.
    pages: bool = False


def caption_length(text: str) -> int:
    """A text's length as channels count it for their limits: UTF-16 code units, so an
    emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


# Members the bot cannot write to (entered by a helper, or on a channel not running).
UNREACHABLE = Capabilities(buttons=False, text_limit=0, caption_limit=0, queued=False)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: a label and the code it sends back, or the https page it opens
    inside the app (only where the channel declares ``pages``)."""

    label: Text
    code: str
    web: str | None = None


@dataclass(frozen=True, slots=True)
class KeyButton:
    """A reply-keyboard button: tapping it sends its label (or the contact)."""

    label: Text
    request_contact: bool = False
    # The command its label stands for; a channel without keyboards numbers it.
    command: str | None = None
    # An https address to open as a page inside the app (Telegram's Mini App); a channel
    # that cannot shows the link on a line of its own.
    web: str | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a progress chart: a unit and its percent of target."""

    label: str
    percent: float


@dataclass(frozen=True, slots=True)
class Chart:
    """Units as bars of percent of target, with the 100% line and today's expected pace."""

    title: Text
    bars: tuple[Bar, ...]
    pace_percent: float
    target_label: Text
    pace_label: Text


@dataclass(frozen=True, slots=True)
class Card:
    """A shareable picture: a title, a few big figures, and sections of lines."""

    title: Text
    subtitle: Text
    figures: tuple[tuple[Text, Text], ...]
    sections: tuple[tuple[Text, tuple[Text, ...]], ...]
    footer: Text


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent with a reply, its text as the caption. The core fills in ``data``
    after the turn's transaction from ``order`` (a ``domain.reports.ReportOrder``): a big
    file is not written while the member's transaction is open."""

    file_name: str
    data: bytes = field(default=b"", repr=False)
    order: object | None = None
    # What a channel that can neither send nor link a file says instead (None: that a
    # report can be had elsewhere).
    unsent: Text | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show; ``keyboard`` replaces the reply keyboard when given."""

    text: tuple[Text, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    keyboard: tuple[tuple[KeyButton, ...], ...] | None = None
    remove_keyboard: bool = False
    # Photos and documents to show after the text, by their channel file ids.
    media: tuple[Attachment, ...] = ()
    # A chart to draw and show as a picture, the text as its caption.
    chart: Chart | None = None
    # A photo (channel file id) to show with the text as its caption.
    photo: str | None = None
    # A card to draw and show as a picture, the text as its caption.
    card: Card | None = None
    # Data (a link) to show as a QR code picture, to scan from the screen; the text, the
    # link in it, stays copyable as its caption.
    qr: str | None = None
    # The broadcast whose progress this message shows (with its stop button): the channel
    # says where it was shown, so the button can go when the broadcast ends.
    progress: int | None = None
    # A file to send, the text as its caption.
    document: Document | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message for someone other than the sender, rendered in their language when the
    delivery queue sends it.

    ``card`` names the (initiative id, version) of a review card, so the sender records
    where it was shown and every copy can be updated later.
    """

    member: Member
    reply: Reply
    card: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class CardUpdate:
    """Replace a review card shown earlier, in place: queued like a notification, and
    rendered in the language its reader has when it goes out."""

    chat_id: str
    message_id: int
    # The reader's language at the decision; the sender renders in theirs when it edits.
    language: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class PageMenu:
    """What the menu button beside where a member types opens: a page (the staff web view)
    under its label, or, with no page, the bot's commands."""

    label: Text | None = None
    page: str | None = None


@dataclass
class Outcome:
    """The replies to one inbound event, in the member's language."""

    language: str
    # Shown to the member who acted, at once: replies, not notifications.
    replies: list[Reply] = field(default_factory=list)
    notice: Text | None = None
    duplicate: bool = False
    # Notifications to others and new faces of review cards: they go into the delivery
    # queue in the event's own transaction, and reach their readers from there.
    deliveries: list[Delivery] = field(default_factory=list)
    card_updates: list[CardUpdate] = field(default_factory=list)
    # A new face for the message whose button was pressed (a stale review card).
    pressed: Reply | None = None
    # How many notifications went into the delivery queue.
    queued: int = 0
    # The chat's own menu button, set anew: the staff web view for an admin, the commands
    # for everyone else (None: left as it is).
    page_menu: PageMenu | None = None
    # Work left for after the event's transaction (asking a channel's pace, which may ask
    # the platform): run in order before the replies are shown.
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


def reply(*text: Text, buttons: tuple[tuple[Button, ...], ...] = (), **kw: object) -> Reply:
    """Build a reply from lines of text."""
    return Reply(text=tuple(text), buttons=buttons, **kw)  # type: ignore[arg-type]


# The main menu; a channel maps a tap on one of these labels to the command.
MENU_COMMANDS: dict[str, Text] = {
    "new": _("📝 Submit an initiative"),
    "my": _("📋 My initiatives"),
    "help": _("❓ Help"),
}
MAIN_MENU: tuple[tuple[KeyButton, ...], ...] = (
    (KeyButton(MENU_COMMANDS["new"], command="new"),),
    (
        KeyButton(MENU_COMMANDS["my"], command="my"),
        KeyButton(MENU_COMMANDS["help"], command="help"),
    ),
)
SKIP_PHONE = _("Skip")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent an event, as the channel knows them."""

    channel: str
    external_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class Command:
    """A command such as /new, with its argument (a deep-link payload for /start)."""

    name: str
    argument: str = ""


@dataclass(frozen=True, slots=True)
class TextMessage:
    """Text typed by the member."""

    text: str


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A tap on an inline button, with the code it carried."""

    code: str


@dataclass(frozen=True, slots=True)
class ContactShared:
    """A phone number shared through the channel's contact button."""

    phone: str
    owner_external_id: str | None


@dataclass(frozen=True, slots=True)
class FileShared:
    """A photo or document, with the caption typed under it."""

    attachment: Attachment
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something we cannot use here: a sticker, voice, location..."""

    kind: str


UNKNOWN_COMMAND = _("I do not know that command. Type /help to see what I can do.")
# How the core names what it cannot use, in "Sorry, I cannot use {what} here".
UNSUPPORTED_LABELS: dict[str, Text] = {
    "sticker": _("a sticker"),
    "voice": _("a voice message"),
    "location": _("a location"),
    "video": _("a video"),
    "other": _("this kind of message"),
}


Payload = Command | TextMessage | ButtonPress | ContactShared | FileShared | Unsupported


@dataclass(frozen=True, slots=True)
class Inbound:
    """One event from a channel; ``event_id`` makes redelivery harmless."""

    sender: Sender
    payload: Payload
    event_id: str | None = None
