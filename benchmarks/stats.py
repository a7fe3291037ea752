"""Scale benchmark: /stats and /top on a national-size data set, and the cost without counters.

Per database engine (SQLite always, PostgreSQL when reachable), on a new, migrated, empty
database (no ``examples/units.csv``):

1. Generation, directly with SQLAlchemy Core bulk inserts (not through the bot):
   SQLite through a synchronous SQLAlchemy connection on the same file
   (``exec_driver_sql`` executemany, 50.000 rows a batch, foreign keys off and
   ``synchronous=OFF`` for the load only); PostgreSQL through asyncpg's
   ``copy_records_to_table`` on the raw connection of the SQLAlchemy engine, with
   ``session_replication_role = replica`` (no per-row foreign-key triggers; the data is
   consistent by construction), sequences moved past the explicit ids, then
   ``VACUUM ANALYZE`` as autovacuum would do after such a load.  The data:

   * 100.000 units: ``TLD`` (national), 63 provinces and 20 central sector unions under
     it, 700 upper-level units spread over those 83 (bigger provinces get more), the
     rest grassroots under the upper units, skewed (some upper units have 1.000+);
   * phase ``GD2`` 01/06/2022–30/09/2023, national target 1.000.000, made with
     ``domain.progress.add_phase``;
   * a target for every unit: grassroots 10–60, above: the children's sum × 0,9–1,3;
   * members: in every grassroots unit about one per 4 of its initiatives (units with
     none get 0–2), joined (``unit_id``, ``full_name``), Telegram ids that never talk;
   * 2.000.000 initiatives (``--quick``: 200.000) in grassroots units, the unit of each
     drawn from a log-normal weight per unit (10 % of the units have none, the busiest
     have hundreds of times the median), authors skewed within their unit, ids in
     submission order (a unit's initiatives are scattered over the table); statuses
     70 % approved, 15 % pending, 5 % returned, 10 % rejected; all with ``phase_id``;
     ``benefit_vnd`` log-normal (median ≈ 3,3 million đồng) or null for 25 %;
     ``submitted_at`` within the phase; no co-authors;
   * ``participants``: one row per (grassroots unit, phase, ``m:<author id>``) with the
     author's number of approved initiatives (> 0);
   * then the roll-ups with the bot's own code: ``rebuild_closure()`` and
     ``rebuild_counts()`` in one unit of work (``SqlUnitOfWorkFactory``).

   Every step is timed.

2. Through the REAL ``Application`` (``bot.app.build_application``) with the fake Bot
   API of ``benchmarks.fakeapi`` (as ``benchmarks.dialog`` does), the bot's clock set to
   20/09/2023 (inside the phase): ``/stats`` and ``/top`` as text updates from five
   people: a joined member of the busiest grassroots unit, and admins (``roles`` rows,
   kind ``admin``) of the national unit, the largest province, the largest upper-level
   unit and the busiest grassroots unit (each admin is also a joined member of a
   grassroots unit below their own).  Per person and command: 2 unmeasured warm-up
   updates, then 50 (``--quick``: 20) sequential ones (at most 60 s each series);
   latency = put on ``application.update_queue`` → the update processor finished it.
   Each answer must contain "%"; one that does not (e.g. "unknown command" before
   ``domain/stats.py`` existed) is counted in ``answers_without_percent``.

3. The same figures without counters: approved / pending / returned counts and the
   approved benefit per top-level (province and sector) unit, by one GROUP BY over the
   whole ``initiatives`` table joined to ``unit_ancestors`` (3 runs, the median is
   ``groupby_ms``; the result is also checked against ``unit_counts``).

4. ``mismatches``: ``stored_counts()`` against ``direct_counts()`` (both the bot's own),
   rows keyed by (unit, phase); rows that are all zeros are left out on both sides
   (``direct_counts`` keeps units whose initiatives are all rejected as zero rows,
   ``stored_counts`` drops zero rows; that difference is reported as
   ``direct_zero_rows``, not as a mismatch).

The last line printed is one JSON object.  Headline keys: ``stats_p95_ms`` and
``top_p95_ms`` = the worst person (level) on the worst engine; ``groupby_ms`` = the
fastest engine's GROUP BY; ``ratio_groupby_to_stats`` = the smallest per-engine ratio
(engine GROUP BY / engine worst /stats p95); per-engine keys ``sqlite_*`` /
``postgres_*`` (null when PostgreSQL is unreachable); generation timings ``gen_*_s``.
Exit status 1 when ``mismatches`` > 0, the GROUP BY disagrees with the counters, or the
bot raised an error.

Usage: ``python -m benchmarks.stats [--quick] [--postgres-url URL] [--no-postgres]
[--keep DIR]``.  ``--keep DIR`` keeps the databases (SQLite file in DIR, PostgreSQL
database ``sangkien_stats_<units>_<initiatives>``) instead of removing them, and reuses
them on a later run of the same size when they are complete and at the current
migration (generation is then skipped and its timings are null).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import datetime as dt
import gc
import itertools
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

import benchmarks.dialog
from benchmarks.dialog import (
    DEFAULT_POSTGRES,
    Driver,
    Person,
    PhaseResult,
    _admin_execute,
    postgres_reachable,
    progress,
    running,
    say,
    silence_logging,
)
from benchmarks.fakeapi import TOKEN, FastFakeBotApi
from bot.app import build_application
from bot.settings import Settings
from domain.parsing import normalize_search
from domain.progress import add_phase
from storage.db import create_engine, current_revision, head_revision, upgrade
from storage.uow import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
STATS_MODULE = ROOT / "domain" / "stats.py"

FULL_UNITS = 100_000
QUICK_UNITS = 100_000
FULL_INITIATIVES = 2_000_000
QUICK_INITIATIVES = 200_000
PROVINCE_COUNT = 63
SECTOR_COUNT = 20
UPPER_COUNT = 700
FULL_REPEATS = 50
QUICK_REPEATS = 20
WARMUP = 2
SERIES_BUDGET_S = 60.0
GROUPBY_RUNS = 3
BATCH = 50_000
SEED = 20220601

PHASE_CODE = "GD2"
PHASE_NAME = "Giai đoạn 2 (2022–2023)"
PHASE_START = dt.date(2022, 6, 1)
PHASE_END = dt.date(2023, 9, 30)
PHASE_TARGET = 1_000_000
# The bot's clock: inside the phase, so "days left" and the current phase are real.
BOT_NOW = dt.datetime(2023, 9, 20, 3, 0, tzinfo=dt.UTC)
LOAD_TIME = dt.datetime(2022, 5, 20, 1, 0, tzinfo=dt.UTC)

TELEGRAM_BASE = 5_000_000_000  # external ids of generated members (they never talk)
MEASURED_BASE = 41_000_001  # Telegram ids of the measured people
STATUS_CUTS = ((0.70, "approved"), (0.85, "pending"), (0.90, "returned"), (1.01, "rejected"))
NULL_BENEFIT = 0.25
ZERO_UNITS = 0.10

# -- names -------------------------------------------------------------------------

PROVINCES = (
    ("HN", "TP Hà Nội", 9), ("HCM", "TP Hồ Chí Minh", 9), ("HP", "TP Hải Phòng", 3),
    ("DNG", "TP Đà Nẵng", 2), ("CT", "TP Cần Thơ", 2), ("AG", "An Giang", 1),
    ("BRVT", "Bà Rịa - Vũng Tàu", 2), ("BG", "Bắc Giang", 2), ("BK", "Bắc Kạn", 1),
    ("BL", "Bạc Liêu", 1), ("BN", "Bắc Ninh", 3), ("BTR", "Bến Tre", 1),
    ("BDI", "Bình Định", 1), ("BD", "Bình Dương", 5), ("BP", "Bình Phước", 1),
    ("BTH", "Bình Thuận", 1), ("CM", "Cà Mau", 1), ("CB", "Cao Bằng", 1),
    ("DLK", "Đắk Lắk", 1), ("DNO", "Đắk Nông", 1), ("DB", "Điện Biên", 1),
    ("DNA", "Đồng Nai", 4), ("DT", "Đồng Tháp", 1), ("GL", "Gia Lai", 1),
    ("HG", "Hà Giang", 1), ("HNA", "Hà Nam", 1), ("HT", "Hà Tĩnh", 1),
    ("HD", "Hải Dương", 2), ("HGI", "Hậu Giang", 1), ("HB", "Hòa Bình", 1),
    ("HY", "Hưng Yên", 2), ("KH", "Khánh Hòa", 1), ("KG", "Kiên Giang", 1),
    ("KT", "Kon Tum", 1), ("LCH", "Lai Châu", 1), ("LD", "Lâm Đồng", 1),
    ("LS", "Lạng Sơn", 1), ("LCA", "Lào Cai", 1), ("LA", "Long An", 2),
    ("ND", "Nam Định", 1), ("NA", "Nghệ An", 2), ("NB", "Ninh Bình", 1),
    ("NT", "Ninh Thuận", 1), ("PT", "Phú Thọ", 1), ("PY", "Phú Yên", 1),
    ("QB", "Quảng Bình", 1), ("QNA", "Quảng Nam", 1), ("QNG", "Quảng Ngãi", 1),
    ("QN", "Quảng Ninh", 2), ("QT", "Quảng Trị", 1), ("ST", "Sóc Trăng", 1),
    ("SL", "Sơn La", 1), ("TN", "Tây Ninh", 1), ("TB", "Thái Bình", 1),
    ("TNG", "Thái Nguyên", 2), ("TH", "Thanh Hóa", 2), ("TTH", "Thừa Thiên Huế", 1),
    ("TG", "Tiền Giang", 1), ("TV", "Trà Vinh", 1), ("TQ", "Tuyên Quang", 1),
    ("VL", "Vĩnh Long", 1), ("VP", "Vĩnh Phúc", 2), ("YB", "Yên Bái", 1),
)  # fmt: skip
SECTORS = (
    ("CDVC", "Công đoàn Viên chức Việt Nam"), ("CDGD", "Công đoàn Giáo dục Việt Nam"),
    ("CDYT", "Công đoàn Y tế Việt Nam"), ("CDCTH", "Công đoàn Công Thương Việt Nam"),
    ("CDXD", "Công đoàn Xây dựng Việt Nam"),
    ("CDGT", "Công đoàn Giao thông Vận tải Việt Nam"),
    ("CDNN", "Công đoàn Nông nghiệp và Phát triển nông thôn Việt Nam"),
    ("CDNH", "Công đoàn Ngân hàng Việt Nam"), ("CDDK", "Công đoàn Dầu khí Việt Nam"),
    ("CDDL", "Công đoàn Điện lực Việt Nam"), ("CDTKV", "Công đoàn Than - Khoáng sản Việt Nam"),
    ("CDCS", "Công đoàn Cao su Việt Nam"), ("CDDM", "Công đoàn Dệt May Việt Nam"),
    ("CDBD", "Công đoàn Bưu điện Việt Nam"),
    ("CDTT", "Công đoàn Thông tin và Truyền thông Việt Nam"),
    ("CDHK", "Công đoàn Hàng không Việt Nam"), ("CDDS", "Công đoàn Đường sắt Việt Nam"),
    ("CDQP", "Công đoàn Quốc phòng"), ("CDCA", "Công đoàn Công an nhân dân"),
    ("CDTC", "Công đoàn Tài chính Việt Nam"),
)  # fmt: skip
assert len(PROVINCES) == PROVINCE_COUNT and len(SECTORS) == SECTOR_COUNT
CITIES = {"HN", "HCM", "HP", "DNG", "CT"}
PLACE_A = ("Thanh", "Yên", "Đông", "Tây", "Nam", "Bắc", "Phú", "Vĩnh", "Hòa", "An", "Tân",
           "Quảng", "Kim", "Hưng", "Long", "Bình", "Gia", "Thạch", "Lục", "Tam", "Cẩm", "Đức",
           "Hoài", "Mỹ", "Quế", "Triệu", "Diễn", "Nghĩa", "Hải", "Sơn")  # fmt: skip
PLACE_B = ("Sơn", "Lạc", "Anh", "Hà", "Bình", "Yên", "Thành", "Xuân", "Lộc", "Phong", "Hưng",
           "Định", "Hải", "Thủy", "Lâm", "Điền", "Ninh", "Trì", "Hòa", "Mỹ", "Châu", "Giang",
           "Khê", "Phước", "Thịnh", "Tiến", "Lợi", "Trung", "Đà", "Vân")  # fmt: skip
UPPER_KINDS = ("LĐLĐ huyện {place}", "LĐLĐ huyện {place}", "LĐLĐ huyện {place}",
               "LĐLĐ quận {place}", "LĐLĐ thị xã {place}", "LĐLĐ thành phố {place}",
               "Công đoàn các Khu công nghiệp {province}", "Công đoàn ngành Giáo dục {province}",
               "Công đoàn ngành Y tế {province}", "Công đoàn Viên chức {province}",
               "Công đoàn ngành Xây dựng {province}")  # fmt: skip
SECTOR_UPPER_KINDS = ("Công đoàn Tổng Công ty {brand}", "Công đoàn Tập đoàn {brand}",
                      "Công đoàn Công ty {brand}", "Công đoàn cơ quan {sector}")  # fmt: skip
BRAND_A = ("Hòa", "Minh", "Sao", "Thành", "Việt", "Đại", "Phú", "Hưng", "Tân", "Kim", "Long",
           "Trường", "Hoàng", "Nam", "Bảo", "Thiên", "An", "Đông", "Quốc", "Hải")  # fmt: skip
BRAND_B = ("Phát", "Long", "Việt", "Thịnh", "Tiến", "Hưng", "Thành", "Lợi", "Nam", "Phong",
           "Tín", "Đạt", "Khang", "Minh", "Gia", "Sơn", "Hà", "Á", "Mỹ", "Lộc")  # fmt: skip
INDUSTRIES = ("May mặc", "Cơ khí", "Da giày", "Điện tử", "Thực phẩm", "Xây dựng", "Vận tải",
              "Nhựa", "Gỗ", "Thủy sản", "Dệt", "Bao bì", "Thép", "Xi măng",
              "Dược phẩm")  # fmt: skip
GRASSROOTS_KINDS = (
    "CĐCS Công ty TNHH {brand} {industry}", "CĐCS Công ty TNHH {brand} {industry}",
    "CĐCS Công ty CP {industry} {brand}", "CĐCS Công ty CP {brand}",
    "CĐCS Trường Tiểu học {place}", "CĐCS Trường THCS {place}", "CĐCS Trường THPT {place}",
    "CĐCS Trường Mầm non {place}", "CĐCS UBND xã {place}", "CĐCS Trạm Y tế xã {place}",
    "CĐCS Bệnh viện đa khoa {place}", "CĐCS Chi nhánh {brand} {place}",
    "CĐCS Hợp tác xã {industry} {place}", "CĐCS Xí nghiệp {industry} số {number}",
)  # fmt: skip
FAMILY = (("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4),
          ("Phan", 4), ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2),
          ("Ngô", 2), ("Dương", 1), ("Lý", 1))  # fmt: skip
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Hữu", "Quang", "Thu", "Hồng", "Xuân",
          "Kim", "Văn", "Thị", "Anh", "Hoài")  # fmt: skip
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
         "Huy", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phong", "Phương",
         "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Vân", "Yến")  # fmt: skip
TITLE_VERBS = ("Cải tiến", "Thiết kế", "Chế tạo", "Áp dụng", "Tối ưu hóa", "Số hóa",
               "Hợp lý hóa", "Tự động hóa", "Giảm thời gian", "Nâng cao hiệu quả")  # fmt: skip
TITLE_OBJECTS = ("giá treo cuộn chỉ xoay cho chuyền may", "bộ dẫn hướng máy cắt vải",
                 "quy trình kiểm tra chất lượng đầu ra", "hệ thống chiếu sáng nhà xưởng",
                 "khuôn ép nhựa hai lòng", "sổ theo dõi bảo dưỡng thiết bị",
                 "quy trình tiếp nhận hồ sơ một cửa", "băng tải phân loại sản phẩm",
                 "bàn thao tác công thái học", "cách sắp xếp kho vật tư",
                 "phần mềm quản lý ca kíp", "bộ gá hàn thép hộp",
                 "hệ thống thu hồi nước làm mát", "biểu mẫu báo cáo điện tử",
                 "thiết bị cảnh báo quá tải cầu trục")  # fmt: skip
PROBLEMS = (
    "Công nhân phải cúi người thay cuộn chỉ, mất khoảng 5 phút mỗi lần, 8 lần mỗi ca; "
    "dừng máy nhiều làm chậm cả chuyền và gây đau lưng.",
    "Tổ cắt phải cắt tay từng lớp vải, mỗi ca mất khoảng 2 giờ và hao hụt 5% vải; "
    "sai số kích thước làm công đoạn may phải sửa lại.",
    "Hồ sơ được nhận bằng giấy, phải nhập lại vào máy tính nhiều lần; người dân chờ lâu, "
    "cán bộ dễ nhầm lẫn và khó tra cứu khi cần.",
    "Thiết bị hỏng đột xuất vì không có lịch bảo dưỡng rõ ràng, mỗi tháng dừng sản xuất "
    "trung bình 6 giờ, chi phí sửa chữa lớn.",
    "Kho vật tư sắp xếp lộn xộn, tìm một mã hàng mất 10–15 phút; hàng tồn lâu bị hỏng "
    "mà không ai phát hiện.",
)  # fmt: skip
SOLUTIONS = (
    "Làm giá treo xoay bằng thép tận dụng, lắp cạnh máy, thay cuộn chỉ trong 1 phút mà "
    "không phải cúi; chi phí mỗi giá khoảng 150 nghìn đồng.",
    "Lắp bộ dẫn hướng và dao cắt tự động, một công nhân vận hành cho cả tổ; có vạch "
    "chuẩn để căn lớp vải nhanh và đều.",
    "Dùng biểu mẫu điện tử dùng chung, dữ liệu nhập một lần và tự chuyển sang các bộ "
    "phận; có mã tra cứu cho người nộp.",
    "Lập sổ bảo dưỡng theo giờ chạy máy, dán mã QR trên từng thiết bị, tổ trưởng kiểm "
    "tra hằng tuần và báo cáo khi có bất thường.",
    "Đánh mã vị trí cho từng kệ, sắp xếp theo tần suất xuất kho, kiểm kê theo nguyên tắc "
    "nhập trước xuất trước.",
)  # fmt: skip
EFFECTS = (
    "Tiết kiệm 1,5 giờ mỗi ca, giảm hao hụt vật tư, an toàn hơn cho công nhân.",
    "Giảm thời gian dừng máy, đỡ đau lưng cho công nhân, năng suất tăng khoảng 8%.",
    "Rút ngắn thời gian xử lý hồ sơ từ 3 ngày xuống 1 ngày, người dân hài lòng hơn.",
    "Giảm 70% số lần hỏng đột xuất, tiết kiệm chi phí sửa chữa hằng năm.",
    "Tìm hàng trong 2 phút, giảm hàng tồn hỏng, kiểm kê nhanh gấp đôi.",
)  # fmt: skip
KINDS = ("technical", "technical", "technical", "management", "operational", "technology",
         "other")  # fmt: skip
FIELDS = ("production", "production", "safety", "cost", "quality", "service", "digital",
          "other")  # fmt: skip


# -- the data set ------------------------------------------------------------------


@dataclass
class Tree:
    """The generated unit tree, the per-unit activity and the measured people."""

    units: list[tuple[int, str, str, str, int | None, str]]  # id, code, name, level, parent, text
    parent: dict[int, int | None]
    level: dict[int, str]
    grassroots: list[int]
    weights: list[float]  # per grassroots unit, same order
    cum_weights: list[float]
    members_of: list[int]  # per grassroots unit: how many members
    first_member: list[int]  # per grassroots unit: id of its first member
    member_count: int
    targets: dict[int, int]
    national: int
    province: int
    upper: int
    busiest: int
    initiatives: int


Tops = list[tuple[int, str, str, float]]  # id, code, short name, size
Uppers = list[tuple[int, str]]  # id, code


@dataclass
class _Units:
    """The units as they are added, each with the search text of its chain of parents."""

    rows: list[tuple[int, str, str, str, int | None, str]] = field(default_factory=list)
    parent: dict[int, int | None] = field(default_factory=dict)
    level: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, code: str, name: str, lvl: str, parent_id: int | None) -> int:
        unit_id = next(self.ids)
        chain, up = [name], parent_id
        while up is not None:
            chain.append(self.names[up])
            up = self.parent[up]
        self.rows.append((unit_id, code, name, lvl, parent_id, normalize_search(" | ".join(chain))))
        self.parent[unit_id], self.level[unit_id], self.names[unit_id] = parent_id, lvl, name
        return unit_id


def _place(rng: random.Random) -> str:
    return f"{rng.choice(PLACE_A)} {rng.choice(PLACE_B)}"


def _brand(rng: random.Random) -> str:
    return f"{rng.choice(BRAND_A)} {rng.choice(BRAND_B)}"


def _add_tops(units: _Units, national: int) -> Tops:
    """The provinces and the national sectors under the national union."""
    tops: Tops = []
    for code, name, size in PROVINCES:
        full = f"LĐLĐ {name}" if code in CITIES else f"LĐLĐ tỉnh {name}"
        tops.append((units.add(code, full, "province", national), code, name, size * 1.0))
    for code, name in SECTORS:
        tops.append((units.add(code, name, "sector", national), code, name, 1.5))
    return tops


def _uppers_per_top(tops: Tops, unit_total: int) -> list[int]:
    """At least 2 upper-level units per top-level unit, the rest in proportion to size."""
    upper_total = min(UPPER_COUNT, max(len(tops) * 2, (unit_total - 1 - len(tops)) // 20))
    total_size = sum(t[3] for t in tops)
    per_top = [2 + int((upper_total - 2 * len(tops)) * t[3] / total_size) for t in tops]
    for index in range(upper_total - sum(per_top)):
        per_top[index % len(per_top)] += 1
    return per_top


def _add_uppers(units: _Units, tops: Tops, per_top: list[int], rng: random.Random) -> Uppers:
    uppers: Uppers = []
    for (top_id, top_code, top_name, _size), count in zip(tops, per_top, strict=True):
        is_sector = units.level[top_id] == "sector"
        for k in range(count):
            pattern = rng.choice(SECTOR_UPPER_KINDS if is_sector else UPPER_KINDS)
            name = pattern.format(place=_place(rng), province=top_name, brand=_brand(rng),
                                  sector=top_name.removeprefix("Công đoàn ").strip())  # fmt: skip
            code = f"{top_code}-U{k + 1:02d}"
            uppers.append((units.add(code, name, "upper", top_id), code))
    return uppers


def _add_grassroots(
    units: _Units, uppers: Uppers, grassroots_total: int, rng: random.Random
) -> list[int]:
    """Grassroots units under the upper ones, skewed: some upper units hold 1.000+."""
    upper_weights = [rng.lognormvariate(0, 0.9) for _ in uppers]
    cum = list(itertools.accumulate(upper_weights))
    counts = [0] * len(uppers)
    for _ in range(grassroots_total):
        counts[bisect.bisect(cum, rng.random() * cum[-1])] += 1
    grassroots: list[int] = []
    for (upper_id, upper_code), count in zip(uppers, counts, strict=True):
        for k in range(count):
            name = rng.choice(GRASSROOTS_KINDS).format(
                brand=_brand(rng), industry=rng.choice(INDUSTRIES), place=_place(rng),
                number=rng.randint(1, 30))  # fmt: skip
            grassroots.append(units.add(f"{upper_code}-{k + 1:04d}", name, "grassroots", upper_id))
    return grassroots


def _members_layout(
    weights: list[float], cum_weights: list[float], initiatives: int, rng: random.Random
) -> tuple[list[int], list[int], int]:
    """Per grassroots unit: how many members and the id of its first; and the members in all."""
    scale = initiatives / cum_weights[-1]
    members_of, first_member = [], []
    next_member = 1
    for w in weights:
        count = max(1, math.ceil(w * scale / 4)) if w else rng.randint(0, 2)
        members_of.append(count)
        first_member.append(next_member)
        next_member += count
    return members_of, first_member, next_member - 1


def _targets(
    units: _Units, grassroots: list[int], national: int, rng: random.Random
) -> dict[int, int]:
    """Grassroots 10-60, above: the children's sum x 0.9-1.3."""
    targets: dict[int, int] = {g: rng.randint(10, 60) for g in grassroots}
    sums: Counter[int] = Counter()
    for lvl in ("grassroots", "upper", "province"):  # children before parents
        for unit_id, _c, _n, unit_level, parent_id, _t in units.rows:
            if unit_level == lvl or (lvl == "province" and unit_level == "sector"):
                if unit_level != "grassroots":
                    targets[unit_id] = max(1, round(sums[unit_id] * rng.uniform(0.9, 1.3)))
                assert parent_id is not None
                sums[parent_id] += targets[unit_id]
    targets[national] = max(1, round(sums[national] * rng.uniform(0.9, 1.3)))
    return targets


