"""Settings: a clear message for a bad token, and a self-hosted Bot API server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.serve import build_runtime
from bot.settings import Settings, SettingsError
from tests.fakebotapi import TOKEN, FakeBotApi


def test_missing_token_says_where_to_get_one() -> None:
    with pytest.raises(SettingsError, match="BotFather") as refused:
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": " ", "ZALO_BOT_TOKEN": ""})
    message = str(refused.value)
    assert "TELEGRAM_BOT_TOKEN nor ZALO_BOT_TOKEN" in message and "Zalo Bot Creator" in message


ZALO_TOKEN = "1459232241454765289:zalo-secret-part"


def test_a_zalo_token_alone_is_a_bot() -> None:
    settings = Settings.from_mapping({"ZALO_BOT_TOKEN": ZALO_TOKEN})
    assert (settings.telegram_bot_token, settings.zalo_bot_token) == ("", ZALO_TOKEN)
    assert settings.zalo_rate == 5.0
    assert ZALO_TOKEN not in repr(settings) and "telegram_bot_token=''" in repr(settings)
    # Telegram's own settings mean nothing without Telegram: not read, not refused.
    telegram_only = {"WEBHOOK_MAX_CONNECTIONS": "lots", "BROADCAST_RATE": "99",
                     "SEND_SLOTS": "0", "WEBHOOK_ALLOWED_UPDATES": "nonsense"}  # fmt: skip
    settings = Settings.from_mapping({"ZALO_BOT_TOKEN": ZALO_TOKEN, **telegram_only})
    assert (settings.webhook_max_connections, settings.send_slots) == (40, 8)
    with pytest.raises(SettingsError, match="ALERT_CHAT_ID is a Telegram chat"):
        Settings.from_mapping({"ZALO_BOT_TOKEN": ZALO_TOKEN, "ALERT_CHAT_ID": "123456789"})


def test_zalo_rate() -> None:
    values = {"ZALO_BOT_TOKEN": ZALO_TOKEN}
    assert Settings.from_mapping({**values, "ZALO_RATE": " 2.5 "}).zalo_rate == 2.5
    assert Settings.from_mapping({**values, "ZALO_RATE": "30"}).zalo_rate == 30.0
    for wrong in ("0", "-1", "fast", "nan", "inf", "30.5"):
        with pytest.raises(SettingsError, match="ZALO_RATE must be a number of messages a second"):
            Settings.from_mapping({**values, "ZALO_RATE": wrong})


def test_webhook_mode_with_zalo_alone_needs_only_zalos_webhook() -> None:
    values = {"ZALO_BOT_TOKEN": ZALO_TOKEN, "ZALO_WEBHOOK_URL": "https://bot.example/",
              "ZALO_WEBHOOK_SECRET": "zalo:Secret/42"}  # fmt: skip
    Settings.from_mapping(values).check_webhook()  # no WEBHOOK_URL, and "/" is Zalo's alone
    with pytest.raises(SettingsError, match="ZALO_WEBHOOK_URL must be the public https"):
        Settings.from_mapping({**values, "ZALO_WEBHOOK_URL": ""}).check_webhook()


def test_malformed_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="does not look like a bot token"):
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": "hello"})


def test_defaults_and_env_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"# comment\nTELEGRAM_BOT_TOKEN={TOKEN}\nBOT_DEFAULT_LANGUAGE=en\n")
    settings = Settings.from_env({"BOT_DEFAULT_LANGUAGE": "vi"}, env_file=env)
    assert settings.telegram_bot_token == TOKEN
    assert settings.default_language == "vi", "the environment wins over .env"
    assert settings.database_url.startswith("sqlite+aiosqlite:///data/")
    assert str(settings.timezone) == "Asia/Ho_Chi_Minh"
    assert TOKEN not in repr(settings)


def test_bad_timezone_and_language() -> None:
    with pytest.raises(SettingsError, match="time zone"):
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_TIMEZONE": "Mars/Base"})
    with pytest.raises(SettingsError, match="vi or en"):
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, "BOT_DEFAULT_LANGUAGE": "fr"})


async def test_self_hosted_bot_api_server_is_used(tmp_path: Path) -> None:
    settings = Settings.from_mapping({
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    })  # fmt: skip
    api = FakeBotApi()
    telegram: Any = build_runtime(settings, request=api).channel("telegram")
    application = telegram.application
    await application.initialize()
    try:
        assert api.calls[0].method == "getMe"
    finally:
        await application.shutdown()
    assert application.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert application.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"


def test_run_without_a_token_stops_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("ZALO_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    error = capsys.readouterr().err
    assert "BotFather" in error and "ZALO_BOT_TOKEN" in error


def test_nudge_settings() -> None:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "NUDGE_LAGGING": "off"}
    settings = Settings.from_mapping({**values, "NUDGE_QUIET_FROM": "22", "NUDGE_QUIET_UNTIL": "6"})
    assert (settings.nudge_lagging, settings.nudge_drafts) == (False, True)
    assert (settings.nudge_quiet_from, settings.nudge_quiet_until) == (22, 6)
    with pytest.raises(SettingsError, match="NUDGE_QUIET"):
        Settings.from_mapping({"TELEGRAM_BOT_TOKEN": TOKEN, "NUDGE_QUIET_FROM": "25"})


def test_sending_settings() -> None:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN}
    assert Settings.from_mapping(values).send_slots == 8
    settings = Settings.from_mapping({**values, "SEND_SLOTS": "3", "BROADCAST_RATE": "20"})
    assert (settings.send_slots, settings.broadcast_rate) == (3, 20.0)
    for wrong in ("0", "33", "many"):
        with pytest.raises(SettingsError, match="SEND_SLOTS"):
            Settings.from_mapping({**values, "SEND_SLOTS": wrong})
    with pytest.raises(SettingsError, match="BROADCAST_RATE"):
        Settings.from_mapping({**values, "BROADCAST_RATE": "30"})


def test_zalo_webhook_settings() -> None:
    telegram = {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example/telegram",
                "WEBHOOK_SECRET": "s3cret-Webhook_token-0123456789"}  # fmt: skip
    Settings.from_mapping(telegram).check_webhook()  # no Zalo token: nothing more is needed
    zalo = {**telegram, "ZALO_BOT_TOKEN": "1459232241454765289:zalo-secret-part",
            "ZALO_WEBHOOK_URL": " https://bot.example/zalo ",
            "ZALO_WEBHOOK_SECRET": "zalo:Secret/42"}  # fmt: skip
    settings = Settings.from_mapping(zalo)
    settings.check_webhook()
    assert settings.zalo_webhook_url == "https://bot.example/zalo"
    assert settings.zalo_webhook_path == "/zalo"
    assert "zalo:Secret/42" not in repr(settings)
    wrong = [
        ({"ZALO_WEBHOOK_URL": ""}, "ZALO_WEBHOOK_URL must be the public https"),
        ({"ZALO_WEBHOOK_URL": "http://bot.example/zalo"}, "ZALO_WEBHOOK_URL must be the public"),
        ({"ZALO_WEBHOOK_URL": "https://other.example/telegram"}, "different paths"),
        ({"ZALO_WEBHOOK_SECRET": ""}, "ZALO_WEBHOOK_SECRET must be 8 to 256"),
        ({"ZALO_WEBHOOK_SECRET": "short"}, "ZALO_WEBHOOK_SECRET must be 8 to 256"),
        ({"ZALO_WEBHOOK_SECRET": "x" * 257}, "ZALO_WEBHOOK_SECRET must be 8 to 256"),
        ({"ZALO_WEBHOOK_SECRET": "has a space"}, "ZALO_WEBHOOK_SECRET must be 8 to 256"),
    ]
    for change, message in wrong:
        with pytest.raises(SettingsError, match=message):
            Settings.from_mapping({**zalo, **change}).check_webhook()
    Settings.from_mapping({**zalo, "ZALO_WEBHOOK_SECRET": "x" * 8}).check_webhook()
    Settings.from_mapping({**zalo, "ZALO_WEBHOOK_SECRET": "x" * 256}).check_webhook()


def test_run_webhook_with_zalo_but_no_zalo_webhook_stops_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-Webhook_token-0123456789")
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1459232241454765289:zalo-secret-part")
    monkeypatch.delenv("ZALO_WEBHOOK_URL", raising=False)
    assert main(["run", "--webhook"]) == 2
    assert "Cannot start: ZALO_WEBHOOK_URL must be" in capsys.readouterr().err


def test_run_webhook_with_zalo_alone_asks_only_for_zalos_webhook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    monkeypatch.setenv("ZALO_BOT_TOKEN", ZALO_TOKEN)
    monkeypatch.delenv("ZALO_WEBHOOK_URL", raising=False)
    assert main(["run", "--webhook"]) == 2
    error = capsys.readouterr().err
    assert "Cannot start: ZALO_WEBHOOK_URL must be" in error and "Telegram" not in error
