"""Random input of every kind, through the real Application: none reaches the error handler.

Members at every part of the dialog (joining, each question of a draft, the summary),
admins reviewing, counting, announcing and setting targets, and helpers get seeded random
texts, commands, files, contacts and button presses. The presses are the real codes the
bot sent them, stale ones, others' ones, and forged and mutated ones. The same seed gives
the same inputs; ``FUZZ_SEED`` and ``FUZZ_INPUTS`` run another or a longer round locally.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.model import RoleKind
from domain.progress import add_phase
from tests.conftest import StartBot, run_in_thread, seed_units
from tests.fakebotapi import BOT_USER, Call, FakeBotApi, Harness, Member, next_update_id
from tests.scenario import join
from tests.test_progress import Database
from tests.test_review import grant, submit

SEED = int(os.environ.get("FUZZ_SEED", "20261122"))
# Every input goes through the real Application; PostgreSQL gets a share, to stay quick.
INPUTS = {"sqlite": 10_000, "postgresql": 2_000}
# A fresh worker joins and submits now and then, so admins always have cards to decide.
NEW_AUTHOR_EVERY = 1_000

TYPED = (
    "xong", "Xong rồi", "XONG", "quay lại", "quay lai", "hủy", "huy", "bỏ qua", "Bỏ qua",
    "bo qua", "có", "Có", "không", "khong", "ok", "done", "back", "cancel", "skip", "1", "2",
    "3", "7", "0", "99", "📝 Nộp sáng kiến", "📋 Sáng kiến của tôi", "❓ Trợ giúp",
    "📝 Submit an initiative", "Skip", "Đúng", "may 10", "cdcs", "thanh hoa", "lan",
    "Nguyễn Thị Lan", "thi lan", "Lan $x^$", "Giảm $x^$ phế phẩm", "Giá treo cuộn chỉ xoay",
    "Giảm thời gian dừng máy.", "Chương trình 1 triệu sáng kiến", "tất cả", "gửi",
)  # fmt: skip
AMOUNTS = (
    "5 tỷ", "1.200.000đ", "200 triệu", "1,5 tr", "5k", "-5", "0", "0đ", "2.000.000 tỷ",
    "5 tỷ tỷ", "khoảng 3 triệu", "≈ 2 tỷ", "1.2.3.4", "10^20", "1e9", "9" * 40,
    "không xác định", "١٢٣", "５ tỷ", "5 tỷ 300 triệu", "1 000 000", "1.000,50", "100%",
    "1.5 billion", "200m", "-0", "+5 tỷ", "5 tỷ đồng", "ba triệu",
)  # fmt: skip
DATES = (
    "15/03/2026", "22/11/2026", "23/11/2026", "31/02/2026", "1/1/1900", "00/00/0000",
    "15-03-2026", "15.03.2026", "32/13/99999", "hôm qua", "tháng này", "03/2026", "2026",
    "1/1/" + "9" * 30, "15/03/26",
)  # fmt: skip
COAUTHORS = (
    "Trần Văn Bình 30%", "Lê Thị Cúc 50%; Phạm Văn Dũng 60%", "A 0%", "Bình 100%",
    "Cúc -5%", "Dũng 1e9%", "Em 33,333%", "- Ngô Văn Phú (20%)", "Hà 30", ";;;", "%",
    "Bình, Cúc, Dũng", "Ngô\x00Văn Phú 10%", "Lê " + "Văn " * 40 + "Cúc 5%",
    "\n".join(f"Người số {n} 1%" for n in range(30)),
)  # fmt: skip
ALPHABETS = (
    string.ascii_letters + string.digits + " ",
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựĐ ",
    "😀👍🏽👨‍👩‍👧🇻🇳❤️‍🔥 ",
    "مرحبا بالعالم שלום עולם ",
    "\x00\x01\x07\x1b\x7f\u200b\u200d\u200e\u202e\u2066\ufeff\ufffd\n\r\t ",
    "e\u0301\u0303\u0323\u0309 ",
    "<b>&amp;</b>{name}{}%s%(x)s$\\$x^{_ ",
    "１２３４５٠١٢ǅﬁß\u0130ı ",
    string.punctuation + string.whitespace,
)
LENGTHS = (0, 1, 2, 5, 20, 80, 200, 201, 1_000, 4_000, 4_096, 10_000)
TARGETS = ("60", "1.000", "²", "0", "-5", "9" * 5_000, "١٢", "1e3", "99999999999", "60 70")
PROSE = (
    "Công nhân phải cúi người thay cuộn chỉ, mất 5 phút mỗi lần.",
    "Làm giá treo xoay bằng thép tận dụng.",
    "Giảm 80% thời gian thay chỉ.",
    "Thông báo: họp công đoàn lúc 8 giờ sáng thứ Hai.",
    "Bản vẽ là bí mật của công ty.",
)
COMMANDS = (
    "new", "new", "pending", "announce", "targets", "stats", "my", "card",
    "start", "new", "my", "help", "cancel", "unit", "lang", "settings", "stats", "top",
    "pending", "announce", "targets", "invite", "roles", "card", "linkchat", "unlinkchat",
    "history", "reopen", "skip", "khonghieu", "START", "start@sangkien_test_bot", "", "xem",
)  # fmt: skip
ARGUMENTS = (
    "", "HN-LB-MAY10", "TH-KCN-ANNORA", "HN", "HN-LB", "KHONG-CO", "SK-000001",
    "SK-000002 Trùng sáng kiến đã có", "SK-99999999999999999999", "1", "-1",
    "99999999999999999999", "inv_", "inv_" + "A" * 40, "ABCD-EFGH", "x" * 5_000, "\x00",
    "HN-LB\x00", "ABCD\x00EFGH",
)  # fmt: skip
# Above the database's integer range, at its edges, negative, not a number, not ASCII.
ABSURD = (
    "99999999999999999999", str(2**63), str(2**31), str(2**31 - 1), "-1", "0", "00001",
    "x", "1e3", "１", "", " ", "ữ", "%s", "{0}", "d", "summary", "pick",
)  # fmt: skip
FEATURES = "adghijklmnoprsz"
_LINKS = re.compile(r"start=(\S+)")
_CHAT_CODES = re.compile(r"/linkchat (\S+)")
_UNIT_CODES = re.compile(r"(?m)^([A-Z][A-Z0-9_-]+) · ")
_QUESTION = re.compile(r"(?:Câu hỏi|Question) (\d+)/11")
GROUP = {"id": -100200, "type": "supergroup", "title": "Công nhân May 10"}
CHANNEL = {"id": -100400, "type": "channel", "title": "Kênh Công đoàn May 10"}


class TelegramLimits(FakeBotApi):
    """The fake Bot API, refusing what Telegram refuses with "400 Bad Request": an empty
    or overlong text, caption or notice, a button without a label or with bad data."""

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        """Refuse a call over Telegram's limits; answer the others as the fake does."""
        params = dict(request_data.parameters) if request_data else {}
        problem = over_limits(url.rsplit("/", 1)[-1], params)
        if problem is not None:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {problem}"}
            return 400, json.dumps(body).encode()
        return await super().do_request(url, method, request_data, *args, **kwargs)


