"""Similar-initiatives benchmark: the worker's hint at national scale, how fast and how good.

Per database engine (SQLite always, PostgreSQL when reachable), on the national data set
of ``benchmarks.national`` (100.000 units; ``--quick``: 20.000) with 2.000.000
initiatives (``--quick``: 200.000) whose titles and solutions are written here instead:
Vietnamese initiative wording drawn from a vocabulary of verbs, machines and things,
materials, places and purposes (about 380.000 titles, far more solutions), statuses as
national's (10 % rejected, never found). Among them, planted near-duplicate groups: an
original and three variants in the same grassroots unit or one beside it (same parent):
its title and solution without diacritics, with two words swapped, with one word changed.

Measured, through the bot's own repository (``uow.similar.find``, a unit of work each):
the hint's query for every planted variant, as the worker writing it would ask it (the
scope: the subtree of the parent of the variant's unit; the variant itself left out),
with the title only, then with the title and the solution.

* latency: p50 / p95 per engine and kind of query (``SimilarRules()``: the default
  threshold);
* recall@3: the share of variants whose original is among the first 3 found;
* precision@3: the share of the first 3 found that are relatives of the variant (the
  original or another variant of its group);
* the same two figures for thresholds 0,3 to 0,8 (computed from one search at 0,3).

Goals: p95 < 50 ms on both engines, recall ≥ 0,9, precision ≥ 0,8. The last line is one
JSON object: ``initiatives``, ``sqlite_hint_p95_ms``, ``postgres_hint_p95_ms``,
``recall_at_3``, ``precision_at_3`` (the default threshold, the worse engine), and more.

Usage: ``python -m benchmarks.similar [--quick] [--postgres-url URL] [--no-postgres]
[--keep DIR]``; ``--keep DIR`` keeps the generated databases (SQLite in DIR, default
/tmp/bench-similar) and reuses them on a later run of the same size.
"""

from __future__ import annotations

import random
import sys
import time
import unicodedata
from argparse import Namespace
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import harness
from benchmarks.harness import percentile_ms, progress, rounded
from benchmarks.national import INITIATIVE_COLUMNS, SEED, Tree, build_tree, initiative_rows
from benchmarks.national_load import Timings, database, generate
from domain.ports_similar import SimilarFound, SimilarQuery, SimilarRules
from storage.db import create_engine
from storage.repositories.similar import similar_values
from storage.uow import SqlUnitOfWorkFactory

FULL_UNITS, FULL_INITIATIVES, FULL_GROUPS = 100_000, 2_000_000, 150
QUICK_UNITS, QUICK_INITIATIVES, QUICK_GROUPS = 20_000, 200_000, 60
KEEP = "/tmp/bench-similar"
GOAL_P95_MS, GOAL_RECALL, GOAL_PRECISION = 50.0, 0.9, 0.8
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
TOP = 3
COLUMNS = (*INITIATIVE_COLUMNS, "similar_title", "similar_solution")
_STATUS = INITIATIVE_COLUMNS.index("status")
_TITLE = INITIATIVE_COLUMNS.index("title")
_SOLUTION = INITIATIVE_COLUMNS.index("solution")
_UNIT = INITIATIVE_COLUMNS.index("unit_id")

# -- the wording -------------------------------------------------------------------------

VERBS = ("Cải tiến", "Thiết kế", "Chế tạo", "Lắp đặt", "Sửa đổi", "Tự động hóa", "Số hóa",
         "Nâng cấp", "Hợp lý hóa", "Ứng dụng", "Tận dụng", "Làm mới", "Bố trí lại", "Tối ưu",
         "Thay thế", "Chuẩn hóa")  # fmt: skip
