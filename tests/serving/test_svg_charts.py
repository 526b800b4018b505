"""The catalog's SVG charts: points, gaps, bars, flags, scales and escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from feature_jobs.serving.svg_charts import (
    Bar,
    Series,
    bar_chart,
    line_chart,
    number,
    percent,
    sparkline,
)

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def _days(n: int) -> list[datetime]:
    return [DAY0 + timedelta(days=i) for i in range(n)]


def _svg(figure: str) -> ET.Element:
    """The chart's <svg>, parsed as XML (so it is well-formed)."""
    match = re.search(r"<svg.*</svg>", figure, re.S)
    assert match is not None
    return ET.fromstring(match.group(0))


def test_a_line_per_series_a_point_per_value_and_a_gap_per_missing_value() -> None:
    days = _days(5)
    figure = line_chart(
        "Null rate",
        [
            Series("a", [(d, 0.1 * i) for i, d in enumerate(days)]),
            Series("b", [(days[0], 0.2), (days[1], None), (days[2], 0.3), (days[3], 0.4)]),
        ],
        fmt=percent,
    )
    svg = _svg(figure)
    paths = {p.get("data-series"): p.get("d") for p in svg.iter(f"{SVG}path")}
    assert paths["a"].count("M") == 1 and paths["a"].count("L") == 4
    assert paths["b"].count("M") == 2 and paths["b"].count("L") == 1  # broken at the gap
    assert len([c for c in svg.iter(f"{SVG}circle") if c.get("class") == "point"]) == 8
    tips = [t.text for t in svg.iter(f"{SVG}title")]
    assert "b 2026-03-03 00:00 UTC: 30%" in tips
    assert '<ul class="legend">' in figure and ">a</li>" in figure


def test_points_sit_on_their_scale() -> None:
    days = _days(3)
    svg = _svg(line_chart("x", [Series("s", [(days[0], 0.0), (days[1], 5.0), (days[2], 10.0)])]))
    xs, ys = zip(*[(float(c.get("cx")), float(c.get("cy"))) for c in svg.iter(f"{SVG}circle")],
                 strict=True)  # fmt: skip
    assert xs[0] < xs[1] < xs[2] and abs((xs[1] - xs[0]) - (xs[2] - xs[1])) < 0.2
    assert ys[0] > ys[1] > ys[2]  # up is bigger
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.2
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert "10" in labels and "0" in labels  # the axis ends on a round number


def test_bars_flag_days_in_red_with_a_legend() -> None:
    days = _days(4)
    figure = bar_chart(
        "Rows",
        [Bar(d, 100.0 + i, flagged=i == 2, note="quarantined" if i == 2 else "") for i, d in
         enumerate(days)],
    )  # fmt: skip
    rects = [r for r in _svg(figure).iter(f"{SVG}rect") if "bar" in (r.get("class") or "")]
    assert len(rects) == 4
    assert [r.get("class") for r in rects].count("bar flagged") == 1
    assert all(float(r.get("height") or 0) > 0 and float(r.get("width") or 0) > 0 for r in rects)
    assert "quarantined</li>" in figure


def test_flagged_days_are_bands_and_a_threshold_is_dashed() -> None:
    days = _days(3)
    figure = line_chart("PSI", [Series("p", [(d, 0.1) for d in days])], flagged=[days[1]],
                        threshold=0.25)  # fmt: skip
    svg = _svg(figure)
    bands = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "flag-band"]
    assert len(bands) == 1
    [line] = [x for x in svg.iter(f"{SVG}line") if x.get("class") == "threshold"]
    assert line.get("stroke-dasharray")


def test_one_point_no_points_and_constant_values() -> None:
    single = _svg(line_chart("one", [Series("s", [(DAY0, 3.0)])]))
    assert len(list(single.iter(f"{SVG}circle"))) == 1
    assert "no data yet" in line_chart("none", [Series("s", [(DAY0, None)])])
    assert "no data yet" in bar_chart("none", [])
    flat = _svg(line_chart("flat", [Series("s", [(d, 0.0) for d in _days(3)])]))
    assert len({c.get("cy") for c in flat.iter(f"{SVG}circle")}) == 1
    assert sparkline([]) == ""
    assert sparkline([1.0, 2.0], flagged=[False, True]).count("<circle") == 1


def test_text_from_data_is_escaped() -> None:
    figure = line_chart('<b>"t"</b>', [Series("<script>&", [(DAY0, 1.0)]), Series("x", [])])
    assert "<script>" not in figure and "<b>" not in figure
    assert "&lt;script&gt;&amp;" in figure and "&lt;b&gt;&quot;t&quot;&lt;/b&gt;" in figure
    _svg(figure)  # still well-formed


def test_number_formats() -> None:
    assert (number(1234567.0), number(0.000123456), number(0.0)) == ("1,234,567", "0.0001235", "0")
    assert percent(0.125) == "12.5%"
