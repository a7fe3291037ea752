"""The command line: importing units (idempotent, all or nothing) and printing links."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from handlers.zalo.fake import FakeZaloApi
from storage.db import create_engine, session_factory
from storage.models import UnitRow
from tests.conftest import EXAMPLE_UNITS, run_in_thread


def unit_names(url: str) -> dict[str, str]:
    async def read() -> dict[str, str]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.execute(select(UnitRow.code, UnitRow.name))
                count = (await session.execute(select(func.count()).select_from(UnitRow))).scalar()
                names = {code: name for code, name in rows}
                assert count == len(names)
                return names
        finally:
            await engine.dispose()

    return run_in_thread(read)


def test_import_is_idempotent_and_updates_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "units", "import", str(EXAMPLE_UNITS)]) == 0
    first = unit_names(url)
    assert first["HN-LB-MAY10"] == "CĐCS Công ty May 10"
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        EXAMPLE_UNITS.read_text(encoding="utf-8").replace(
            "CĐCS Công ty May 10", "CĐCS Tổng Công ty May 10"
        ),
        encoding="utf-8",
    )
    assert main(["--database-url", url, "units", "import", str(renamed)]) == 0
    second = unit_names(url)
    assert len(second) == len(first), "re-import never duplicates"
    assert second["HN-LB-MAY10"] == "CĐCS Tổng Công ty May 10"
    assert "0 new" in capsys.readouterr().out.splitlines()[-1]


def test_bad_file_imports_nothing_and_names_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,parent_code,level\n"
        "TLD,Tổng Liên đoàn,,national\n"
        "A,Đơn vị A,KHONG,province\n"
        "TLD,Trùng mã,,national\n",
        encoding="utf-8",
    )
    assert main(["--database-url", url, "units", "import", str(bad)]) == 1
    errors = capsys.readouterr().err
    assert "3" in errors and "4" in errors
    assert unit_names(url) == {}


def test_links_and_qr_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "units", "import", str(EXAMPLE_UNITS)]) == 0
    capsys.readouterr()
    qr = tmp_path / "qr"
    assert main(["--database-url", url, "units", "links", "--bot-username", "@sangkien_bot",
                 "--qr", str(qr)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    may10 = next(line for line in lines if line.startswith("HN-LB-MAY10\t"))
    assert "https://t.me/sangkien_bot?start=HN-LB-MAY10" in may10
    assert (qr / "HN-LB-MAY10.png").read_bytes().startswith(b"\x89PNG")
    assert not any(line.startswith("HN\t") for line in lines), "only grassroots units"


def test_admins_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "units", "import", str(EXAMPLE_UNITS)]) == 0
    base = ["--database-url", url, "admins"]
    assert main([*base, "add", "--unit", "HN-LB-MAY10", "--telegram-id", "555"]) == 0
    assert main([*base, "add", "--unit", "HN-LB-MAY10", "--telegram-id", "555"]) == 0
    assert main([*base, "add", "--unit", "HN", "--telegram-id", "556", "--role", "helper"]) == 0
    capsys.readouterr()
    assert main([*base, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["HN-LB-MAY10\tadmin\t555\t555", "HN\thelper\t556\t556"], "granted once"
    assert main([*base, "remove", "--unit", "HN-LB-MAY10", "--telegram-id", "555"]) == 0
    assert main([*base, "remove", "--unit", "HN-LB-MAY10", "--telegram-id", "555"]) == 1
    assert main([*base, "add", "--unit", "KHONG-CO", "--telegram-id", "557"]) == 1
    assert "KHONG-CO" in capsys.readouterr().err
    assert main([*base, "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["HN\thelper\t556\t556"]


def test_admins_on_zalo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "units", "import", str(EXAMPLE_UNITS)]) == 0
    base = ["--database-url", url, "admins"]
    zalo_admin = "7461025530941297441"
    assert main([*base, "add", "--unit", "HN-LB-MAY10", "--zalo-id", zalo_admin]) == 0
    assert main([*base, "add", "--unit", "HN-LB-MAY10", "--telegram-id", "555"]) == 0
    capsys.readouterr()
    assert main([*base, "list"]) == 0
    assert sorted(capsys.readouterr().out.splitlines()) == [
        "HN-LB-MAY10\tadmin\t555\t555", f"HN-LB-MAY10\tadmin\t{zalo_admin}\t{zalo_admin}"
    ]  # fmt: skip
    assert main([*base, "remove", "--unit", "HN-LB-MAY10", "--zalo-id", zalo_admin]) == 0
    assert main([*base, "remove", "--unit", "HN-LB-MAY10", "--zalo-id", zalo_admin]) == 1
    assert main([*base, "add", "--unit", "HN-LB-MAY10"]) == 2
    assert "--zalo-id" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one person at a time
        main([*base, "add", "--unit", "HN", "--telegram-id", "5", "--zalo-id", zalo_admin])


def test_phases_and_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    base = ["--database-url", url]
    assert main([*base, "units", "import", str(EXAMPLE_UNITS)]) == 0
    first = ["--code", "GD1", "--name", "Giai đoạn 1", "--start", "20/12/2021"]
    assert main([*base, "phases", "add", *first, "--end", "31/05/2022", "--target", "300000"]) == 0
    assert main([*base, "phases", "add", "--code", "GD2", "--start", "01/05/2022",
                 "--end", "30/09/2023"]) == 1, "overlapping phases are refused"  # fmt: skip
    assert main([*base, "phases", "add", "--code", "GD2", "--start", "31/13/2022",
                 "--end", "30/09/2023"]) == 2  # fmt: skip
    assert main([*base, "phases", "add", "--code", "GD2", "--start", "01/06/2022",
                 "--end", "30/09/2023", "--target", "1000000"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main([*base, "phases", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "GD1\t20/12/2021\t31/05/2022\t300000\tGiai đoạn 1",
        "GD2\t01/06/2022\t30/09/2023\t1000000\tGD2",
    ]
    bad = tmp_path / "targets.csv"
    bad.write_text("unit_code,phase,target\nNA,GD1,3000\nXX,GD1,5\nNA,GD9,abc\nNA,GD1,4000\n",
                   encoding="utf-8")  # fmt: skip
    assert main([*base, "targets", "import", str(bad)]) == 1
    errors = capsys.readouterr().err
    for line in ("Dòng 3", "Dòng 4", "Dòng 5"):
        assert line in errors, errors
    good = tmp_path / "good.csv"
    good.write_text("unit_code,phase,target\nNA,GD1,3.000\nHN,GD2,78000\n", encoding="utf-8")
    assert main([*base, "targets", "import", str(good)]) == 0
    assert "2 targets set." in capsys.readouterr().out


def test_groups_import_all_or_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    base = ["--database-url", url]
    assert main([*base, "units", "import", str(EXAMPLE_UNITS)]) == 0
    bad = tmp_path / "groups.csv"
    bad.write_text("group_code,group_name,unit_code\nK1,Khối 1,HN\nK1,Khối 1,NOPE\nK2,,TH\n",
                   encoding="utf-8")  # fmt: skip
    assert main([*base, "groups", "import", str(bad)]) == 1
    errors = capsys.readouterr().err
    assert "Dòng 3" in errors and "Dòng 4" in errors
    groups = EXAMPLE_UNITS.parent / "groups.csv"
    assert main([*base, "groups", "import", str(groups)]) == 0
    assert main([*base, "groups", "import", str(groups)]) == 0, "re-import replaces"
    assert "3 emulation groups set." in capsys.readouterr().out


ZALO_LINK = "https://zalo.me/1459232241454765289"
TWO_UNITS = (
    "code,name,parent_code,level\n"
    "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\n"
    "HN,LĐLĐ TP Hà Nội,TLD,province\n"
    "HN-LB-MAY10,CĐCS Công ty May 10,HN,grassroots\n"
    "HN-LB-DUCGIANG,CĐCS Công ty May Đức Giang,HN,grassroots\n"
)


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    """A fake Zalo Bot API served from a thread of its own: the command runs its own loop."""
    loop = asyncio.new_event_loop()
    fake = FakeZaloApi()
    loop.run_until_complete(fake.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def two_units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with two grassroots unions, and no bot configured in the environment."""
    for name in ("BOT_USERNAME", "TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_BOT_LINK",
                 "ZALO_API_BASE_URL"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    units = tmp_path / "units.csv"
    units.write_text(TWO_UNITS, encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "units", "import", str(units)]) == 0
    return url