def over_limits(method: str, params: dict[str, Any]) -> str | None:
    """What Telegram would refuse in this call, if anything."""
    text = str(params.get("text") or "")
    if method in ("sendMessage", "editMessageText") and not 0 < len(text.strip()) <= 4096:
        return f"message text is empty or too long ({len(text)})"
    if len(str(params.get("caption") or "")) > 1024:
        return "message caption is too long"
    if method == "answerCallbackQuery" and len(text) > 200:
        return "notice is too long"
    markup = params.get("reply_markup") or {}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data", "x").encode()
            if not button.get("text", "").strip() or not 0 < len(data) <= 64:
                return "BUTTON_DATA_INVALID"
    return None


def shape(rng: random.Random) -> str:
    """A text of any length from one of the alphabets above."""
    length = rng.choice(LENGTHS)
    alphabet = rng.choice(ALPHABETS)
    chunk = "".join(rng.choice(alphabet) for _ in range(min(length, 97)))
    return (chunk * (length // 97 + 1))[:length]


def typed_text(rng: random.Random) -> str:
    """What a member might type: answers, words for buttons, or anything at all."""
    roll = rng.random()
    if roll < 0.55:
        text = rng.choice(rng.choice((TYPED, AMOUNTS, DATES, COAUTHORS)))
        variant = rng.randrange(4)
        return (text, text.upper(), f"  {text}\n", text + " " + rng.choice(TYPED))[variant]
    if roll < 0.9:
        return shape(rng)
    return rng.choice(TYPED) * rng.choice((2, 50, 3_000))


@dataclass
class Pools:
    """What the bot has shown so far: button codes, deep-link payloads, chat codes."""

    codes: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=lambda: ["HN-LB-MAY10"])
    unit_codes: list[str] = field(default_factory=lambda: ["HN-LB-MAY10"])
    chat_codes: list[str] = field(default_factory=lambda: ["ABCD-EFGH"])
    seen: int = 0

    def collect(self, calls: list[Call]) -> None:
        """Take in the calls made since the last look."""
        for call in calls[self.seen :]:
            self.codes += [code for _label, code in call.buttons if code]
            self.payloads += _LINKS.findall(call.text)
            self.chat_codes += _CHAT_CODES.findall(call.text)
            self.unit_codes += _UNIT_CODES.findall(call.text)
        self.seen = len(calls)
        del self.codes[:-2_000]


def mutate(rng: random.Random, code: str, other: str) -> str:
    """A real code changed the way a forger or a stale client would."""
    parts = code.split(":")
    numbers = [index for index, part in enumerate(parts) if part.isdigit()]
    where = rng.choice(numbers) if numbers and rng.random() < 0.7 else rng.randrange(len(parts))
    operation = rng.choices(range(8), weights=(6, 3, 1, 1, 1, 1, 1, 1))[0]
    if operation == 0:
        parts[where] = rng.choice(ABSURD)
    elif operation == 1 and parts[where].isdigit():
        parts[where] = str(max(0, int(parts[where]) + rng.choice((-2, -1, 1, 2, 1000))))
    elif operation == 2 and len(parts) > 1:
        del parts[where]
    elif operation == 3:
        parts.insert(where, rng.choice((*ABSURD, *parts)))
    elif operation == 4:
        parts[0] = rng.choice(FEATURES)
    elif operation == 5:
        return code[: rng.randrange(len(code) + 1)]
    elif operation == 6:
        return f"{code}:{other}"[:64]
    else:
        rng.shuffle(parts)
    return ":".join(parts)


def attachment(rng: random.Random) -> dict[str, Any]:
    """A photo, document, sticker, voice, place, contact... as Telegram sends them."""
    unique = f"u{rng.randrange(15)}"
    size = rng.choice((None, 0, 1, 245_000, 20 << 20, 10**12))
    kind = rng.randrange(12)
    if kind < 3:
        photo = {"file_id": f"p-{unique}", "file_unique_id": unique, "width": 1280,
                 "height": 960, "file_size": size}  # fmt: skip
        return {"photo": [photo], "caption": typed_text(rng)} if kind == 0 else {"photo": [photo]}
    if kind < 5:
        name = rng.choice((None, "báo cáo.pdf", "x" * 300, "../../etc/passwd", "😀.docx", "",
                           "a\x00b.pdf"))  # fmt: skip
        mime = rng.choice((None, "application/pdf", "image/png", "application/x-msdownload", "",
                           "a/" + "b" * 150, "x\x00"))  # fmt: skip
        document = {"file_id": f"d-{unique}", "file_unique_id": unique, "file_size": size,
                    "file_name": name, "mime_type": mime}  # fmt: skip
        return {"document": {k: v for k, v in document.items() if v is not None}}
    return (
        {"sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512,
                     "height": 512, "is_animated": False, "is_video": False}},
        {"voice": {"file_id": f"v-{unique}", "file_unique_id": unique,
                   "duration": rng.choice((0, 3, 600, 10**6))}},
        {"video_note": {"file_id": "vn", "file_unique_id": "vn", "length": 240, "duration": 5}},
        {"audio": {"file_id": "a", "file_unique_id": "a", "duration": 100}},
        {"location": {"latitude": 21.03, "longitude": 105.85}},
        {"venue": {"location": {"latitude": 21.0, "longitude": 105.8}, "title": "Nhà máy",
                   "address": "Long Biên"}},
        {"video": {"file_id": "vd", "file_unique_id": "vd", "width": 640, "height": 480,
                   "duration": 10}},
        {"dice": {"emoji": "🎲", "value": 6}},
    )[kind - 5]  # fmt: skip


