"""Tests for domain.parsing: amounts, dates, co-authors, search words and free text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.dialog import shorten
from domain.errors import InputError
from domain.parsing import (
    EARLIEST_DAY,
    MAX_BENEFIT_VND,
    MAX_COAUTHORS,
    TEXT_LIMIT,
    TITLE_LIMIT,
    CoauthorInput,
    check_coauthor_total,
    clean_text,
    normalize_search,
    parse_amount,
    parse_coauthors,
    parse_day,
    search_terms,
)
from domain.text import Day, Money, Percent, Text

TODAY = dt.date(2026, 11, 22)


def error_of(func: object, *args: object, **kwargs: object) -> Text:
    """Call ``func`` expecting an InputError and return its text."""
    assert callable(func)
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    return info.value.text


# ---------------------------------------------------------------------------
# parse_amount
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "vnd"),
    [
        ("5 tỷ", 5_000_000_000),
        ("5 ty", 5_000_000_000),
        ("5 TỶ", 5_000_000_000),
        ("5tỷ", 5_000_000_000),
        ("5 tỉ", 5_000_000_000),
        ("5 ti", 5_000_000_000),
        ("1,5 tỷ", 1_500_000_000),
        ("1.5 tỷ", 1_500_000_000),
        ("1,25 tỷ", 1_250_000_000),
        ("1,2345 tỷ", 1_234_500_000),
        ("1.500 tỷ", 1_500_000_000_000),
        ("1,500 tỷ", 1_500_000_000_000),
        ("200 triệu", 200_000_000),
        ("200tr", 200_000_000),
        ("200 tr", 200_000_000),
        ("200 trieu", 200_000_000),
        ("200 TRIỆU", 200_000_000),
        ("1 tỷ 200 triệu", 1_200_000_000),
        ("1 tỷ 200 triệu 500 nghìn", 1_200_500_000),
        ("1 tỷ 200 triệu đồng", 1_200_000_000),
        ("200 triệu 50k", 200_050_000),
        ("5 tỷ đồng", 5_000_000_000),
        ("200 triệu VND", 200_000_000),
        ("1.200.000đ", 1_200_000),
        ("1.200.000 đ", 1_200_000),
        ("1.200.000 đồng", 1_200_000),
        ("1.200.000 dong", 1_200_000),
        ("1.200.000 VND", 1_200_000),
        ("1.200.000 vnđ", 1_200_000),
        ("1.200.000₫", 1_200_000),
        ("1,200,000", 1_200_000),
        ("1 200 000", 1_200_000),
        ("1\u00a0200\u00a0000", 1_200_000),
        ("1200000", 1_200_000),
        ("1.200", 1_200),
        ("50k", 50_000),
        ("50K", 50_000),
        ("50 nghìn", 50_000),
        ("50 nghin", 50_000),
        ("50 ngàn", 50_000),
        ("50 ngan", 50_000),
        ("0,5 k", 500),
        ("1,0005 k", 1_001),
        ("1,0004 k", 1_000),
        ("  5 tỷ.  ", 5_000_000_000),
        ("khoảng 5 tỷ", 5_000_000_000),
        ("~200 triệu", 200_000_000),
        ("1", 1),
        ("1.000.000 tỷ", MAX_BENEFIT_VND),
        ("1.000.000.000.000.000", MAX_BENEFIT_VND),
    ],
)
def test_parse_amount_accepts(typed: str, vnd: int) -> None:
    result = parse_amount(typed)
    assert result == vnd
    assert type(result) is int


@pytest.mark.parametrize(
    "typed",
    [
        "Không xác định",
        "không xác định",
        "KHÔNG XÁC ĐỊNH",
        "khong xac dinh",
        "  Không xác định.  ",
        "không rõ",
        "Không rõ!",
        "chưa rõ",
        "chua ro",
        "unknown",
        "Unknown",
        "?",
        " ? ",
        "??",
    ],
)
def test_parse_amount_unknown(typed: str) -> None:
    assert parse_amount(typed) is None


NOT_UNDERSTOOD = error_of(parse_amount, "abc").msgid
NOT_POSITIVE = error_of(parse_amount, "0").msgid
TOO_LARGE = error_of(parse_amount, "2.000.000 tỷ").msgid


def test_parse_amount_messages_are_distinct() -> None:
    assert len({NOT_UNDERSTOOD, NOT_POSITIVE, TOO_LARGE}) == 3


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "abc",
        "5 tỷ tỷ",
        "5 triệu triệu",
        "5 tỷ abc",
        "abc 5 tỷ",
        "tỷ",
        "đồng",
        "1 triệu 1 tỷ",
        "1 tỷ 1500 triệu",
        "1 tỷ 200",
        "1tr5",
        "5 đồng tỷ",
        "5 đồng đồng",
        "1..2",
        "1,2,3",
        "1 2",
        "12345.678",
        "1,5",
        "5 tỷ / 3",
        "5 + 3",
        "-",
    ],
)
def test_parse_amount_rejects_not_understood(typed: str) -> None:
    text = error_of(parse_amount, typed)
    assert text.msgid == NOT_UNDERSTOOD


@pytest.mark.parametrize(
    "typed",
    ["-5", "- 5", "−5", "-5 tỷ", "âm 5", "Âm 5 triệu", "am 5", "0", "0 đồng", "0 tỷ", "0,0001 k"],
)
def test_parse_amount_rejects_negative_or_zero(typed: str) -> None:
    text = error_of(parse_amount, typed)
    assert text.msgid == NOT_POSITIVE


@pytest.mark.parametrize(
    "typed",
    ["1.000.001 tỷ", "2.000.000 tỷ", "1.000.000.000.000.001", "10000000 tỷ", "1,000,001 tỷ"],
)
def test_parse_amount_rejects_too_large(typed: str) -> None:
    text = error_of(parse_amount, typed)
    assert text.msgid == TOO_LARGE
    assert Money(MAX_BENEFIT_VND) in text.args.values()


def test_max_benefit_is_one_million_ty() -> None:
    assert MAX_BENEFIT_VND == 10**15


# ---------------------------------------------------------------------------
# parse_day
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("22/11/2026", dt.date(2026, 11, 22)),
        ("01/02/2026", dt.date(2026, 2, 1)),
        ("1/2/2026", dt.date(2026, 2, 1)),
        ("01-02-2026", dt.date(2026, 2, 1)),
        ("01.02.2026", dt.date(2026, 2, 1)),
        ("  5/6/2020  ", dt.date(2020, 6, 5)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        ("01/01/1950", EARLIEST_DAY),
    ],
)
def test_parse_day_accepts(typed: str, expected: dt.date) -> None:
    assert parse_day(typed, TODAY) == expected


BAD_FORMAT = error_of(parse_day, "abc", TODAY)
SHORT_YEAR = error_of(parse_day, "01/02/26", TODAY)
IMPOSSIBLE = error_of(parse_day, "31/02/2026", TODAY)
FUTURE = error_of(parse_day, "23/11/2026", TODAY)
TOO_EARLY = error_of(parse_day, "31/12/1949", TODAY)


def test_parse_day_messages_are_distinct() -> None:
    texts = [BAD_FORMAT, SHORT_YEAR, IMPOSSIBLE, FUTURE, TOO_EARLY]
    assert len({t.msgid for t in texts}) == len(texts)
    assert "dd/mm/yyyy" in BAD_FORMAT.msgid
    assert Day(TODAY) in BAD_FORMAT.args.values()
    assert Day(TODAY) in FUTURE.args.values()
    assert Day(EARLIEST_DAY) in TOO_EARLY.args.values()


@pytest.mark.parametrize(
    "typed",
    ["", "abc", "2026-02-01", "1/2-2026", "01/02", "1/2/2026/3", "001/02/2026", "1 tháng 2"],
)
def test_parse_day_rejects_format(typed: str) -> None:
    assert error_of(parse_day, typed, TODAY).msgid == BAD_FORMAT.msgid


@pytest.mark.parametrize("typed", ["01/02/26", "1/2/26", "01-02-202", "01.02.20261"])
def test_parse_day_rejects_short_year(typed: str) -> None:
    assert error_of(parse_day, typed, TODAY).msgid == SHORT_YEAR.msgid


@pytest.mark.parametrize(
    "typed", ["31/02/2026", "00/13/2026", "29/02/2025", "32/01/2020", "1/0/2020"]
)
def test_parse_day_rejects_impossible(typed: str) -> None:
    assert error_of(parse_day, typed, TODAY).msgid == IMPOSSIBLE.msgid


@pytest.mark.parametrize("typed", ["23/11/2026", "01/01/2027", "22/11/2099"])
def test_parse_day_rejects_future(typed: str) -> None:
    assert error_of(parse_day, typed, TODAY).msgid == FUTURE.msgid


@pytest.mark.parametrize("typed", ["31/12/1949", "01/01/1900", "01/01/0001"])
def test_parse_day_rejects_too_early(typed: str) -> None:
    assert error_of(parse_day, typed, TODAY).msgid == TOO_EARLY.msgid


# ---------------------------------------------------------------------------
# Co-authors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "share"),
    [
        ("Nguyễn Văn B 30%", "Nguyễn Văn B", Decimal("30")),
        ("Nguyễn Văn B - 30%", "Nguyễn Văn B", Decimal("30")),
        ("Nguyễn Văn B – 30%", "Nguyễn Văn B", Decimal("30")),
        ("Nguyễn Văn B (30%)", "Nguyễn Văn B", Decimal("30")),
        ("Nguyễn Văn B (30 %)", "Nguyễn Văn B", Decimal("30")),
        ("Trần Thị C: 12,5%", "Trần Thị C", Decimal("12.5")),
        ("Trần Thị C 12.5 %", "Trần Thị C", Decimal("12.5")),
        ("Trần Thị C 12,50%", "Trần Thị C", Decimal("12.5")),
        ("Trần Thị C 0,25%", "Trần Thị C", Decimal("0.25")),
        ("Trần Thị C 100%", "Trần Thị C", Decimal("100")),
        ("Lê Văn D", "Lê Văn D", None),
        ("  Lê   Văn\tD  ", "Lê Văn D", None),
        ("- Lê Văn D", "Lê Văn D", None),
        ("1. Lê Văn D 40%", "Lê Văn D", Decimal("40")),
    ],
)
def test_parse_coauthors_single(typed: str, name: str, share: Decimal | None) -> None:
    result = parse_coauthors(typed)
    assert result == [CoauthorInput(name=name, share=share)]
    if share is not None:
        got = result[0].share
        assert got is not None
        assert str(got) == str(share)


def test_parse_coauthors_lines_and_semicolons() -> None:
    typed = "Nguyễn Văn B 30%\r\nTrần Thị C: 12,5%; Lê Văn D\n\n  \nPhạm Thị E (10%)"
    assert parse_coauthors(typed) == [
        CoauthorInput("Nguyễn Văn B", Decimal("30")),
        CoauthorInput("Trần Thị C", Decimal("12.5")),
        CoauthorInput("Lê Văn D", None),
        CoauthorInput("Phạm Thị E", Decimal("10")),
    ]


def test_coauthor_input_is_frozen() -> None:
    coauthor = CoauthorInput("Lê Văn D", None)
    with pytest.raises(AttributeError):
        coauthor.name = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("typed", "entry"),
    [
        ("123", "123"),
        ("12 34", "12 34"),
        ("Lê Văn D\n!!!", "!!!"),
        ("A", "A"),
        ("A 30%", "A 30%"),
        ("x" * 101, "x" * 79 + "…"),
        ("Nguyễn Văn B 0%", "Nguyễn Văn B 0%"),
        ("Nguyễn Văn B 101%", "Nguyễn Văn B 101%"),
        ("Nguyễn Văn B 12,345%", "Nguyễn Văn B 12,345%"),
        ("Nguyễn Văn B 30", "Nguyễn Văn B 30"),
        ("30% Nguyễn Văn B", "30% Nguyễn Văn B"),
        ("Lê Văn D; Nguyễn Văn B 30% Trần Thị C 20%", "Nguyễn Văn B 30% Trần Thị C 20%"),
    ],
)
def test_parse_coauthors_rejects_entry(typed: str, entry: str) -> None:
    text = error_of(parse_coauthors, typed)
    assert text.args.get("entry") == entry
    assert isinstance(text.args["entry"], str)


def test_parse_coauthors_entry_messages_are_distinct() -> None:
    cases = [
        "123",  # no letter
        "A",  # too short
        "Nguyễn Văn B 0%",  # share out of range
        "Nguyễn Văn B 12,345%",  # too many decimals
        "Nguyễn Văn B 30",  # missing %
        "30% Nguyễn Văn B",  # unreadable
    ]
    msgids = {error_of(parse_coauthors, typed).msgid for typed in cases}
    assert len(msgids) == len(cases)
    long_name = error_of(parse_coauthors, "x" * 101)
    assert long_name.msgid == error_of(parse_coauthors, "A").msgid
    assert long_name.args["minimum"] == 2
    assert long_name.args["maximum"] == 100


@pytest.mark.parametrize("typed", ["", "   ", "\n\n", " ; ;\n"])
def test_parse_coauthors_rejects_empty(typed: str) -> None:
    text = error_of(parse_coauthors, typed)
    assert "entry" not in text.args


def test_parse_coauthors_checks_its_own_total() -> None:
    text = error_of(parse_coauthors, "Nguyễn Văn B 60%\nTrần Thị C 50%")
    assert Percent(Decimal("110")) in text.args.values()
    text = error_of(parse_coauthors, "Nguyễn Văn B\nnguyen van b")
    assert text.args["entry"] == "nguyen van b"
    names = "\n".join(f"Người số {chr(ord('A') + i)}" for i in range(MAX_COAUTHORS + 1))
    text = error_of(parse_coauthors, names)
    assert text.args["maximum"] == MAX_COAUTHORS


def _people(count: int, share: Decimal | None = None) -> list[CoauthorInput]:
    """Make ``count`` co-authors with distinct names."""
    return [CoauthorInput(f"Người {chr(ord('A') + i)} {i}", share) for i in range(count)]


def test_check_coauthor_total_accepts() -> None:
    check_coauthor_total([], [])
    check_coauthor_total(_people(10), _people(MAX_COAUTHORS)[10:])
    check_coauthor_total(
        [CoauthorInput("Nguyễn Văn B", Decimal("50"))],
        [CoauthorInput("Trần Thị C", Decimal("30")), CoauthorInput("Lê Văn D", Decimal("20"))],
    )


def test_check_coauthor_total_too_many() -> None:
    everyone = _people(MAX_COAUTHORS + 1)
    text = error_of(check_coauthor_total, everyone[:5], everyone[5:])
    assert text.args["maximum"] == MAX_COAUTHORS


def test_check_coauthor_total_shares_over_100() -> None:
    text = error_of(
        check_coauthor_total,
        [CoauthorInput("Nguyễn Văn B", Decimal("60"))],
        [CoauthorInput("Trần Thị C", Decimal("40.5")), CoauthorInput("Lê Văn D", None)],
    )
    assert text.args["total"] == Percent(Decimal("100.5"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Nguyễn Văn B", "nguyen van b"),
        ("Nguyễn Văn B", "NGUYỄN VĂN B"),
        ("Đỗ Thị E", "do thi e"),
        ("Lê Văn D", "Lê Văn D"),
    ],
)
def test_check_coauthor_total_repeated_name(old: str, new: str) -> None:
    text = error_of(
        check_coauthor_total, [CoauthorInput(old, None)], [CoauthorInput(new, Decimal("10"))]
    )
    assert text.args["entry"] == new


def test_check_coauthor_total_messages_are_distinct() -> None:
    too_many = error_of(check_coauthor_total, [], _people(MAX_COAUTHORS + 1))
    over = error_of(check_coauthor_total, [], _people(2, Decimal("60")))
    twice = error_of(check_coauthor_total, _people(1), _people(1))
    assert len({too_many.msgid, over.msgid, twice.msgid}) == 3


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Công ty May 10", "cong ty may 10"),
        ("LĐLĐ tỉnh Thanh Hóa", "ldld tinh thanh hoa"),
        ("  Công đoàn   cơ sở — Trường THPT Lê Lợi!  ", "cong doan co so truong thpt le loi"),
        ("Điện lực Hà Nội", "dien luc ha noi"),
        ("Thanh Hoá", "thanh hoa"),
        ("nguyễn_văn-b", "nguyen van b"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_normalize_search(typed: str, expected: str) -> None:
    assert normalize_search(typed) == expected


def test_normalize_search_decomposed_input() -> None:
    import unicodedata

    assert normalize_search(unicodedata.normalize("NFD", "Thanh Hóa")) == "thanh hoa"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Công ty May 10", ["cong", "ty", "may", "10"]),
        ("may MAY Máy, 10 ", ["may", "10"]),
        ("  ", []),
        ("LĐLĐ, ldld; Thanh Hóa", ["ldld", "thanh", "hoa"]),
    ],
)
def test_search_terms(typed: str, expected: list[str]) -> None:
    assert search_terms(typed) == expected


# ---------------------------------------------------------------------------
# clean_text
# ---------------------------------------------------------------------------


def test_limits() -> None:
    assert TITLE_LIMIT == 200
    assert TEXT_LIMIT == 4000


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Tiết kiệm điện  ", "Tiết kiệm điện"),
        ("Dòng 1\r\nDòng 2\r\n", "Dòng 1\nDòng 2"),
        ("Dòng 1\rDòng 2", "Dòng 1\nDòng 2"),
        ("\n\tCó nội dung\n\n", "Có nội dung"),
        ("x" * TITLE_LIMIT, "x" * TITLE_LIMIT),
        ("  " + "x" * TITLE_LIMIT + "  ", "x" * TITLE_LIMIT),
    ],
)
def test_clean_text_accepts(typed: str, expected: str) -> None:
    assert clean_text(typed, limit=TITLE_LIMIT) == expected


EMPTY_TEXT = error_of(clean_text, None, limit=TITLE_LIMIT)


@pytest.mark.parametrize("typed", [None, "", "   ", "\r\n\t "])
def test_clean_text_rejects_empty(typed: str | None) -> None:
    assert error_of(clean_text, typed, limit=TITLE_LIMIT).msgid == EMPTY_TEXT.msgid


def test_clean_text_rejects_too_long() -> None:
    text = error_of(clean_text, "x" * (TITLE_LIMIT + 1), limit=TITLE_LIMIT)
    assert text.msgid != EMPTY_TEXT.msgid
    assert text.args["limit"] == TITLE_LIMIT
    assert text.args["length"] == TITLE_LIMIT + 1
    assert clean_text("x" * TEXT_LIMIT, limit=TEXT_LIMIT) == "x" * TEXT_LIMIT
    assert error_of(clean_text, "x" * (TEXT_LIMIT + 1), limit=TEXT_LIMIT).args["limit"] == (
        TEXT_LIMIT
    )


def test_clean_text_counts_crlf_as_one_character() -> None:
    typed = "x" * (TITLE_LIMIT - 2) + "\r\n" + "y"
    assert clean_text(typed, limit=TITLE_LIMIT) == "x" * (TITLE_LIMIT - 2) + "\ny"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Gá cắt chỉ thừa", "Gá cắt chỉ thừa"),
        ("Gá cắt chỉ thừa tự động cho máy may", "Gá cắt chỉ thừa tự…"),
        ("Giảm thời gian, tiết kiệm điện", "Giảm thời gian…"),
        ("x" * 30, "x" * 19 + "…"),
        ("Ab " + "x" * 30, "Ab " + "x" * 16 + "…"),
    ],
)
def test_a_long_title_is_cut_at_a_word_end(text: str, shown: str) -> None:
    assert shorten(text, 20) == shown