def _busiest_upper_and_province(
    units: _Units, tops: Tops, uppers: Uppers, grassroots: list[int], weights: list[float]
) -> tuple[int, int]:
    """The upper-level unit and the province whose grassroots units are the most active."""
    load: dict[int, float] = defaultdict(float)
    for g, w in zip(grassroots, weights, strict=True):
        up = units.parent[g]
        assert up is not None
        load[up] += w
        load[units.parent[up] or 0] += w
    upper = max((u for u, _ in uppers), key=load.__getitem__)
    province = max((t[0] for t in tops if units.level[t[0]] == "province"), key=load.__getitem__)
    return upper, province


def build_tree(unit_total: int, initiatives: int, rng: random.Random) -> Tree:
    """Units, weights, members layout and targets; no database."""
    units = _Units()
    national = units.add("TLD", "Tổng Liên đoàn Lao động Việt Nam", "national", None)
    tops = _add_tops(units, national)
    uppers = _add_uppers(units, tops, _uppers_per_top(tops, unit_total), rng)
    grassroots = _add_grassroots(units, uppers, unit_total - len(units.rows), rng)
    # Activity: log-normal weights, 10 % of the grassroots units never submit.
    weights = [0.0 if rng.random() < ZERO_UNITS else rng.lognormvariate(0, 1.3)
               for _ in grassroots]  # fmt: skip
    cum_weights = list(itertools.accumulate(weights))
    members_of, first_member, member_count = _members_layout(weights, cum_weights, initiatives, rng)
    targets = _targets(units, grassroots, national, rng)
    # The measured units: the busiest grassroots unit, the largest upper and province.
    busiest_index = max(range(len(grassroots)), key=weights.__getitem__)
    upper, province = _busiest_upper_and_province(units, tops, uppers, grassroots, weights)
    return Tree(units.rows, units.parent, units.level, grassroots, weights, cum_weights,
                members_of, first_member, member_count, targets, national, province, upper,
                grassroots[busiest_index], initiatives)  # fmt: skip


