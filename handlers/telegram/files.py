"""Files members sent on Telegram, fetched by their file id for the staff web view:
getFile, then the download (the Bot API hands out files of at most 20 MB)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from domain.ports_files import FileUnavailable

# The Bot API's own limit on downloads (getFile refuses bigger files).
BOT_API_DOWNLOAD_MAX = 20 * 1024 * 1024


class TelegramFiles:
    """Fetches a Telegram file's bytes through the bot."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, file_id: str, limit: int) -> bytes:
        """The file's bytes; FileUnavailable when Telegram does not know it, it is larger
        than ``limit`` (or the Bot API's 20 MB), or Telegram cannot be reached."""
        limit = min(limit, BOT_API_DOWNLOAD_MAX)
        try:
            found = await self._bot.get_file(file_id)
            if found.file_size is not None and found.file_size > limit:
                raise FileUnavailable(f"{found.file_size} bytes, more than {limit}")
            data = bytes(await found.download_as_bytearray())
        except TelegramError as error:
            raise FileUnavailable(str(error)) from error
        if len(data) > limit:
            raise FileUnavailable(f"{len(data)} bytes, more than {limit}")
        return data
