"""A newcomer whose machine cannot reach Telegram, or whose token Telegram rejects, reads
a sentence saying which, not a traceback: `python -m bot run` and `units links`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.links import bot_username
from bot.preflight import unreachable
from tests.conftest import ROOT
from tests.fakebotapi import TOKEN


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_command(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in a clean directory with a SQLite database there, no proxy
    and no BOT_USERNAME unless given."""
    unset = ("BOT_USERNAME", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL")
    clean = {key: value for key, value in os.environ.items()
             if "proxy" not in key.lower() and key not in unset}  # fmt: skip
    clean |= {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db", "PYTHONPATH": str(ROOT)}
    clean |= env
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def told(result: subprocess.CompletedProcess[str], *sentences: str) -> str:
    """The command failed with these words and no traceback, and never showed the token."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert TOKEN not in output and TOKEN.split(":")[1] not in output
    for sentence in sentences:
        assert sentence in result.stderr, result.stderr
    return result.stderr


@pytest.fixture
def rejecting_api() -> Iterator[tuple[str, list[str]]]:
    """A Bot API server answering every method 401 Unauthorized; the paths it was asked."""
    asked: list[str] = []

    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(self.path)
            body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def test_run_says_the_network_is_down(tmp_path: Path) -> None:
    port = closed_port()
    result = bot_command(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN,
                         TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}")  # fmt: skip
    message = told(result, "Cannot start: Telegram's Bot API at 127.0.0.1 cannot be reached: "
                           "the connection was refused.")  # fmt: skip
    assert f"TELEGRAM_API_BASE_URL (http://127.0.0.1:{port})" in message


def test_run_says_the_token_was_rejected(
    tmp_path: Path, rejecting_api: tuple[str, list[str]]
) -> None:
    address, asked = rejecting_api
    result = bot_command(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=address)
    told(result, "Telegram rejected TELEGRAM_BOT_TOKEN", "revoked or mistyped",
         "@BotFather")  # fmt: skip
    assert asked and asked[0].endswith("/getMe")


def test_run_says_the_proxy_fails(tmp_path: Path) -> None:
    port = closed_port()
    result = bot_command(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN,
                         HTTPS_PROXY=f"http://ops:hunter2@127.0.0.1:{port}")  # fmt: skip
    message = told(result, f"through the proxy 127.0.0.1:{port} set in HTTPS_PROXY",
                   "or unset HTTPS_PROXY")  # fmt: skip
    assert "hunter2" not in message


def test_units_links_without_a_username_says_how_to_give_one(tmp_path: Path) -> None:
    told(bot_command(tmp_path, "units", "links"),
         "set BOT_USERNAME (in the environment or .env) or pass --bot-username")  # fmt: skip


def test_units_links_when_telegram_cannot_be_asked(
    tmp_path: Path, rejecting_api: tuple[str, list[str]]
) -> None:
    address, _asked = rejecting_api
    result = bot_command(tmp_path, "units", "links", TELEGRAM_BOT_TOKEN=TOKEN,
                         TELEGRAM_API_BASE_URL=address)  # fmt: skip
    told(result, "Could not ask Telegram for the bot's username", "revoked or mistyped",
         "set BOT_USERNAME (in the environment or .env) or pass --bot-username")  # fmt: skip
    port = closed_port()
    result = bot_command(tmp_path, "units", "links", TELEGRAM_BOT_TOKEN=TOKEN,
                         TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}")  # fmt: skip
    told(result, "the connection was refused", "pass --bot-username")


def test_a_malformed_username_is_refused_with_the_rule(tmp_path: Path) -> None:
    rule = '5 to 32 letters, digits or _, ending in "bot"'
    told(bot_command(tmp_path, "units", "links", "--bot-username", "sangkien"),
         "--bot-username: 'sangkien' is not a Telegram bot username", rule)  # fmt: skip
    told(bot_command(tmp_path, "units", "links", BOT_USERNAME="sang kien bot"),
         "BOT_USERNAME: 'sang kien bot' is not a Telegram bot username", rule)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "valid"),
    [("@SangKienBot", True), ("abbot", True), ("a" * 29 + "bot", True), ("abot", False),
     ("a" * 30 + "bot", False), ("sangkien", False), ("sáng_kiến_bot", False),
     ("sang-kien-bot", False)],
)  # fmt: skip
def test_bot_usernames(name: str, valid: bool) -> None:
    if valid:
        assert bot_username(name) == name.removeprefix("@")
    else:
        with pytest.raises(ValueError, match="is not a Telegram bot username"):
            bot_username(name)


async def test_each_failure_is_named() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    address = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        bot = Bot(TOKEN, base_url=f"{address}/bot",
                  request=HTTPXRequest(connect_timeout=0.3, read_timeout=0.3))  # fmt: skip
        with pytest.raises(NetworkError) as timeout:
            await bot.get_me()
    finally:
        silent.close()
    assert "no answer in time (a timeout)" in unreachable(timeout.value, address)
    dns = NetworkError("httpx.ConnectError: [Errno -2] Name or service not known")
    dns.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert "the name does not resolve" in unreachable(dns, "https://api.telegram.org")
    down = NetworkError("httpx.ConnectError: [Errno 101] Network is unreachable")
    down.__cause__ = OSError(101, "Network is unreachable")
    assert "cannot be reached: Network is unreachable" in unreachable(down, address)
    rejected = unreachable(InvalidToken(f"The token `{TOKEN}` was rejected"), address)
    assert "revoked or mistyped" in rejected and TOKEN not in rejected
    # Something answered, not as the Bot API does: a 502, or another kind of web server.
    for odd in (NetworkError(f"Bad Gateway {TOKEN}"), TelegramError("Invalid server response")):
        answer = unreachable(odd, address)
        assert f"the answer was an error ({type(odd).__name__})" in answer
        assert TOKEN not in answer


def test_a_proxy_the_address_bypasses_is_not_blamed(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = NetworkError("httpx.ConnectError: All connection attempts failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.congdoan.vn:3128")
    assert "proxy.congdoan.vn:3128 set in HTTP_PROXY" in unreachable(refused, "http://10.0.0.5")
    monkeypatch.setenv("NO_PROXY", "10.0.0.5")
    assert "proxy" not in unreachable(refused, "http://10.0.0.5:8081")