def _full_name(rng: random.Random) -> str:
    family = rng.choices([f for f, _ in FAMILY], [w for _, w in FAMILY])[0]
    return f"{family} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def member_rows(tree: Tree, stamp: Callable[[dt.datetime], Any]) -> Iterator[list[tuple[Any, ...]]]:
    """(id, channel, external_id, display_name, language, full_name, phone, unit_id,
    created_at, updated_at) in batches."""
    rng = random.Random(SEED + 1)
    created = stamp(LOAD_TIME)
    batch: list[tuple[Any, ...]] = []
    for g, count, first in zip(tree.grassroots, tree.members_of, tree.first_member, strict=True):
        for member_id in range(first, first + count):
            name = _full_name(rng)
            phone = f"09{rng.randint(10_000_000, 99_999_999)}" if rng.random() < 0.3 else None
            batch.append((member_id, "telegram", str(TELEGRAM_BASE + member_id),
                          name.rsplit(" ", 1)[-1], "vi", name, phone, g, created,
                          created))  # fmt: skip
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


INITIATIVE_COLUMNS = (
    "id", "author_id", "entered_by_id", "unit_id", "status", "step", "editing", "title",
    "kind", "field", "problem", "solution", "applied", "applied_since", "effect",
    "benefit_vnd", "benefit_known", "coauthors_done", "confidential", "confidential_note",
    "version", "phase_id", "created_at", "updated_at", "submitted_at",
)  # fmt: skip


