"""The synthetic national data set of ``benchmarks.stats``, made as rows without a database.

Drawn from fixed seeds, so every run and both engines get the same data:

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
  author's number of approved initiatives (> 0).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from domain.parsing import normalize_search

PROVINCE_COUNT = 63
SECTOR_COUNT = 20
UPPER_COUNT = 700
BATCH = 50_000
SEED = 20220601

PHASE_CODE = "GD2"
PHASE_NAME = "Giai đoạn 2 (2022–2023)"
PHASE_START = dt.date(2022, 6, 1)
PHASE_END = dt.date(2023, 9, 30)
PHASE_TARGET = 1_000_000
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


def grassroots_below(tree: Tree, unit_id: int) -> int:
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