def use_zalo(monkeypatch: pytest.MonkeyPatch, fake: FakeZaloApi, token: str = "") -> None:
    """The Zalo channel on, against the fake."""
    monkeypatch.setenv("ZALO_BOT_TOKEN", token or fake.token)
    monkeypatch.setenv("ZALO_API_BASE_URL", fake.base_url)


def test_links_on_both_channels_and_their_posters(
    two_units: str, tmp_path: Path, zalo_api: FakeZaloApi,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    use_zalo(monkeypatch, zalo_api)
    monkeypatch.setenv("ZALO_BOT_LINK", ZALO_LINK)
    posters = tmp_path / "posters"
    assert main(["--database-url", two_units, "units", "links", "--bot-username", "sangkien_bot",
                 "--qr", str(posters)]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    may10 = next(line for line in out.splitlines() if line.startswith("HN-LB-MAY10\t"))
    assert may10.split("\t") == [
        "HN-LB-MAY10",
        "CĐCS Công ty May 10",
        "https://t.me/sangkien_bot?start=HN-LB-MAY10",
        ZALO_LINK,
        str(posters / "HN-LB-MAY10.png"),
    ]
    assert "Telegram link, Zalo link (a worker there sends the unit's code), poster" in err
    assert sorted(p.name for p in posters.iterdir()) == ["HN-LB-DUCGIANG.png", "HN-LB-MAY10.png"]
    assert (posters / "HN-LB-MAY10.png").read_bytes().startswith(b"\x89PNG")
    assert [call.method for call in zalo_api.calls] == ["getMe"], "the token is checked"


def test_links_on_zalo_alone(
    two_units: str, zalo_api: FakeZaloApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    use_zalo(monkeypatch, zalo_api)
    assert main(["--database-url", two_units, "units", "links", "--zalo-link", ZALO_LINK]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines) == [
        f"HN-LB-DUCGIANG\tCĐCS Công ty May Đức Giang\t{ZALO_LINK}",
        f"HN-LB-MAY10\tCĐCS Công ty May 10\t{ZALO_LINK}",
    ]


def test_a_zalo_link_without_a_token_needs_no_zalo(
    two_units: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", two_units, "units", "links", "--zalo-link", ZALO_LINK]) == 0
    assert f"CĐCS Công ty May 10\t{ZALO_LINK}" in capsys.readouterr().out


def test_zalo_refusing_the_token_is_said_in_a_sentence(
    two_units: str, zalo_api: FakeZaloApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    wrong = f"{zalo_api.bot_id}:not-the-secret-at-all"
    use_zalo(monkeypatch, zalo_api, token=wrong)
    monkeypatch.setenv("ZALO_BOT_LINK", ZALO_LINK)
    assert main(["--database-url", two_units, "units", "links"]) == 2
    out, err = capsys.readouterr()
    assert "Could not ask Zalo about the bot (getMe). Zalo rejected ZALO_BOT_TOKEN" in err
    assert "Zalo Bot Creator" in err and "not-the-secret" not in out + err
    assert "HN-LB-MAY10" not in out, "no entry without a working bot"


def test_zalo_out_of_reach_is_said_in_a_sentence(
    two_units: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1459232241454765289:secret-of-the-bot")
    monkeypatch.setenv("ZALO_API_BASE_URL", f"http://127.0.0.1:{port}")
    assert main(["--database-url", two_units, "units", "links", "--zalo-link", ZALO_LINK]) == 2
    err = capsys.readouterr().err
    assert "Zalo's Bot API at 127.0.0.1 cannot be reached" in err
    assert f"ZALO_API_BASE_URL (http://127.0.0.1:{port})" in err and "secret-of" not in err


def test_a_zalo_token_without_the_link_says_where_to_copy_it(
    two_units: str, zalo_api: FakeZaloApi, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    use_zalo(monkeypatch, zalo_api)
    links = ["--database-url", two_units, "units", "links", "--bot-username", "sangkien_bot"]
    assert main(links) == 2
    err = capsys.readouterr().err
    assert "the link of the bot bot.sangkien" in err, "named as getMe names it"
    assert "set ZALO_BOT_LINK" in err and "--zalo-link URL" in err and "Zalo Bot Creator" in err


def test_without_any_bot_the_links_say_what_to_set(
    two_units: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", two_units, "units", "links"]) == 2
    err = capsys.readouterr().err
    assert "set BOT_USERNAME (in the environment or .env) or pass --bot-username NAME" in err
    assert "For Zalo: set ZALO_BOT_TOKEN, and set ZALO_BOT_LINK" in err