def initiative_rows(
    tree: Tree,
    phase_id: int,
    stamp: Callable[[dt.datetime], Any],
    day: Callable[[dt.date], Any],
    approved_by: Counter[int],
) -> Iterator[list[tuple[Any, ...]]]:
    """Initiatives in batches, ids in submission order; counts approved ones per author."""
    rng = random.Random(SEED + 2)
    rand = rng.random
    start = dt.datetime.combine(PHASE_START, dt.time(1, 0), dt.UTC).timestamp()
    span = dt.datetime.combine(PHASE_END, dt.time(10, 0), dt.UTC).timestamp() - start
    total = tree.initiatives
    positions = range(len(tree.grassroots))
    titles = [f"{v} {o}" for v in TITLE_VERBS for o in TITLE_OBJECTS]
    from_ts = dt.datetime.fromtimestamp
    utc = dt.UTC
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        drawn = rng.choices(positions, cum_weights=tree.cum_weights, k=size)
        batch = []
        for offset, g in enumerate(drawn):
            number = done + offset + 1
            unit_id = tree.grassroots[g]
            author = tree.first_member[g] + int(tree.members_of[g] * rand() * rand())
            roll = rand()
            status = next(s for cut, s in STATUS_CUTS if roll < cut)
            if status == "approved":
                approved_by[author] += 1
            submitted = start + span * (number - rand()) / total
            decided = status != "pending"
            applied = rand() < 0.6
            known = rand() >= NULL_BENEFIT
            benefit = round(rng.lognormvariate(15, 1.2), -3) if known else None
            kind = rand()
            batch.append((
                number, author, author, unit_id, status, "summary", False,
                titles[int(kind * len(titles))], KINDS[int(rand() * len(KINDS))],
                FIELDS[int(rand() * len(FIELDS))], PROBLEMS[number % 5], SOLUTIONS[number % 5],
                applied,
                day(from_ts(submitted - 86_400 * 90 * rand(), utc).date()) if applied else None,
                EFFECTS[number % 5], int(benefit) if benefit is not None else None, known,
                True, kind < 0.02, None,
                2 if decided and kind > 0.9 else 1, phase_id,
                stamp(from_ts(submitted - 3_600 * 72 * rand(), utc)),
                stamp(from_ts(submitted + (86_400 * 20 * rand() if decided else 0), utc)),
                stamp(from_ts(submitted, utc)),
            ))  # fmt: skip
        done += size
        yield batch