def contact(rng: random.Random, member: Member) -> dict[str, Any]:
    """A shared phone number: one's own, someone else's, or odd."""
    phone = rng.choice(("+84912345678", "0912 345 678", "abc", "", "1" * 40, "+", "０９１２"))
    owner = rng.choice((member.id, None, 999_999))
    shared: dict[str, Any] = {"phone_number": phone, "first_name": "Lan"}
    if owner is not None:
        shared["user_id"] = owner
    return {"contact": shared}


@dataclass
class Fuzzer:
    """Chooses each input from what the bot has shown, and records what went wrong."""

    bot: Harness
    rng: random.Random
    # Each person, with how often they just follow the dialog: tap its newest buttons or
    # answer its question.
    people: list[tuple[Member, float]]
    pools: Pools = field(default_factory=Pools)
    failures: dict[str, str] = field(default_factory=dict)
    sent: int = 0

    async def step(self) -> None:
        """One random input from one random person."""
        member, calm = self.rng.choice(self.people)
        roll = self.rng.random() * (0.54 if self.rng.random() < calm else 1)
        makers: list[tuple[float, Callable[[Member], dict[str, Any]]]] = [
            (0.34, self.press),
            (0.54, self.answer),
            (0.64, lambda m: m.text_update(typed_text(self.rng))),
            (0.73, self.command),
            (0.80, lambda m: m.message_update(**attachment(self.rng))),
            (0.82, lambda m: m.message_update(**contact(self.rng, m))),
            (0.96, self.forged),
            (1.00, self.elsewhere),
        ]
        make = next(maker for bound, maker in makers if roll < bound)
        await self.deliver(member, make(member))

    async def deliver(self, member: Member, update: dict[str, Any]) -> None:
        """Hand the update to the bot; an error that reaches the handler is a failure."""
        before = len(self.bot.errors)
        await member.deliver(update)
        self.sent += 1
        self.pools.collect(self.bot.api.calls)
        for error in self.bot.errors[before:]:
            key = f"{type(error).__name__}: {str(error)[:200]}"
            self.failures.setdefault(key, f"input {self.sent} from {member.id}: {update!r:.600}")
        del self.bot.errors[before:]

    def press(self, member: Member) -> dict[str, Any]:
        """A tap on a button of the member's latest message with buttons, or an older one."""
        shown = [call for call in self.bot.api.by_chat[member.id][-6:] if call.buttons]
        if not shown:
            return member.button_update(self.rng.choice(self.pools.codes or ["j:search"]))
        message = shown[-1] if self.rng.random() < 0.7 else self.rng.choice(shown)
        _label, code = self.rng.choice(message.buttons)
        if self.rng.random() < 0.1:
            code = mutate(self.rng, code, self.rng.choice(self.pools.codes or [code]))
        return member.button_update(code)

    def answer(self, member: Member) -> dict[str, Any]:
        """A fitting answer to the question the member was asked last, more or less."""
        calls = reversed(self.bot.api.by_chat[member.id])
        last = next((call for call in calls if call.method == "sendMessage"), None)
        asked = _QUESTION.search(last.text) if last else None
        number = int(asked.group(1)) if asked else 0
        if number == 10:
            return member.message_update(**attachment(self.rng))
        pools: dict[int, tuple[str, ...]] = {1: TYPED, 6: DATES, 8: AMOUNTS, 9: COAUTHORS}
        if number:
            return member.text_update(self.rng.choice(pools.get(number, PROSE)))
        roll = self.rng.random()
        if roll < 0.3:
            return member.text_update("📝 Nộp sáng kiến")
        if roll < 0.5:
            code = self.rng.choice(self.pools.unit_codes)
            lines = [f"{code} {self.rng.choice(TARGETS)}" for _ in range(self.rng.choice((1, 3)))]
            return member.text_update("\n".join(lines))
        return member.text_update(self.rng.choice((*TYPED, *PROSE)))

    def forged(self, member: Member) -> dict[str, Any]:
        """Someone else's button, a stale one, a mutated one, or a made-up one."""
        codes = self.pools.codes or ["j:search"]
        code, other = self.rng.choice(codes), self.rng.choice(codes)
        roll = self.rng.random()
        data = (code if roll < 0.25 else mutate(self.rng, code, other) if roll < 0.9
                else shape(self.rng)[:64])  # fmt: skip
        update = member.button_update(data)
        query = update["callback_query"]
        if self.rng.random() < 0.05:
            del query["data"]
        if self.rng.random() < 0.05:
            del query["message"]
            query["inline_message_id"] = "inline-1"
        return update

    def command(self, member: Member) -> dict[str, Any]:
        """A command with an odd argument, a real deep link or a mutated one."""
        roll = self.rng.random()
        if roll < 0.15:
            payload = self.rng.choice(self.pools.payloads)
            if self.rng.random() < 0.5:
                payload = mutate(self.rng, payload, self.rng.choice(ARGUMENTS))
            return member.text_update(f"/start {payload}")
        argument = self.rng.choice(ARGUMENTS) if roll < 0.85 else typed_text(self.rng)
        return member.text_update(f"/{self.rng.choice(COMMANDS)} {argument}".rstrip())

    def elsewhere(self, member: Member) -> dict[str, Any]:
        """An edited message, a block or unblock, a command in a group or a channel."""
        kind = self.rng.randrange(4)
        if kind == 0:
            update = member.text_update(typed_text(self.rng))
            update["edited_message"] = {**update.pop("message"), "edit_date": 1}
            return update
        if kind == 1:
            status = self.rng.choice(("kicked", "member"))
            change: dict[str, Any] = {"status": status, "user": BOT_USER}
            if status == "kicked":
                change["until_date"] = 0
            return {"update_id": next_update_id(), "my_chat_member": {
                "chat": member.chat, "from": member.user, "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": BOT_USER},
                "new_chat_member": change}}  # fmt: skip
        chat = GROUP if kind == 2 else CHANNEL
        text = self.rng.choice((f"/linkchat {self.rng.choice(self.pools.chat_codes)}",
                                "/linkchat", "/unlinkchat", f"/linkchat {typed_text(self.rng)}",
                                "/start", typed_text(self.rng) or "…"))  # fmt: skip
        message: dict[str, Any] = {"message_id": self.sent + 1, "date": int(time.time()),
                                   "chat": chat, "text": text}  # fmt: skip
        if text.startswith("/"):
            command = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command}]
        if kind == 2:
            return {"update_id": next_update_id(), "message": {**message, "from": member.user}}
        return {"update_id": next_update_id(), "channel_post": {**message, "sender_chat": chat}}


