"""Telegram in: an update becomes one core event, and its outcome is shown."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import (
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from domain.chats import ChatRef
from domain.model import Attachment, AttachmentKind
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
    Sender,
    TextMessage,
    Unsupported,
)
from handlers.telegram.context import BotContext
from handlers.telegram.menu_button import show_page_menu
from handlers.telegram.render import CHANNEL, send_outcome, show_card
from locales import Translator

log = logging.getLogger(__name__)


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
        return FileShared(attachment, message.caption or "")
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
    recording = message.voice or message.video_note
    if recording is not None:
        kind = AttachmentKind.VOICE if message.voice is not None else AttachmentKind.VIDEO_NOTE
        return Attachment(kind, recording.file_id, recording.file_unique_id,
                          recording.file_size, None, getattr(recording, "mime_type", None),
                          duration=_seconds(recording.to_dict().get("duration")))  # fmt: skip
    return None


def _seconds(duration: object) -> int | None:
    """A recording's length in seconds, as the Bot API sent it. (python-telegram-bot 22
    warns on reading ``duration`` while it moves the attribute to a timedelta.)"""
    if isinstance(duration, dt.timedelta):
        return int(duration.total_seconds())
    return duration if isinstance(duration, int) and duration >= 0 else None


def _unsupported_kind(message: Message) -> str:
    for kind in ("sticker", "location", "video"):
        if getattr(message, kind, None) is not None:
            return kind
    if message.audio is not None:
        return "voice"
    if message.venue is not None:
        return "location"
    return "other"


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
    if outcome.queued and context.bot_data.sender is not None:
        context.bot_data.sender.wake()
    query = update.callback_query
    if query is not None:
        # Answered after the core call so that a refused or stale press shows its reason.
        notice = outcome.notice
        await query.answer(context.translator.render(notice, outcome.language) if notice else None)
    if outcome.duplicate:
        log.info("ignored redelivered update %s", update.update_id)
        return
    if query is not None and outcome.pressed is not None and query.message is not None:
        await show_card(context, chat.id, query.message.message_id, outcome.pressed,
                        outcome.language)  # fmt: skip
    # Notifications to others and new faces of their review cards went into the delivery
    # queue with the event; the sender shows them.
    await send_outcome(context, chat.id, outcome.replies, outcome.language)
    await show_page_menu(context, chat.id, outcome.page_menu, outcome.language)


async def group_command(update: Update, context: BotContext) -> None:
    """/linkchat and /unlinkchat sent in a group or channel; other commands there are not
    for the bot."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    user = message.from_user
    sender = Sender(CHANNEL, str(user.id), user.full_name) if user is not None else None
    answer = await context.group_chats.command(
        ChatRef(str(chat.id), chat.title or str(chat.id), chat.type == ChatType.CHANNEL),
        sender,
        parse_command(message.text),
        f"tg:{update.update_id}",
    )
    if answer is None:
        return
    language = context.bot_data.default_language
    try:
        await context.bot.send_message(chat.id, context.translator.render(answer, language))
    except TelegramError as error:
        log.warning("could not answer in chat %s: %s", chat.id, error)


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """A member blocked the bot in their private chat, or unblocked it; or the bot was
    removed from a group or channel."""
    change = update.my_chat_member
    deliveries = context.bot_data.deliveries
    if change is None or deliveries is None:
        return
    status = change.new_chat_member.status
    if change.chat.type != ChatType.PRIVATE:
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            await context.group_chats.removed(str(change.chat.id))
        return
    await deliveries.reachable(
        CHANNEL, str(change.chat.id), status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    )