def participant_rows(tree: Tree, phase_id: int, approved_by: Counter[int]) -> list[tuple[Any, ...]]:
    """(unit_id, phase_id, person, approved) for every author with an approved initiative."""
    unit_of = {}
    for g, count, first in zip(tree.grassroots, tree.members_of, tree.first_member, strict=True):
        for member_id in range(first, first + count):
            unit_of[member_id] = g
    return [(unit_of[m], phase_id, f"m:{m}", n) for m, n in sorted(approved_by.items()) if n]


@dataclass
class MeasuredPerson:
    """Somebody who sends /stats and /top."""

    key: str  # member, national, province, upper, grassroots
    telegram_id: int
    member_id: int
    admin_of: int | None  # unit id


def measured_people(tree: Tree) -> list[MeasuredPerson]:
    """A member of the busiest grassroots unit (its first, most active member, made
    reachable by Telegram id) and four admins, new members after the generated ones."""
    g = tree.grassroots.index(tree.busiest)
    people = [MeasuredPerson("member", MEASURED_BASE, tree.first_member[g], None)]
    for offset, (key, unit) in enumerate(
        (("national", tree.national), ("province", tree.province), ("upper", tree.upper),
         ("grassroots", tree.busiest)), start=1):  # fmt: skip
        people.append(MeasuredPerson(key, MEASURED_BASE + offset, tree.member_count + offset,
                                     unit))  # fmt: skip
    return people


def _grassroots_below(tree: Tree, unit_id: int) -> int:
    """A grassroots unit at or below ``unit_id`` (the busiest such), for an admin to join."""
    best, weight = None, -1.0
    for g, w in zip(tree.grassroots, tree.weights, strict=True):
        up: int | None = g
        while up is not None and up != unit_id:
            up = tree.parent[up]
        if up == unit_id and w > weight:
            best, weight = g, w
    assert best is not None
    return best


# -- loading -----------------------------------------------------------------------


@dataclass
class Timings:
    """Seconds per generation step."""

    steps: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str, engine: str) -> Iterator[None]:
        """Time one step and say so."""
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps[name] = self.steps.get(name, 0.0) + seconds
        progress(f"  {engine}: {name:<18} {seconds:8.2f} s")


def _sqlite_stamp(value: dt.datetime) -> str:
    # As SQLAlchemy's SQLite DATETIME stores the UTC value of ``UtcDateTime``.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_day(value: dt.date) -> str:
    return value.isoformat()


def _same(value: Any) -> Any:
    return value


def _placeholders(engine: str, count: int) -> str:
    return ", ".join("?" if engine == "sqlite" else f"${i}" for i in range(1, count + 1))