THINGS = ("bộ gá", "giá đỡ", "băng tải", "khuôn dập", "máy cắt", "máy khoan", "bàn thao tác",
          "tủ điện", "hệ thống chiếu sáng", "quạt hút", "bơm nước", "van xả", "cầu trục",
          "xe đẩy", "kệ chứa", "dao cắt", "máy ép", "máy hàn", "lò sấy", "bể lắng",
          "đường ống", "cảm biến", "bảng điều khiển", "phần mềm", "sổ theo dõi", "biểu mẫu",
          "quy trình", "hộp dụng cụ", "khay đựng", "máy khâu", "máy nén khí", "máy tiện",
          "mũi khoan", "con lăn", "xi lanh", "tấm chắn", "ống dẫn", "máy bơm", "thang nâng",
          "kìm bấm")  # fmt: skip
KINDS_OF = ("thép hộp", "tôn mạ", "nhựa PVC", "inox", "gỗ ép", "hai tầng", "xoay 360 độ",
            "điều chỉnh độ cao", "có bánh xe", "dùng khí nén", "chạy bằng điện",
            "tiết kiệm điện", "có cảnh báo", "đa năng", "tháo lắp nhanh", "cỡ nhỏ",
            "bán tự động", "có khóa an toàn", "chống rung", "chịu nhiệt", "có đèn LED",
            "hẹn giờ", "điều khiển từ xa", "gấp gọn", "có vạch chia", "dùng nam châm",
            "hai chiều", "kiểu treo", "có thước đo", "lọc bụi")  # fmt: skip
PLACES = ("cho chuyền may", "tại xưởng cơ khí", "ở tổ đóng gói", "cho phân xưởng dệt",
          "tại kho vật tư", "ở khu vực hàn", "cho tổ bảo dưỡng", "tại nhà ăn ca",
          "cho phòng thí nghiệm", "ở trạm bơm", "cho dây chuyền sơn", "tại bộ phận kiểm hàng",
          "cho tổ lắp ráp", "ở khu xử lý nước thải", "tại văn phòng", "cho lớp học",
          "tại khoa khám bệnh", "cho bếp ăn", "ở bãi xe", "tại trạm biến áp")  # fmt: skip
PURPOSES = ("", "", "", "để giảm thời gian thao tác", "nhằm tiết kiệm vật tư",
            "giảm tai nạn lao động", "để tăng năng suất", "giảm tiếng ồn",
            "tiết kiệm điện năng", "giảm hàng lỗi", "giảm sức lao động")  # fmt: skip
ACTIONS = ("Làm", "Lắp", "Chế tạo", "Thiết kế", "Gia công", "Bố trí", "Hàn", "Ghép")
MATERIALS = ("thép tận dụng", "ống inox phế liệu", "tôn dày 2 ly", "nhựa tái chế",
             "gỗ thông", "nhôm định hình", "thép góc V4", "ống kẽm", "mica trong",
             "cao su chịu dầu")  # fmt: skip
PLACEMENTS = ("gắn cố định cạnh máy", "đặt ở đầu chuyền", "treo trên khung sẵn có",
              "lắp dưới mặt bàn", "đặt cạnh lối đi", "bắt vít vào tường", "gắn trên xe đẩy",
              "đặt trong tủ có khóa")  # fmt: skip
DETAILS = ("công nhân thao tác bằng một tay", "có chốt định vị để căn nhanh",
           "điều chỉnh được theo từng mã hàng", "có công tắc hành trình tự ngắt",
           "dán mã QR để tra cứu lịch bảo dưỡng", "sơn màu theo quy định 5S",
           "thay thế trong vòng 5 phút", "tổ trưởng kiểm tra hằng tuần")  # fmt: skip
BENEFITS = ("Mỗi ca tiết kiệm khoảng 1 giờ.", "Giảm 30% hàng lỗi.",
            "Chi phí chế tạo dưới 2 triệu đồng.", "Không còn phải cúi người khi thao tác.",
            "Năng suất tăng khoảng 10%.", "Giảm tiêu thụ điện 15%.",
            "An toàn hơn cho người vận hành.", "Tiết kiệm 500 nghìn đồng mỗi tháng.")  # fmt: skip