async def seed_phase(database_url: str) -> None:
    """A running phase, so that figures and targets have something to show."""

    async def add() -> None:
        db = Database(database_url)
        try:
            await add_phase(db.units_of_work, "GD1", "Giai đoạn 1", dt.date(2026, 1, 1),
                            dt.date(2026, 12, 31), 300_000)  # fmt: skip
        finally:
            await db.close()

    run_in_thread(add)


async def cast(bot: Harness, database_url: str) -> list[tuple[Member, float]]:
    """Workers joining, drafting and with a submitted initiative; admins of a grassroots
    union and of the district above; a helper."""
    admin, upper, helper = bot.member(801, "An"), bot.member(803, "Cường"), bot.member(950, "Tổ")
    await grant(database_url, "HN-LB-MAY10", admin.id)
    await grant(database_url, "HN-LB-MAY10", admin.id, kind=RoleKind.HELPER)
    await grant(database_url, "HN-LB", upper.id)
    await grant(database_url, "HN-LB-MAY10", helper.id, kind=RoleKind.HELPER)
    await join(helper, name="Đỗ Văn Tổ")
    author = bot.member(701, "Lan")
    await join(author)
    await submit(author)
    drafting = bot.member(702, "Hùng")
    await join(drafting, name="Lê Văn Hùng")
    await drafting.say("/new")
    newcomer = bot.member(703, "Mai")
    await newcomer.say("/start")
    return [(admin, 0.5), (upper, 0.3), (helper, 0.5), (author, 0.5), (drafting, 0.8),
            (newcomer, 0.6), (bot.member(704, "Yến"), 0.2)]  # fmt: skip


async def new_author(bot: Harness, number: int) -> Member:
    """A worker who joins and submits an initiative, for the admins to decide."""
    worker = bot.member(10_000 + number, f"Thợ {number}")
    await join(worker, name=f"Nguyễn Văn Thợ {number}")
    await submit(worker, title=f"Sáng kiến số {number}")
    return worker


async def test_random_input_never_reaches_the_error_handler(
    start_bot: StartBot, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await seed_units(database_url)
    await seed_phase(database_url)
    bot = await start_bot(TelegramLimits())
    engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    inputs = int(os.environ.get("FUZZ_INPUTS", INPUTS[engine]))
    fuzzer = Fuzzer(bot, random.Random(SEED), await cast(bot, database_url))
    for index in range(inputs):
        if index and index % NEW_AUTHOR_EVERY == 0:
            fuzzer.people.append((await new_author(bot, index // NEW_AUTHOR_EVERY), 0.7))
        await fuzzer.step()
    assert fuzzer.sent == inputs
    found = "\n".join(f"{error}\n    {where}" for error, where in fuzzer.failures.items())
    assert not fuzzer.failures, f"seed {SEED}:\n{found}"
    # Nor is one caught and logged with its traceback on the way (the sender's loop).
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert not crashes, crashes[:10]