class Loader:
    """Bulk inserts: executemany on a synchronous SQLite connection, COPY on PostgreSQL."""

    def __init__(self, engine_name: str, url: str) -> None:
        self.engine_name = engine_name
        self.url = url
        self._engine: Any = None
        self._sync: Any = None
        self._async: Any = None
        self._raw: Any = None

    async def __aenter__(self) -> Loader:
        if self.engine_name == "sqlite":
            sync = create_sync_engine(make_url(self.url).set(drivername="sqlite"))
            self._engine = sync
            self._sync = sync.connect()
            # pysqlite begins its transaction at the first INSERT, after these pragmas.
            for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000",
                           "temp_store=MEMORY"):  # fmt: skip
                self._sync.exec_driver_sql(f"PRAGMA {pragma}")
        else:
            self._engine = create_engine(self.url, pool_size=1, max_overflow=0)
            self._async = await self._engine.connect()
            await self._async.begin()
            try:
                async with self._async.begin_nested():
                    await self._async.execute(text("SET session_replication_role = replica"))
            except Exception as error:  # not a superuser: foreign-key triggers stay on
                progress(f"  postgres: foreign-key triggers stay on during the load ({error})")
            self._raw = (await self._async.get_raw_connection()).driver_connection
        return self

    async def commit(self) -> None:
        """Commit the load."""
        if self._sync is not None:
            self._sync.commit()
        else:
            await self._async.execute(text("SET session_replication_role = DEFAULT"))
            await self._async.commit()

    async def __aexit__(self, *exc: object) -> None:
        if self._sync is not None:
            self._sync.close()
            self._engine.dispose()
        else:
            await self._async.close()
            await self._engine.dispose()

    @property
    def stamp(self) -> Callable[[dt.datetime], Any]:
        """How a datetime is handed to the driver."""
        return _sqlite_stamp if self.engine_name == "sqlite" else _same

    @property
    def day(self) -> Callable[[dt.date], Any]:
        """How a date is handed to the driver."""
        return _sqlite_day if self.engine_name == "sqlite" else _same

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert one batch of rows."""
        if not rows:
            return
        if self._sync is not None:
            statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                         f"VALUES ({_placeholders('sqlite', len(columns))})")  # fmt: skip
            self._sync.exec_driver_sql(statement, list(rows))
        else:
            await self._raw.copy_records_to_table(table, records=rows, columns=list(columns))

    async def execute(self, statement: str) -> None:
        """A plain statement in the load transaction."""
        if self._sync is not None:
            self._sync.exec_driver_sql(statement)
        else:
            await self._async.execute(text(statement))


UNIT_COLUMNS = ("id", "code", "name", "level", "parent_id", "search_text", "updated_at")
MEMBER_COLUMNS = ("id", "channel", "external_id", "display_name", "language", "full_name",
                  "phone", "unit_id", "created_at", "updated_at")  # fmt: skip


async def generate(engine_name: str, url: str, tree: Tree, timings: Timings) -> dict[str, Any]:
    """Fill the empty, migrated database; return facts about what was written."""
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    facts: dict[str, Any] = {}
    people = measured_people(tree)
    try:
        with timings.step("phase", engine_name):
            phase = await add_phase(units_of_work, PHASE_CODE, PHASE_NAME, PHASE_START,
                                    PHASE_END, PHASE_TARGET)  # fmt: skip
        approved_by: Counter[int] = Counter()
        async with Loader(engine_name, url) as load:
            stamp = load.stamp
            with timings.step("units", engine_name):
                for start in range(0, len(tree.units), BATCH):
                    await load.insert("units", UNIT_COLUMNS, [
                        (*row, stamp(LOAD_TIME)) for row in tree.units[start : start + BATCH]
                    ])  # fmt: skip
            with timings.step("targets", engine_name):
                rows = [(u, phase.id, t, stamp(LOAD_TIME)) for u, t in tree.targets.items()]
                for start in range(0, len(rows), BATCH):
                    await load.insert("targets", ("unit_id", "phase_id", "target", "updated_at"),
                                      rows[start : start + BATCH])  # fmt: skip
            with timings.step("members", engine_name):
                for batch in member_rows(tree, stamp):
                    await load.insert("members", MEMBER_COLUMNS, batch)
                # The measured people: the member gets a Telegram id, the admins are new
                # members, each joined to a grassroots unit below their own, with a role.
                await load.execute(
                    f"UPDATE members SET external_id = '{people[0].telegram_id}' "
                    f"WHERE id = {people[0].member_id}"
                )
                extra = []
                for person in people[1:]:
                    assert person.admin_of is not None
                    joined = _grassroots_below(tree, person.admin_of)
                    extra.append((person.member_id, "telegram", str(person.telegram_id),
                                  f"Admin {person.key}", "vi", f"Trần Văn Quản Trị {person.key}",
                                  None, joined, stamp(LOAD_TIME), stamp(LOAD_TIME)))  # fmt: skip
                await load.insert("members", MEMBER_COLUMNS, extra)
                await load.insert(
                    "roles", ("id", "member_id", "unit_id", "kind", "granted_at"),
                    [(k, p.member_id, p.admin_of, "admin", stamp(LOAD_TIME))
                     for k, p in enumerate(people[1:], start=1)],
                )  # fmt: skip
            with timings.step("initiatives", engine_name):
                for batch in initiative_rows(tree, phase.id, stamp, load.day, approved_by):
                    await load.insert("initiatives", INITIATIVE_COLUMNS, batch)
            with timings.step("participants", engine_name):
                persons = participant_rows(tree, phase.id, approved_by)
                for start in range(0, len(persons), BATCH):
                    await load.insert("participants",
                                      ("unit_id", "phase_id", "person", "approved"),
                                      persons[start : start + BATCH])  # fmt: skip
            if engine_name == "postgres":
                with timings.step("sequences", engine_name):
                    for table in ("units", "members", "initiatives", "roles"):
                        await load.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
            with timings.step("commit", engine_name):
                await load.commit()
        facts["participants"] = len(persons)
        facts["approved"] = sum(approved_by.values())
        if engine_name == "postgres":
            with timings.step("vacuum_analyze", engine_name):
                await _admin_execute(url, "VACUUM ANALYZE")
        else:
            with timings.step("checkpoint", engine_name):
                async with engine.connect() as connection:
                    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # The roll-ups, with the bot's own code.
        async with units_of_work() as uow:
            with timings.step("rebuild_closure", engine_name):
                await uow.progress.rebuild_closure()
            with timings.step("rebuild_counts", engine_name):
                await uow.progress.rebuild_counts()
            with timings.step("rollup_commit", engine_name):
                await uow.commit()
        if engine_name == "postgres":
            with timings.step("analyze_rollups", engine_name):
                await _admin_execute(url, "VACUUM ANALYZE unit_ancestors")
                await _admin_execute(url, "VACUUM ANALYZE unit_counts")
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return facts


# -- databases ---------------------------------------------------------------------


def _pg_name(tree: Tree) -> str:
    return f"sangkien_stats_{len(tree.units)}_{tree.initiatives}"


async def _complete(url: str, tree: Tree) -> bool:
    """Whether a kept database holds this data set, with its roll-ups, at the head migration."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        if await current_revision(engine) != head_revision():
            return False
        async with engine.connect() as connection:
            units = (await connection.execute(text("SELECT count(*) FROM units"))).scalar_one()
            count = (await connection.execute(text("SELECT max(id) FROM initiatives"))).scalar()
            rolled = (await connection.execute(
                text("SELECT count(*) FROM unit_counts WHERE unit_id = :n"),
                {"n": tree.national})).scalar_one()  # fmt: skip
        return units == len(tree.units) and count == tree.initiatives and rolled == 1
    except Exception:
        return False
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def database(
    engine_name: str, postgres_url: str, tree: Tree, keep: Path | None
) -> AsyncIterator[tuple[str, bool]]:
    """(url, reused): an empty migrated database, or a complete kept one."""
    if engine_name == "sqlite":
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            path = keep / f"stats-{len(tree.units)}-{tree.initiatives}.db"
            url = f"sqlite+aiosqlite:///{path}"
            if path.exists() and await _complete(url, tree):
                yield url, True
                return
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            await _migrate(url)
            yield url, False
            return
        with tempfile.TemporaryDirectory(prefix="sangkien-stats-") as directory:
            url = f"sqlite+aiosqlite:///{directory}/stats.db"
            await _migrate(url)
            yield url, False
        return
    if keep is not None:
        name = _pg_name(tree)
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        if await _complete(url, tree):
            yield url, True
            return
        await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        name = f"sangkien_stats_{os.getpid()}_{int(time.time())}"
    await _admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        await _migrate(url)
        yield url, False
    finally:
        if keep is None:
            await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


# -- measuring ---------------------------------------------------------------------