# A changed word is one of these, as people write another word for the same thing.
OTHER_WORDS = ("mới", "loại", "chuyên dụng", "khung", "mini", "cải tiến", "tự chế", "cũ",
               "phụ", "chính", "lớn", "nhanh")  # fmt: skip


def write(rng: random.Random) -> tuple[str, str]:
    """A title and a solution, about one thing."""
    thing, kind = rng.choice(THINGS), rng.choice(KINDS_OF)
    title = " ".join(part for part in (rng.choice(VERBS), thing, kind, rng.choice(PLACES),
                                       rng.choice(PURPOSES)) if part)  # fmt: skip
    solution = (
        f"{rng.choice(ACTIONS)} {thing} {kind} bằng {rng.choice(MATERIALS)}, "
        f"{rng.choice(PLACEMENTS)}; {rng.choice(DETAILS)}. {rng.choice(BENEFITS)}"
    )
    return title, solution  # fmt: skip


def without_diacritics(text: str) -> str:
    """As typed on a phone without a Vietnamese keyboard."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def swapped(text: str, rng: random.Random) -> str:
    """Two words next to each other swapped."""
    words = text.split()
    at = rng.randrange(len(words) - 1)
    words[at], words[at + 1] = words[at + 1], words[at]
    return " ".join(words)


def changed(text: str, rng: random.Random) -> str:
    """One word (not the first) replaced by another."""
    words = text.split()
    at = rng.randrange(1, len(words))
    words[at] = rng.choice([w for w in OTHER_WORDS if w != words[at]])
    return " ".join(words)


VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "no_diacritics": lambda text, _rng: without_diacritics(text),
    "swapped": swapped,
    "changed": changed,
}

# -- the data set ------------------------------------------------------------------------


@dataclass
class Planted:
    """An original (``ids[0]``) and its variants, in units next to each other."""

    ids: list[int]
    units: list[int]
    titles: list[str]
    solutions: list[str]
    kinds: list[str] = field(default_factory=list)


def plant(tree: Tree, groups: int, rng: random.Random) -> tuple[list[Planted], dict[int, Any]]:
    """The planted groups, and by id what each planted row is: (unit, title, solution,
    status); originals in the first half of the ids, variants later."""
    children: dict[int, list[int]] = defaultdict(list)
    for g in tree.grassroots:
        children[tree.parent[g] or 0].append(g)
    busy = [g for g, w in zip(tree.grassroots, tree.weights, strict=True) if w > 0]
    ids = rng.sample(range(1, tree.initiatives + 1), groups * 4)
    planted, by_id = [], {}
    for k in range(groups):
        own = sorted(ids[4 * k : 4 * k + 4])
        home = rng.choice(busy)
        title, solution = write(rng)
        group = Planted(own, [home], [title], [solution], ["original"])
        for kind, make in VARIANTS.items():
            beside = rng.choice(children[tree.parent[home] or 0])
            group.units.append(home if rng.random() < 0.5 else beside)
            group.titles.append(make(title, rng))
            group.solutions.append(make(solution, rng))
            group.kinds.append(kind)
        for n, row_id in enumerate(own):
            status = rng.choice(("approved", "pending") if n == 0 else
                                ("pending", "returned", "approved"))  # fmt: skip
            by_id[row_id] = (group.units[n], group.titles[n], group.solutions[n], status)
        planted.append(group)
    return planted, by_id


def rows_with_texts(
    planted: dict[int, Any], seed: int
) -> Callable[..., Iterator[list[tuple[Any, ...]]]]:
    """national's initiative rows, with these titles and solutions, folded as stored."""

    def rows_of(tree: Tree, phase_id: int, stamp: Any, day: Any,
                approved_by: Counter[int]) -> Iterator[list[tuple[Any, ...]]]:  # fmt: skip
        rng = random.Random(seed)
        for batch in initiative_rows(tree, phase_id, stamp, day, approved_by):
            out = []
            for row in batch:
                values = list(row)
                if row[0] in planted:
                    unit, title, solution, status = planted[row[0]]
                    values[_UNIT], values[_STATUS] = unit, status
                else:
                    title, solution = write(rng)
                values[_TITLE], values[_SOLUTION] = title, solution
                folded = similar_values(values[_STATUS], title, solution)
                out.append((*values, folded["similar_title"], folded["similar_solution"]))
            yield out

    return rows_of


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Series:
    """One kind of query over every planted variant, on one engine."""

    kind: str
    latencies: list[float] = field(default_factory=list)
    # Per query: the relatives' ids, the original's id, what was found (id, score).
    found: list[tuple[set[int], int, list[tuple[int, float]]]] = field(default_factory=list)

    def quality(self, threshold: float) -> tuple[float, float]:
        """recall@3 and precision@3 at this threshold."""
        hits = shown = relatives = 0
        for family, original, found in self.found:
            top = [i for i, s in found if s >= threshold][:TOP]
            hits += original in top
            shown += len(top)
            relatives += sum(i in family for i in top)
        return hits / max(1, len(self.found)), relatives / shown if shown else 1.0


