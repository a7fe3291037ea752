"""A core reply becomes Telegram messages: keyboards, long texts cut, pictures, files; a
queued notification is rendered here too, once per language, when the sender sends it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    WebAppInfo,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from charts import render_card, render_png
from charts.qr import qr_png
from domain.model import Attachment, AttachmentKind
from domain.ui import (
    Button,
    Capabilities,
    Reply,
    caption_length,
)
from handlers import splitting
from handlers.telegram.context import BotContext
from locales import Translator

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# What Telegram can show: inline buttons, 4.096 characters a message, 1.024 under a photo;
# its sender takes its members' notifications from the delivery queue, at its pace.
CAPABILITIES = Capabilities(
    buttons=True,
    text_limit=MessageLimit.MAX_TEXT_LENGTH,
    caption_limit=MessageLimit.CAPTION_LENGTH,
    queued=True,
    label="Telegram",
    pages=True,
)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """A long text cut into pieces Telegram accepts (4.096 characters), at paragraph,
    line, sentence or word ends; never an empty one."""
    return splitting.split_text(text, limit) or ["…"]


@dataclass(frozen=True, slots=True)
class Notification:
    """A queued message as Telegram shows it in one language: its text, that text cut to
    Telegram's size, and the inline buttons that go under the last piece."""

    text: str
    pieces: tuple[str, ...]
    keyboard: InlineKeyboardMarkup | None


def notification(reply: Reply, translator: Translator, language: str) -> Notification:
    """A queued message rendered for Telegram in a reader's language; the same object
    serves every reader of that language."""
    text = translator.lines(reply.text, language)
    keyboard = markup(reply, translator, language)
    inline = keyboard if isinstance(keyboard, InlineKeyboardMarkup) else None
    return Notification(text, tuple(split_text(text, CAPABILITIES.text_limit)), inline)


def _inline(button: Button, label: str) -> InlineKeyboardButton:
    """An inline button: it sends its code back, or opens its page as a Mini App."""
    if button.web:
        return InlineKeyboardButton(label, web_app=WebAppInfo(button.web))
    return InlineKeyboardButton(label, callback_data=button.code)


def markup(
    reply: Reply, translator: Translator, language: str
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Telegram's keyboard for a reply: inline buttons, a reply keyboard, or removal."""
    if reply.buttons:
        return InlineKeyboardMarkup(
            [[_inline(b, translator.render(b.label, language)) for b in row]
             for row in reply.buttons]
        )  # fmt: skip
    if reply.keyboard:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(translator.render(b.label, language),
                             request_contact=b.request_contact,
                             web_app=WebAppInfo(b.web) if b.web else None)
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
    if reply.document is not None and caption_length(text) <= CAPABILITIES.caption_limit:
        # A report: the file, its text as the caption (1.024 characters at most).
        document = InputFile(reply.document.data, filename=reply.document.file_name)
        return await context.bot.send_document(
            chat_id, document, caption=text, reply_markup=markup(reply, translator, language)
        )
    picture: str | bytes | InputFile | None = await picture_of(reply, translator, language)
    if isinstance(picture, str):
        # A photo a Zalo member sent is kept by the bot: uploaded from its bytes.
        picture = await context.bot_data.kept.media(picture, AttachmentKind.PHOTO)
    if picture is not None:
        if caption_length(text) <= CAPABILITIES.caption_limit:
            sent = await context.bot.send_photo(
                chat_id, picture, caption=text, reply_markup=markup(reply, translator, language)
            )
            context.bot_data.kept.uploaded(reply.photo or "", AttachmentKind.PHOTO, sent)
            return sent
        # Too long for a caption: the picture, then the whole text.
        sent = await context.bot.send_photo(chat_id, picture)
        context.bot_data.kept.uploaded(reply.photo or "", AttachmentKind.PHOTO, sent)
    pieces = split_text(text)
    message: Message | None = None
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        message = await context.bot.send_message(
            chat_id, piece, reply_markup=markup(reply, translator, language) if last else None
        )
    if reply.document is not None:
        document = InputFile(reply.document.data, filename=reply.document.file_name)
        await context.bot.send_document(chat_id, document)
    for attachment in reply.media:
        await _send_media(context, chat_id, attachment)
    assert message is not None
    return message


async def _send_media(context: BotContext, chat_id: int, attachment: Attachment) -> None:
    """A file of an initiative, as the kind of message it came in; one the bot keeps
    (a Zalo member's) is uploaded from its bytes."""
    kept, kind = context.bot_data.kept, attachment.kind
    media = await kept.media(attachment.file_id, kind)
    if media is None:
        return
    bot = context.bot
    if kind is AttachmentKind.PHOTO:
        sent = await bot.send_photo(chat_id, media)
    elif kind is AttachmentKind.VOICE:
        try:
            sent = await bot.send_voice(chat_id, media)
        except BadRequest:
            if isinstance(media, str):
                raise
            # Telegram plays only OGG/OPUS, MP3 and M4A as a voice message: another
            # recording goes as a file to download.
            sent = await bot.send_document(chat_id, media)
    elif kind is AttachmentKind.VIDEO_NOTE:
        sent = await bot.send_video_note(chat_id, media)
    else:
        sent = await bot.send_document(chat_id, media)
    kept.uploaded(attachment.file_id, kind, sent)


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
