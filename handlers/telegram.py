"""Telegram in and out: an update becomes one core event, an outcome becomes messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from charts import render_card, render_png
from charts.qr import qr_png
from domain.chats import ChatRef
from domain.delivery import DeliveryService
from domain.model import Attachment, AttachmentKind, ReviewCard
from domain.service import ConversationService
from domain.ui import (
    MENU_COMMANDS,
    SKIP_PHONE,
    ButtonPress,
    Command,
    ContactShared,
    Delivery,
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
    deliveries: DeliveryService | None = None
    # The broadcast sender (bot.delivery.Sender), started and stopped with the bot.
    sender: Any = None
    # The weekly commendations (domain.commend.Commendations).
    commendations: Any = None
    # The language of messages to groups and channels.
    default_language: str = "vi"
    # Prometheus metrics (bot.metrics.Metrics) and the health checks (bot.web.Health).
    metrics: Any = None
    health: Any = None
    # The job lease (bot.duty.Duty): the jobs and the sender run where it is held.
    duty: Any = None


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


async def picture_of(reply: Reply, translator: Translator, language: str) -> str | bytes | None:
    """The picture a reply shows: drawn (a chart, a card, a QR code) or a channel file id."""
    if reply.chart is not None:
        return await asyncio.to_thread(render_png, reply.chart, translator, language)
    if reply.card is not None:
        return await asyncio.to_thread(render_card, reply.card, translator, language)
    if reply.qr is not None:
        return qr_png(reply.qr)
    return reply.photo


async def send_reply(context: BotContext, chat_id: int, reply: Reply, language: str) -> Message:
    """Send one reply; buttons go with the last piece of a long text, files after it."""
    translator = context.translator
    text = translator.lines(reply.text, language)
    picture = await picture_of(reply, translator, language)
    if picture is not None:
        # Telegram counts a caption's 1.024 characters in UTF-16 code units.
        if len(text.encode("utf-16-le")) // 2 <= MessageLimit.CAPTION_LENGTH:
            return await context.bot.send_photo(
                chat_id, picture, caption=text, reply_markup=markup(reply, translator, language)
            )
        # Too long for a caption: the picture, then the whole text.
        await context.bot.send_photo(chat_id, picture)
    pieces = split_text(text)
    message: Message | None = None
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        message = await context.bot.send_message(
            chat_id, piece, reply_markup=markup(reply, translator, language) if last else None
        )
    for attachment in reply.media:
        await _send_media(context, chat_id, attachment)
    assert message is not None
    return message


async def _send_media(context: BotContext, chat_id: int, attachment: Attachment) -> None:
    """A file of an initiative, as the kind of message it came in."""
    if attachment.kind is AttachmentKind.PHOTO:
        await context.bot.send_photo(chat_id, attachment.file_id)
    elif attachment.kind is AttachmentKind.VOICE:
        await context.bot.send_voice(chat_id, attachment.file_id)
    elif attachment.kind is AttachmentKind.VIDEO_NOTE:
        await context.bot.send_video_note(chat_id, attachment.file_id)
    else:
        await context.bot.send_document(chat_id, attachment.file_id)


async def send_outcome(
    context: BotContext, chat_id: int, replies: Sequence[Reply], language: str
) -> None:
    """Send the replies in order."""
    for reply in replies:
        message = await send_reply(context, chat_id, reply, language)
        if reply.progress is not None:
            await progress_shown(context, reply.progress, str(chat_id), message.message_id)


async def progress_shown(
    context: BotContext, broadcast_id: int, chat_id: str, message_id: int
) -> None:
    """Record where a broadcast's progress message is, for its stop button to go at the end."""
    deliveries = context.bot_data.deliveries
    if deliveries is not None and not await deliveries.show_progress(
        broadcast_id, chat_id, message_id
    ):
        # The broadcast ended while this message was on its way: nothing left to stop.
        await remove_buttons(context.bot, chat_id, message_id)


async def remove_buttons(bot: ExtBot[Any], chat_id: str, message_id: int) -> None:
    """Take the inline buttons off a message (a stop button with nothing left to stop)."""
    try:
        await bot.edit_message_reply_markup(int(chat_id), message_id, reply_markup=None)
    except TelegramError as error:
        # Telegram refuses an edit that changes nothing, or of a message deleted since.
        log.info("buttons of %s/%s not removed: %s", chat_id, message_id, error)


async def deliver(context: BotContext, delivery: Delivery) -> None:
    """Send a message to another member; one who blocked the bot does not stop the rest."""
    member = delivery.member
    if member.channel != CHANNEL:
        return
    try:
        message = await send_reply(
            context, int(member.external_id), delivery.reply, member.language
        )
    except Forbidden:
        log.info("member %s has blocked the bot; message not delivered", member.id)
        return
    except TelegramError as error:
        log.warning("could not deliver to member %s: %s", member.id, error)
        return
    if delivery.card is not None:
        initiative_id, version = delivery.card
        await context.service.remember_card(
            ReviewCard(initiative_id, version, member.id, member.external_id, message.message_id)
        )


async def show_card(
    context: BotContext, chat_id: int | str, message_id: int, reply: Reply, language: str
) -> None:
    """Replace a review card in place; its buttons go when the reply has none."""
    translator = context.translator
    text = split_text(translator.lines(reply.text, language))[0]
    keyboard = markup(reply, translator, language)
    try:
        await context.bot.edit_message_text(
            text,
            chat_id=int(chat_id),
            message_id=message_id,
            reply_markup=keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None,
        )
    except BadRequest as error:
        # Telegram refuses an edit that changes nothing, or of a message deleted since.
        log.info("card %s/%s not updated: %s", chat_id, message_id, error)
    except TelegramError as error:
        log.warning("card %s/%s not updated: %s", chat_id, message_id, error)


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
    await send_outcome(context, chat.id, outcome.replies, outcome.language)
    for delivery in outcome.deliveries:
        await deliver(context, delivery)
    for card in outcome.card_updates:
        await show_card(context, card.chat_id, card.message_id, card.reply, card.language)


async def group_command(update: Update, context: BotContext) -> None:
    """/linkchat and /unlinkchat sent in a group or channel; other commands there are not
    for the bot."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    user = message.from_user
    sender = Sender(CHANNEL, str(user.id), user.full_name) if user is not None else None
    answer = await context.service.chat_command(
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
            await context.service.chat_removed(str(change.chat.id))
        return
    await deliveries.reachable(
        CHANNEL, str(change.chat.id), status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    )
