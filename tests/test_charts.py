"""Progress charts: the expected bars, Vietnamese labels that render, a PNG in the chat."""

from __future__ import annotations

import io
import warnings
from zoneinfo import ZoneInfo

from charts import draw, render_png
from domain.text import Text, Verbatim, _
from domain.ui import Bar, Chart
from locales import Translator
from tests.fakebotapi import Harness
from tests.test_review import grant
from tests.test_stats import seed

CHART = Chart(
    title=_("{unit} · {phase}", unit="LĐLĐ tỉnh Thanh Hóa", phase="Giai đoạn 1"),
    bars=(
        Bar("CĐCS Công ty TNHH Giày Annora Việt Nam", 446.2),
        Bar("CĐCS Nhà máy Lọc dầu Nghi Sơn", 75.0),
        Bar("CĐCS Công ty CP Xi măng Nghi Sơn", 12.5),
    ),
    pace_percent=89.0,
    target_label=_("Target (100%)"),
    pace_label=_("Expected by today"),
)


def test_chart_has_a_bar_per_unit_and_both_lines() -> None:
    figure = draw(CHART, Translator(ZoneInfo("Asia/Ho_Chi_Minh")), "vi")
    (axes,) = figure.axes
    assert [round(p.get_width(), 1) for p in axes.patches] == [12.5, 75.0, 446.2]
    labels = [t.get_text().replace("\n", " ") for t in axes.get_yticklabels()]
    assert labels[-1] == "CĐCS Công ty TNHH Giày Annora Việt Nam", "best on top"
    lines = sorted(line.get_xdata()[0] for line in axes.get_lines())
    assert lines == [89.0, 100]
    assert axes.get_title() == "LĐLĐ tỉnh Thanh Hóa · Giai đoạn 1"
    legend = [t.get_text() for t in axes.get_legend().get_texts()]
    assert legend == ["Chỉ tiêu (100%)", "Tiến độ cần đạt đến hôm nay"]


def test_png_renders_every_vietnamese_glyph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_png(CHART, Translator(ZoneInfo("Asia/Ho_Chi_Minh")), "vi")
    assert png.startswith(b"\x89PNG")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    from matplotlib.image import imread

    assert imread(io.BytesIO(png)).shape[0] > 200


async def test_admin_gets_the_chart_in_the_chat(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "TLD", 3101)
    admin = bot.member(3101, "Tổng")
    await admin.say("/stats")
    calls = await admin.tap("Biểu đồ")
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert next(iter(photo.files.values())).startswith(b"\x89PNG")
    assert "đơn vị trực thuộc" in photo.params["caption"]


def test_a_dollar_in_a_unit_name_is_drawn_as_typed() -> None:
    typed = "CĐCS Công ty $x^$ Việt Nam"
    chart = Chart(title=Text("{unit}", {"unit": Verbatim(typed)}), bars=(Bar(typed, 50.0),),
                  pace_percent=89.0, target_label=_("Target (100%)"),
                  pace_label=_("Expected by today"))  # fmt: skip
    png = render_png(chart, Translator(ZoneInfo("Asia/Ho_Chi_Minh")), "vi")
    assert png.startswith(b"\x89PNG")