async def _scopes(factory: SqlUnitOfWorkFactory, units: set[int]) -> dict[int, int]:
    """The scope of the hint for a worker of each unit: its parent (else itself)."""
    scopes = {}
    async with factory() as uow:
        for unit_id in units:
            unit = await uow.units.get(unit_id)
            assert unit is not None
            scopes[unit_id] = unit.parent_id or unit.id
    return scopes


async def measure(url: str, groups: Sequence[Planted]) -> list[Series]:
    """Every planted variant searched for: title only, then title and solution; once at
    the default threshold (timed), once at the lowest (for the threshold table)."""
    engine = create_engine(url)
    factory = SqlUnitOfWorkFactory(engine)
    series = []
    try:
        scopes = await _scopes(factory, {u for g in groups for u in g.units})
        for kind, with_solution in (("title", False), ("title+solution", True)):
            timed, table = Series(kind), Series(kind)
            for rules, into in ((SimilarRules(), timed),
                                (SimilarRules(threshold=min(THRESHOLDS)), table)):  # fmt: skip
                for group in groups:
                    for n in range(1, len(group.ids)):
                        query = SimilarQuery(
                            group.titles[n], group.solutions[n] if with_solution else None,
                            scopes[group.units[n]], rules, exclude=group.ids[n])  # fmt: skip
                        started = time.perf_counter()
                        async with factory() as uow:
                            found: list[SimilarFound] = await uow.similar.find(query)
                        into.latencies.append(time.perf_counter() - started)
                        family = set(group.ids) - {group.ids[n]}
                        hits = [(f.initiative_id, f.score) for f in found]
                        into.found.append((family, group.ids[0], hits))
            table.latencies = timed.latencies
            series.append(table)
    finally:
        factory.dispose()
        await engine.dispose()
    return series


@dataclass
class EngineResult:
    """One engine's figures."""

    engine: str
    reused: bool
    steps: dict[str, float]
    series: list[Series]

    def p95(self) -> float:
        """The worse kind of query's p95, in ms."""
        return max(percentile_ms(s.latencies, 95) for s in self.series)

    def quality(self, threshold: float) -> tuple[float, float]:
        """The worse kind of query's recall and precision at the threshold."""
        figures = [s.quality(threshold) for s in self.series]
        return min(r for r, _ in figures), min(p for _, p in figures)


async def run_engine(engine_name: str, postgres_url: str, tree: Tree, groups: list[Planted],
                     planted: dict[int, Any], keep: Path) -> EngineResult:  # fmt: skip
    """Generate (or reuse) the data set, then search."""
    timings = Timings()
    async with database(engine_name, postgres_url, tree, keep, "similar") as (url, reused):
        if reused:
            progress(f"{engine_name}: reusing the kept database")
        else:
            progress(f"{engine_name}: generating {len(tree.units)} units, "
                     f"{tree.initiatives} initiatives")  # fmt: skip
            started = time.perf_counter()
            await generate(engine_name, url, tree, timings, rows_with_texts(planted, SEED + 9),
                           COLUMNS)  # fmt: skip
            timings.steps["total"] = time.perf_counter() - started
        progress(f"{engine_name}: {sum(len(g.ids) - 1 for g in groups)} variants searched for")
        series = await measure(url, groups)
    return EngineResult(engine_name, reused, timings.steps, series)