class StatsFakeBotApi(FastFakeBotApi):
    """``FastFakeBotApi`` that keeps every text sent or edited since ``expect(chat)``."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = {}

    def expect(self, chat_id: int) -> None:
        """Forget the chat's buttons and texts."""
        super().expect(chat_id)
        self.texts[chat_id] = []

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        """Remember the texts, then answer as the base does."""
        name = url[url.rfind("/") + 1 :]
        if name in ("sendMessage", "editMessageText") and request_data is not None:
            params = request_data.parameters
            chat = params.get("chat_id")
            if chat is not None:
                self.texts.setdefault(int(chat), []).append(str(params.get("text", "")))
        return await super().do_request(url, method, request_data, *args, **kwargs)


@dataclass
class Series:
    """One person's run of one command."""

    key: str
    command: str
    latencies: list[float]
    without_percent: int
    sample: str

    def p(self, q: float) -> float:
        """Percentile in ms (nearest rank)."""
        return PhaseResult("", "", 0, len(self.latencies), 0.0, self.latencies).percentile(q)


async def measure_commands(url: str, tree: Tree, repeats: int) -> tuple[list[Series], int]:
    """/stats and /top from every measured person through the real Application."""
    # Update ids unlike those of an earlier run on a kept database, which the bot would
    # ignore as redelivered (processed_events).
    benchmarks.dialog._update_ids = itertools.count(int(time.time() * 1000) % 2_000_000_000)
    settings = Settings(
        telegram_bot_token=TOKEN, database_url=url, migrate_on_start=False, limit_replies=False
    )
    api = StatsFakeBotApi()
    application = build_application(settings, request=api, clock=lambda: BOT_NOW)
    driver = Driver(application, api)
    results: list[Series] = []
    async with running(application, post_init=True):
        for person in measured_people(tree):
            sender = Person(person.telegram_id)
            for command in ("/stats", "/top"):
                step = say(command)
                for _ in range(WARMUP):
                    await driver.send(sender, step)
                gc.collect()
                latencies: list[float] = []
                missing, sample = 0, ""
                started = time.perf_counter()
                for _ in range(repeats):
                    put, done = await driver.send(sender, step)
                    latencies.append(done - put)
                    answer = "\n".join(api.texts.get(person.telegram_id, []))
                    if "%" not in answer:
                        missing += 1
                        sample = sample or answer
                    if time.perf_counter() - started > SERIES_BUDGET_S:
                        break
                results.append(Series(person.key, command, latencies, missing, sample))
    return results, len(driver.errors)


GROUPBY_SQL = """
SELECT a.ancestor_id,
       SUM(CASE WHEN i.status = 'approved' THEN 1 ELSE 0 END) AS approved,
       SUM(CASE WHEN i.status = 'pending' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN i.status = 'returned' THEN 1 ELSE 0 END) AS returned,
       SUM(CASE WHEN i.status = 'approved' THEN COALESCE(i.benefit_vnd, 0) ELSE 0 END) AS benefit
FROM initiatives i
JOIN unit_ancestors a ON a.unit_id = i.unit_id
JOIN units u ON u.id = a.ancestor_id
WHERE u.level IN ('province', 'sector') AND i.phase_id = :phase
GROUP BY a.ancestor_id
"""


async def time_groupby(url: str) -> tuple[list[float], int]:
    """The GROUP BY's run times in ms, and top-level units where it disagrees with
    ``unit_counts``."""
    engine = create_engine(url)
    runs: list[float] = []
    try:
        async with engine.connect() as connection:
            phase = (
                await connection.execute(
                    text("SELECT id FROM phases WHERE code = :c"), {"c": PHASE_CODE}
                )
            ).scalar_one()
            rows: Sequence[Any] = []
            for _ in range(GROUPBY_RUNS):
                started = time.perf_counter()
                rows = (await connection.execute(text(GROUPBY_SQL), {"phase": phase})).all()
                runs.append((time.perf_counter() - started) * 1000)
            stored = {
                int(r[0]): tuple(int(v) for v in r[1:])
                for r in await connection.execute(text(
                    "SELECT c.unit_id, c.approved, c.pending, c.returned, c.benefit_vnd "
                    "FROM unit_counts c JOIN units u ON u.id = c.unit_id "
                    "WHERE u.level IN ('province', 'sector') AND c.phase_id = :phase"),
                    {"phase": phase})
            }  # fmt: skip
    finally:
        await engine.dispose()
    direct = {int(r[0]): tuple(int(v) for v in r[1:]) for r in rows}
    disagree = sum(1 for k in set(direct) | set(stored) if direct.get(k) != stored.get(k))
    return runs, disagree


@dataclass
class Check:
    """stored_counts() against direct_counts()."""

    mismatches: int
    rows: int
    direct_zero_rows: int
    stored_s: float
    direct_s: float
    samples: list[str]


async def check_counts(url: str) -> Check:
    """Compare the running figures with the bot's own direct count, keyed by (unit, phase)."""
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            started = time.perf_counter()
            stored_list = await uow.progress.stored_counts()
            stored_s = time.perf_counter() - started
            started = time.perf_counter()
            direct_list = await uow.progress.direct_counts()
            direct_s = time.perf_counter() - started
    finally:
        units_of_work.dispose()
        await engine.dispose()
    zero = sum(1 for r in direct_list if not any(r[2:]))
    stored = {(r[0], r[1]): r[2:] for r in stored_list if any(r[2:])}
    direct = {(r[0], r[1]): r[2:] for r in direct_list if any(r[2:])}
    wrong = sorted(k for k in set(stored) | set(direct) if stored.get(k) != direct.get(k))
    samples = [f"unit {k[0]} phase {k[1]}: stored {stored.get(k)} direct {direct.get(k)}"
               for k in wrong[:3]]  # fmt: skip
    return Check(len(wrong), len(stored), zero, stored_s, direct_s, samples)


# -- one engine ----------------------------------------------------------------------


@dataclass
class EngineResult:
    """Everything measured on one engine."""

    engine: str
    reused: bool
    timings: dict[str, float]
    facts: dict[str, Any]
    series: list[Series]
    errors: int
    groupby_runs: list[float]
    groupby_disagree: int
    check: Check

    def worst(self, command: str) -> float:
        """The worst person's p95 for a command, ms."""
        return max((s.p(95) for s in self.series if s.command == command), default=math.nan)

    @property
    def groupby_ms(self) -> float:
        """Median of the GROUP BY runs."""
        return statistics.median(self.groupby_runs)

    @property
    def without_percent(self) -> int:
        """Measured answers without a percent sign."""
        return sum(s.without_percent for s in self.series)


async def run_engine(
    engine_name: str, postgres_url: str, tree: Tree, repeats: int, keep: Path | None
) -> EngineResult:
    """Generate (or reuse), measure, check."""
    timings = Timings()
    async with database(engine_name, postgres_url, tree, keep) as (url, reused):
        facts: dict[str, Any] = {}
        if reused:
            progress(f"{engine_name}: reusing the kept database")
        else:
            progress(f"{engine_name}: generating {len(tree.units)} units, "
                     f"{tree.initiatives} initiatives")  # fmt: skip
            started = time.perf_counter()
            facts = await generate(engine_name, url, tree, timings)
            timings.steps["total"] = time.perf_counter() - started
            progress(f"  {engine_name}: generation total {timings.steps['total']:.1f} s")
        progress(f"{engine_name}: GROUP BY without counters x{GROUPBY_RUNS}")
        runs, disagree = await time_groupby(url)
        progress(f"{engine_name}: /stats and /top, {repeats} each from 5 people")
        series, errors = await measure_commands(url, tree, repeats)
        progress(f"{engine_name}: stored_counts() against direct_counts()")
        check = await check_counts(url)
    return EngineResult(engine_name, reused, timings.steps, facts, series, errors, runs,
                        disagree, check)  # fmt: skip


