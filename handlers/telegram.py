"""Telegram in and out: an update becomes one core event, an outcome becomes messages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import MessageLimit
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from domain.model import Attachment, AttachmentKind
from domain.service import ConversationService
from domain.ui import (
    MENU_COMMANDS,
    SKIP_PHONE,
    ButtonPress,
    Command,
    ContactShared,
    FileShared,
    Inbound,
    Outcome,
    Payload,
    Reply,
    Sender,
    TextMessage,
    Unsupported,
)
from locales import Translator

log = logging.getLogger(__name__)

CHANNEL = "telegram"


@dataclass
class BotData:
    """Shared resources, made when the application starts (see ``bot.app``)."""

    service: ConversationService | None = None
    translator: Translator | None = None
    # Reply-keyboard labels in every language, mapped to the command they stand for.
    labels: dict[str, str] = field(default_factory=dict)


class BotContext(
    CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
):
    """The callback context with our typed ``bot_data``."""

    @property
    def service(self) -> ConversationService:
        """The conversation service."""
        assert self.bot_data.service is not None
        return self.bot_data.service

    @property
    def translator(self) -> Translator:
        """The translator."""
        assert self.bot_data.translator is not None
        return self.bot_data.translator


BotApplication = Application[ExtBot[None], BotContext, dict[object, object],
                             dict[object, object], BotData, JobQueue[BotContext]]  # fmt: skip


def keyboard_labels(translator: Translator) -> dict[str, str]:
    """Map what a tap on a reply-keyboard button sends back to its command."""
    labels = {}
    for language in translator.languages:
        for command, label in MENU_COMMANDS.items():
            labels[translator.render(label, language)] = command
        labels[translator.render(SKIP_PHONE, language)] = "skip"
    return labels


def parse_command(text: str) -> Command:
    """Read ``/name@bot argument`` into a command."""
    head, _, argument = text.strip().partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    return Command(name=name, argument=argument.strip())


def payload_of(update: Update, labels: dict[str, str]) -> Payload | None:
    """What the member did, in the core's terms; None for updates we ignore."""
    if update.callback_query is not None:
        return ButtonPress(update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            return parse_command(text)
        if text.strip() in labels:
            return Command(labels[text.strip()])
        return TextMessage(text)
    if message.contact is not None:
        owner = message.contact.user_id
        return ContactShared(message.contact.phone_number, str(owner) if owner else None)
    attachment = _attachment(message)
    if attachment is not None:
        return FileShared(attachment)
    return Unsupported(_unsupported_kind(message))


def _attachment(message: Message) -> Attachment | None:
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        return Attachment(AttachmentKind.PHOTO, photo.file_id, photo.file_unique_id,
                          photo.file_size, None, "image/jpeg")  # fmt: skip
    document = message.document
    if document is not None:
        return Attachment(AttachmentKind.DOCUMENT, document.file_id, document.file_unique_id,
                          document.file_size, document.file_name, document.mime_type)  # fmt: skip
    return None


def _unsupported_kind(message: Message) -> str:
    for kind in ("sticker", "voice", "location", "video"):
        if getattr(message, kind, None) is not None:
            return kind
    if message.video_note is not None or message.audio is not None:
        return "voice"
    if message.venue is not None:
        return "location"
    return "other"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text at line ends into pieces Telegram accepts (4.096 characters)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        if not current:
            current = line
        elif len(current) + 1 + len(line) <= limit:
            current = f"{current}\n{line}"
        else:
            pieces.append(current)
            current = line
    if current or not pieces:
        pieces.append(current or "…")
    return pieces


def markup(
    reply: Reply, translator: Translator, language: str
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Telegram's keyboard for a reply: inline buttons, a reply keyboard, or removal."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(translator.render(b.label, language), callback_data=b.code)
              for b in row] for row in reply.buttons]
        )  # fmt: skip
    if reply.keyboard:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(translator.render(b.label, language),
                             request_contact=b.request_contact)
              for b in row] for row in reply.keyboard],
            resize_keyboard=True,
        )  # fmt: skip
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


async def send_outcome(
    context: BotContext, chat_id: int, replies: Sequence[Reply], language: str
) -> None:
    """Send the replies in order; buttons go with the last piece of a long message."""
    translator = context.translator
    for reply in replies:
        pieces = split_text(translator.lines(reply.text, language))
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            await context.bot.send_message(
                chat_id, piece, reply_markup=markup(reply, translator, language) if last else None
            )


async def respond(update: Update, context: BotContext) -> None:
    """Hand a private-chat update to the core and show what it answers."""
    user = update.effective_user
    chat = update.effective_chat
    payload = payload_of(update, context.bot_data.labels)
    if user is None or chat is None or payload is None:
        return
    inbound = Inbound(
        sender=Sender(CHANNEL, str(user.id), user.full_name),
        payload=payload,
        event_id=f"tg:{update.update_id}",
    )
    outcome: Outcome = await context.service.handle(inbound)
    query = update.callback_query
    if query is not None:
        # Answered after the core call so that a refused or stale press shows its reason.
        notice = outcome.notice
        await query.answer(context.translator.render(notice, outcome.language) if notice else None)
    if outcome.duplicate:
        log.info("ignored redelivered update %s", update.update_id)
        return
    await send_outcome(context, chat.id, outcome.replies, outcome.language)
