"""Members' files for the fake Zalo Bot API: what Zalo's servers do with a photo or voice
note a member sends, serve it at an address the event carries (which, on Zalo, expires).
A test can make a file fail to download, or be sent without a length."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from aiohttp import web

# What members send when a test gives no file of its own: a tiny photo (a real PNG) and
# the start of an M4A recording.
PHOTO: Final = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00"
    b"\x00\xfd\xd4\x9as\x00\x00\x00\x16IDATx\x9cc<!'\xc7\xc0\xc0\xc0\xc4\xc0\xc0\xc0\xc0\xc0"
    b"\x00\x00\r\x04\x01\x08}q\xcaf\x00\x00\x00\x00IEND\xaeB`\x82"
)
VOICE: Final = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(64)
FILES_PATH: Final = "/files"
_PIECE: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class Hosted:
    """A file served: its bytes, the type its answer claims, the status it answers
    (anything but 200 is a failing download), and whether it goes without a length."""

    data: bytes
    content_type: str
    status: int = 200
    chunked: bool = False


class MemberFiles:
    """Members' files at addresses of the fake's server, and how often each was fetched."""

    def __init__(self) -> None:
        self.hosted: dict[str, Hosted] = {}
        self.fetched: dict[str, int] = defaultdict(int)

    def add(self, data: bytes, content_type: str, status: int, chunked: bool) -> str:
        """Serve a file; the last part of its address."""
        name = uuid.uuid4().hex
        self.hosted[name] = Hosted(data, content_type, status, chunked)
        return name

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """GET a file, as Zalo's servers answer it."""
        name = request.match_info["name"]
        hosted = self.hosted.get(name)
        self.fetched[name] += 1
        if hosted is None:
            return web.Response(status=404, text="Not found")
        if hosted.status != 200:
            return web.Response(status=hosted.status, text="Error")
        if not hosted.chunked:
            return web.Response(body=hosted.data, content_type=hosted.content_type)
        response = web.StreamResponse(headers={"Content-Type": hosted.content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(hosted.data), _PIECE):
            await response.write(hosted.data[start : start + _PIECE])
        await response.write_eof()
        return response