# -- output ------------------------------------------------------------------------------


def report(results: Sequence[EngineResult]) -> None:
    """Latency and quality per engine and kind of query; the threshold table."""
    default = SimilarRules().threshold
    print(f"{'engine':<9}{'query':<16}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}"
          f"{'recall@3':>10}{'prec@3':>8}")  # fmt: skip
    for r in results:
        for s in r.series:
            recall, precision = s.quality(default)
            print(f"{r.engine:<9}{s.kind:<16}{percentile_ms(s.latencies, 50):8.1f}"
                  f"{percentile_ms(s.latencies, 95):8.1f}{max(s.latencies) * 1000:8.1f}"
                  f"{recall:10.3f}{precision:8.3f}")  # fmt: skip
    print("\nthreshold: recall@3 / precision@3 (title only; title and solution), "
          f"on {results[0].engine}")  # fmt: skip
    for threshold in THRESHOLDS:
        cells = "   ".join(f"{s.quality(threshold)[0]:.3f} / {s.quality(threshold)[1]:.3f}"
                           for s in results[0].series)  # fmt: skip
        print(f"  {threshold:4.2f}   {cells}")
    for r in results:
        if r.steps:
            print(f"{r.engine}: generated in {r.steps.get('total', 0):.0f} s")


def summary(
    results: Sequence[EngineResult], tree: Tree, note: str | None
) -> tuple[dict[str, Any], bool]:
    """The JSON line's figures and whether the goals were met."""
    default = SimilarRules().threshold
    by_engine = {r.engine: r for r in results}
    qualities = [r.quality(default) for r in results]
    recall = min(q[0] for q in qualities)
    precision = min(q[1] for q in qualities)
    out: dict[str, Any] = {"benchmark": "similar", "initiatives": tree.initiatives,
                           "units": len(tree.units), "threshold": default}  # fmt: skip
    for engine in ("sqlite", "postgres"):
        r = by_engine.get(engine)
        out[f"{engine}_hint_p95_ms"] = rounded(r.p95()) if r else None
        for s in r.series if r else []:
            key = s.kind.replace("+", "_")
            out[f"{engine}_{key}_p95_ms"] = rounded(percentile_ms(s.latencies, 95))
    out["recall_at_3"] = round(recall, 3)
    out["precision_at_3"] = round(precision, 3)
    out["queries"] = sum(len(s.latencies) for s in results[0].series)
    out["postgres_note"] = note
    ok = all(r.p95() < GOAL_P95_MS for r in results)
    ok = ok and recall >= GOAL_RECALL and precision >= GOAL_PRECISION
    out["goals_met"] = ok
    return out, ok


async def main_async(args: Namespace) -> int:
    """Build the data set on every engine, search, print the tables and the JSON line."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    groups, planted = plant(tree, QUICK_GROUPS if args.quick else FULL_GROUPS,
                            random.Random(SEED + 8))  # fmt: skip
    keep = Path(args.keep)
    results, note = await harness.on_each_engine(
        args,
        lambda engine, url: run_engine(engine, url, tree, groups, planted, keep),
        f"{len(tree.units)} units, {tree.initiatives} initiatives",
    )
    print()
    report(results)
    out, ok = summary(results, tree, note)
    return harness.figures_line(out, ok, "a goal was missed (latency, recall or precision)")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.similar", __doc__,
        f"{QUICK_UNITS} units, {QUICK_INITIATIVES} initiatives, {QUICK_GROUPS} planted groups",
    )  # fmt: skip
    parser.add_argument(
        "--keep", metavar="DIR", default=KEEP, help=f"databases kept and reused (default {KEEP})"
    )
    return harness.run(main_async, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
