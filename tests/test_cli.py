"""The command line: importing units (idempotent, all or nothing) and printing links."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
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
