"""Tests for parsing and checking the unit tree CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.errors import InputError
from domain.unit_import import (
    LEVELS,
    ImportProblem,
    UnitImportError,
    UnitLevel,
    UnitRecord,
    decode_units_csv,
    parse_units_csv,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "units.csv"
HEADER = "code,name,parent_code,level\n"
BASE = HEADER + (
    "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\nTH,LĐLĐ tỉnh Thanh Hóa,TLD,province\n"
)


def problems_of(content: str, existing: dict[str, str | None] | None = None) -> list[ImportProblem]:
    """Parse content that must be rejected and return its problems."""
    with pytest.raises(UnitImportError) as caught:
        parse_units_csv(content, existing or {})
    return caught.value.problems


def only_problem(content: str, existing: dict[str, str | None] | None = None) -> ImportProblem:
    """Parse content that must have exactly one problem and return it."""
    problems = problems_of(content, existing)
    assert len(problems) == 1, [p.text.msgid for p in problems]
    return problems[0]


def assert_parents_first(records: list[UnitRecord]) -> None:
    """Every parent that is in the records comes before its children."""
    seen: set[str] = set()
    codes = {record.code for record in records}
    for record in records:
        if record.parent_code in codes:
            assert record.parent_code in seen, record.code
        seen.add(record.code)


def test_levels_match_enum() -> None:
    assert LEVELS == ("national", "province", "sector", "upper", "grassroots")
    assert [level.value for level in UnitLevel] == list(LEVELS)


def test_example_file_parses_cleanly() -> None:
    records = parse_units_csv(EXAMPLE.read_text(encoding="utf-8"), {})
    by_code = {record.code: record for record in records}
    assert len(by_code) == len(records)
    assert by_code["TLD"].level is UnitLevel.NATIONAL
    assert by_code["TLD"].parent_code is None
    assert by_code["TLD"].name == "Tổng Liên đoàn Lao động Việt Nam"
    assert {by_code[c].level for c in ("HN", "TH", "NA", "HT")} == {UnitLevel.PROVINCE}
    assert by_code["NH"].level is UnitLevel.SECTOR
    assert by_code["HN-LB-MAY10"].parent_code == "HN-LB"
    assert by_code["HN-LB-MAY10"].name == "CĐCS Công ty May 10"
    grassroots = [r for r in records if r.level is UnitLevel.GRASSROOTS]
    assert 12 <= len(grassroots) <= 20
    assert all(r.parent_code is not None for r in records if r.level is not UnitLevel.NATIONAL)
    assert_parents_first(records)
    assert records[0].code == "TLD"
    assert records[0].line == 2


def test_children_before_parents_are_reordered() -> None:
    content = HEADER + (
        "HN-LB-MAY10,CĐCS Công ty May 10,HN-LB,grassroots\n"
        "HN-LB,LĐLĐ quận Long Biên,HN,upper\n"
        "HN,LĐLĐ TP Hà Nội,TLD,province\n"
        "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\n"
        "TH,LĐLĐ tỉnh Thanh Hóa,TLD,province\n"
    )
    records = parse_units_csv(content, {})
    assert [r.code for r in records] == ["TLD", "HN", "HN-LB", "HN-LB-MAY10", "TH"]
    assert [r.line for r in records] == [5, 4, 3, 2, 6]


def test_parent_may_be_an_existing_unit() -> None:
    content = HEADER + "HN-HM,LĐLĐ quận Hoàng Mai,HN,upper\n"
    records = parse_units_csv(content, {"TLD": None, "HN": "TLD"})
    assert records == [UnitRecord(2, "HN-HM", "LĐLĐ quận Hoàng Mai", "HN", UnitLevel.UPPER)]


def test_bom_blank_lines_crlf_and_quoted_commas() -> None:
    content = (
        "\ufeff\r\n"
        "code,name,parent_code,level\r\n"
        "\r\n"
        "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\r\n"
        "   \r\n"
        'NH,"Công đoàn Ngân hàng Việt Nam, khối Trung ương",TLD,sector\r\n'
        "\r\n"
    )
    records = parse_units_csv(content, {})
    assert [(r.line, r.code) for r in records] == [(4, "TLD"), (6, "NH")]
    assert records[1].name == "Công đoàn Ngân hàng Việt Nam, khối Trung ương"


def test_fields_are_trimmed_and_level_is_case_insensitive() -> None:
    content = HEADER + " TLD , Tổng  Liên đoàn   Lao động Việt Nam ,, National \n"
    (record,) = parse_units_csv(content, {})
    assert record == UnitRecord(
        2, "TLD", "Tổng Liên đoàn Lao động Việt Nam", None, UnitLevel.NATIONAL
    )


def test_decomposed_diacritics_are_normalised() -> None:
    import unicodedata

    name = unicodedata.normalize("NFD", "LĐLĐ tỉnh Thanh Hóa")
    (record,) = parse_units_csv(HEADER + f"TH,{name},TLD,province\n", {"TLD": None})
    assert record.name == unicodedata.normalize("NFC", "LĐLĐ tỉnh Thanh Hóa")


def test_decode_accepts_utf8_with_bom_and_rejects_other_encodings() -> None:
    text = "code,name,parent_code,level\nTH,LĐLĐ tỉnh Thanh Hóa,TLD,province\n"
    assert decode_units_csv(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    with pytest.raises(UnitImportError) as caught:
        decode_units_csv("code\nTH,Thanh Hóa\n".encode("cp1258"))
    assert caught.value.problems[0].line == 2


# --- one test per kind of problem -------------------------------------------------------


def test_empty_file() -> None:
    problem = only_problem("\ufeff\n\n")
    assert problem.line == 1
    assert "empty" in problem.text.msgid


def test_header_only() -> None:
    problem = only_problem("\n" + HEADER)
    assert problem.line == 2
    assert "no units" in problem.text.msgid


def test_wrong_header() -> None:
    problem = only_problem("ma,ten,cap_tren,cap\nTLD,Tổng Liên đoàn Lao động Việt Nam,,national\n")
    assert problem.line == 1
    assert "header" in problem.text.msgid
    assert problem.text.args["line"] == 1


def test_missing_header_first_line_still_checked_as_data() -> None:
    content = (
        "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\nTH,LĐLĐ tỉnh Thanh Hóa,TLD,province\n"
    )
    problem = only_problem(content)
    assert problem.line == 1
    assert "header" in problem.text.msgid


def test_wrong_column_count() -> None:
    problem = only_problem(BASE + "NA,LĐLĐ tỉnh Nghệ An,TLD\n")
    assert problem.line == 4
    assert "columns" in problem.text.msgid
    assert problem.text.args["count"] == 3


@pytest.mark.parametrize(
    "code",
    ["HN LB", "HÀ-NỘI", "HN.LB", "A" * 33, "HN/LB", "x;y", "ĐN"],
)
def test_invalid_code(code: str) -> None:
    problem = only_problem(BASE + f"{code},LĐLĐ quận Long Biên,TLD,province\n")
    assert problem.line == 4
    assert "Telegram" in problem.text.msgid
    assert problem.text.args["code"] == code


def test_empty_code_is_invalid() -> None:
    problem = only_problem(BASE + ",LĐLĐ quận Long Biên,TLD,province\n")
    assert problem.line == 4
    assert "Telegram" in problem.text.msgid


def test_code_of_32_characters_is_allowed() -> None:
    code = "A_b-9" * 6 + "Zz"
    assert len(code) == 32
    records = parse_units_csv(BASE + f"{code},LĐLĐ tỉnh Nghệ An,TLD,province\n", {})
    assert records[-1].code == code


def test_empty_name() -> None:
    problem = only_problem(BASE + "NA,  ,TLD,province\n")
    assert problem.line == 4
    assert "name is empty" in problem.text.msgid


def test_name_too_long() -> None:
    assert len(parse_units_csv(BASE + f"NA,{'x' * 200},TLD,province\n", {})) == 3
    problem = only_problem(BASE + f"NA,{'x' * 201},TLD,province\n")
    assert problem.line == 4
    assert problem.text.args["length"] == 201
    assert problem.text.args["limit"] == 200


def test_unknown_level_lists_allowed_levels() -> None:
    problem = only_problem(BASE + "NA,LĐLĐ tỉnh Nghệ An,TLD,tinh\n")
    assert problem.line == 4
    assert problem.text.args["level"] == "tinh"
    assert problem.text.args["allowed"] == "national, province, sector, upper, grassroots"


def test_duplicate_code_names_both_lines() -> None:
    problem = only_problem(BASE + "TH,LĐLĐ tỉnh Thanh Hóa (bản sao),TLD,province\n")
    assert problem.line == 4
    assert problem.text.args["code"] == "TH"
    assert problem.text.args["first"] == 3


def test_unknown_parent() -> None:
    problem = only_problem(BASE + "NA-VINH,LĐLĐ TP Vinh,NA,upper\n", {"HN": "TLD"})
    assert problem.line == 4
    assert problem.text.args["parent"] == "NA"
    assert "existing" in problem.text.msgid


def test_own_parent() -> None:
    problem = only_problem(BASE + "NA,LĐLĐ tỉnh Nghệ An,NA,province\n")
    assert problem.line == 4
    assert "own parent" in problem.text.msgid


def test_cycle_within_file() -> None:
    content = BASE + ("A,Công đoàn A,B,upper\nB,Công đoàn B,C,upper\nC,Công đoàn C,A,upper\n")
    problem = only_problem(content)
    assert problem.line == 4
    assert problem.text.args["loop"] == "A → B → C → A"


def test_national_with_parent() -> None:
    problem = only_problem(BASE + "TLD2,Tổng Liên đoàn (bản sao),TLD,national\n")
    assert problem.line == 4
    assert "national" in problem.text.msgid


def test_non_national_without_parent() -> None:
    problem = only_problem(BASE + "NH,Công đoàn Ngân hàng Việt Nam,,sector\n")
    assert problem.line == 4
    assert problem.text.args["level"] == "sector"


def test_grassroots_cannot_be_parent() -> None:
    content = BASE + (
        "TH-KCN,Công đoàn các KCN tỉnh Thanh Hóa,TH,upper\n"
        "TH-KCN-ANNORA,CĐCS Công ty TNHH Giày Annora Việt Nam,TH-KCN,grassroots\n"
        "TH-KCN-ANNORA-TO1,Tổ công đoàn Phân xưởng 1,TH-KCN-ANNORA,grassroots\n"
    )
    problem = only_problem(content)
    assert problem.line == 6
    assert problem.text.args["parent"] == "TH-KCN-ANNORA"
    assert problem.text.args["parent_line"] == 5


def test_unit_with_existing_children_cannot_become_grassroots() -> None:
    existing: dict[str, str | None] = {
        "TLD": None,
        "TH": "TLD",
        "TH-KCN": "TH",
        "TH-KCN-ANNORA": "TH-KCN",
    }
    problem = only_problem(
        HEADER + "TH-KCN,Công đoàn các KCN tỉnh Thanh Hóa,TH,grassroots\n", existing
    )
    assert problem.line == 2
    assert problem.text.args["child"] == "TH-KCN-ANNORA"


# --- several problems, re-import ----------------------------------------------------------


def test_all_problems_reported_together_sorted_by_line() -> None:
    content = HEADER + (
        "NA,LĐLĐ tỉnh Nghệ An,XX,province\n"  # 2: unknown parent
        "TLD,Tổng Liên đoàn Lao động Việt Nam,,national\n"
        "bad code,Công đoàn,TLD,upper\n"  # 4: invalid code
        "HT,,TLD,province\n"  # 5: empty name
        "NH,Công đoàn Ngân hàng Việt Nam,TLD,bank\n"  # 6: unknown level
        "NA,LĐLĐ tỉnh Nghệ An,TLD,province\n"  # 7: duplicate of line 2
        "DK,Công đoàn Dầu khí Việt Nam\n"  # 8: column count
    )
    problems = problems_of(content)
    assert [p.line for p in problems] == [2, 4, 5, 6, 7, 8]
    assert problems == sorted(problems, key=lambda p: p.line)


def test_error_is_an_input_error_with_a_summary() -> None:
    with pytest.raises(InputError) as caught:
        parse_units_csv(BASE + "NA,,TLD,tinh\n", {})
    error = caught.value
    assert isinstance(error, UnitImportError)
    assert len(error.problems) == 2
    assert error.text.count == 2
    assert error.text.plural is not None


def test_every_problem_text_names_its_line() -> None:
    content = HEADER + "A,X,A,upper\nB,,Z,weird\nC,c,D\nA,dup,TLD,national\n"
    for problem in problems_of(content):
        assert problem.text.args["line"] == problem.line
        assert "{line}" in problem.text.msgid


def test_reimport_with_reparent_that_creates_cycle_is_rejected() -> None:
    existing: dict[str, str | None] = {
        "TLD": None,
        "HN": "TLD",
        "HN-LB": "HN",
        "HN-LB-MAY10": "HN-LB",
    }
    content = HEADER + ("HN-HM,LĐLĐ quận Hoàng Mai,HN,upper\nHN,LĐLĐ TP Hà Nội,HN-LB,province\n")
    problem = only_problem(content, existing)
    assert problem.line == 3
    assert problem.text.args["loop"] == "HN → HN-LB → HN"


def test_reimport_with_harmless_reparent_is_accepted() -> None:
    existing: dict[str, str | None] = {
        "TLD": None,
        "HN": "TLD",
        "TH": "TLD",
        "HN-LB": "HN",
        "HN-LB-MAY10": "HN-LB",
    }
    content = HEADER + "HN-LB,LĐLĐ quận Long Biên,TH,upper\n"
    (record,) = parse_units_csv(content, existing)
    assert record.parent_code == "TH"


def test_reimport_of_example_against_itself_is_accepted() -> None:
    content = EXAMPLE.read_text(encoding="utf-8")
    first = parse_units_csv(content, {})
    existing = {record.code: record.parent_code for record in first}
    assert parse_units_csv(content, existing) == first