# -- output --------------------------------------------------------------------------


def _r(value: float | None, digits: int = 1) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(value, digits)


def report(results: Sequence[EngineResult], tree: Tree) -> None:
    """The readable tables."""
    for r in results:
        print(f"== {r.engine}: {len(tree.units)} units, {tree.initiatives} initiatives"
              f"{' (kept database reused)' if r.reused else ''} ==")  # fmt: skip
        if r.timings:
            print("  generation (s): " + ", ".join(f"{k} {v:.2f}" for k, v in r.timings.items()))
        print(f"  {'person':<12}{'command':<8}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
              f"{'no %':>6}")  # fmt: skip
        for s in r.series:
            print(f"  {s.key:<12}{s.command:<8}{len(s.latencies):>4}{s.p(50):>9.1f}"
                  f"{s.p(95):>9.1f}{s.p(100):>9.1f}{s.without_percent:>6}")  # fmt: skip
        print("  GROUP BY per top-level unit without counters: "
              + " / ".join(f"{ms:.0f}" for ms in r.groupby_runs)
              + f" ms (median {r.groupby_ms:.0f}); disagrees with unit_counts: "
              f"{r.groupby_disagree}")  # fmt: skip
        c = r.check
        print(f"  stored_counts {c.stored_s:.2f} s, direct_counts {c.direct_s:.2f} s: "
              f"{c.rows} rows, mismatches {c.mismatches}; direct_counts zero rows "
              f"(units with only rejected initiatives) {c.direct_zero_rows}")  # fmt: skip
        for sample in c.samples:
            print(f"    ! {sample}")
        if r.errors:
            print(f"  ! the bot raised {r.errors} errors")
        if r.without_percent:
            sample = next((s.sample for s in r.series if s.without_percent), "")
            print(f"  ! {r.without_percent} answers without '%', e.g. {sample[:160]!r}")


def summary(
    results: Sequence[EngineResult], tree: Tree, postgres_note: str | None, quick: bool
) -> tuple[dict[str, Any], bool]:
    """The JSON object and whether every check passed."""
    by = {r.engine: r for r in results}
    out: dict[str, Any] = {
        "initiatives": tree.initiatives,
        "units": len(tree.units),
        "stats_p95_ms": _r(max(r.worst("/stats") for r in results)),
        "top_p95_ms": _r(max(r.worst("/top") for r in results)),
        "groupby_ms": _r(min(r.groupby_ms for r in results)),
        "ratio_groupby_to_stats": _r(min(r.groupby_ms / r.worst("/stats") for r in results), 2),
        "mismatches": sum(r.check.mismatches for r in results),
    }
    for engine in ("sqlite", "postgres"):
        r = by.get(engine)
        out[f"{engine}_stats_p95_ms"] = _r(r.worst("/stats")) if r else None
        out[f"{engine}_top_p95_ms"] = _r(r.worst("/top")) if r else None
        out[f"{engine}_groupby_ms"] = _r(r.groupby_ms) if r else None
        out[f"{engine}_ratio_groupby_to_stats"] = (
            _r(r.groupby_ms / r.worst("/stats"), 2) if r else None
        )
        out[f"{engine}_p50_ms"] = (
            {f"{s.key}{s.command.replace('/', '_')}": _r(s.p(50)) for s in r.series}
            if r else None
        )  # fmt: skip
        out[f"{engine}_p95_ms"] = (
            {f"{s.key}{s.command.replace('/', '_')}": _r(s.p(95)) for s in r.series}
            if r else None
        )  # fmt: skip
        out[f"{engine}_mismatches"] = r.check.mismatches if r else None
        out[f"{engine}_direct_counts_s"] = _r(r.check.direct_s, 2) if r else None
        for step in ("initiatives", "rebuild_closure", "rebuild_counts", "total"):
            out[f"gen_{engine}_{step}_s"] = _r(r.timings.get(step), 2) if r else None
    out["generation_s"] = {r.engine: {k: _r(v, 2) for k, v in r.timings.items()}
                           for r in results}  # fmt: skip
    out["groupby_disagrees"] = sum(r.groupby_disagree for r in results)
    out["direct_zero_rows"] = max(r.check.direct_zero_rows for r in results)
    out["answers_without_percent"] = sum(r.without_percent for r in results)
    out["stats_implemented"] = STATS_MODULE.exists()
    out["errors"] = sum(r.errors for r in results)
    out["repeats"] = QUICK_REPEATS if quick else FULL_REPEATS
    out["target_200ms_met"] = bool(
        out["stats_p95_ms"] is not None and out["top_p95_ms"] is not None
        and out["stats_p95_ms"] < 200 and out["top_p95_ms"] < 200
        and out["answers_without_percent"] == 0
    )  # fmt: skip
    if postgres_note:
        out["postgres_unavailable"] = postgres_note[:200]
    ok = out["mismatches"] == 0 and out["groupby_disagrees"] == 0 and out["errors"] == 0
    out["ok"] = ok
    return out, ok


# -- main ----------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> int:
    """Build the data set on every engine, measure, print the tables and the JSON line."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    repeats = QUICK_REPEATS if args.quick else FULL_REPEATS
    started = time.perf_counter()
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    progress(f"unit tree and layout built in {time.perf_counter() - started:.1f} s: "
             f"{len(tree.units)} units ({len(tree.grassroots)} grassroots), "
             f"{tree.member_count} members")  # fmt: skip
    if not STATS_MODULE.exists():
        progress("note: domain/stats.py does not exist yet; /stats and /top are unknown commands")
    keep = Path(args.keep) if args.keep else None
    results = [await run_engine("sqlite", "", tree, repeats, keep)]
    postgres_note: str | None
    if args.no_postgres:
        postgres_note = "skipped (--no-postgres)"
    else:
        postgres_note = await postgres_reachable(args.postgres_url)
    if postgres_note is None:
        results.append(await run_engine("postgres", args.postgres_url, tree, repeats, keep))
    else:
        progress(f"postgres not measured: {postgres_note}")
    print()
    print(f"/stats and /top through the real Application, {repeats} sequential updates "
          f"per person and command after {WARMUP} warm-ups; "
          "latency = queue put -> processed")  # fmt: skip
    report(results, tree)
    out, ok = summary(results, tree, postgres_note, args.quick)
    if not ok:
        print("CHECK FAILED: running figures differ from a direct count, or the bot raised "
              "errors", file=sys.stderr)  # fmt: skip
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stats", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true",
        help=f"{QUICK_INITIATIVES} initiatives, {QUICK_REPEATS} updates per series",
    )  # fmt: skip
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the benchmark databases from",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="keep the databases (SQLite file in DIR) and reuse them")  # fmt: skip
    args = parser.parse_args(argv)
    silence_logging()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
