"""Small charts drawn on the server as inline SVG: lines over time, bars, sparklines.

The catalog pages must work offline and without JavaScript, so a chart is a piece of
HTML (``<figure>`` holding an ``<svg>`` and its legend) built here from numbers. Every
text that comes from data is escaped. Each point is a ``<circle class="point">`` and
each bar a ``<rect class="bar">`` with a ``<title>`` (the browser's tooltip); days to
flag (quarantined snapshots) are drawn as red bands behind the data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

#: Colours of the series, in order (readable on white, distinct for common colour blindness).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728",
)  # fmt: skip
FLAG = "#d62728"
WIDTH, HEIGHT = 640, 190
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 10, 24
#: Room kept inside the plot at both ends, so the first and last bars fit.
_PAD = 12

Format = Callable[[float], str]


def number(value: float) -> str:
    """A compact rendering of a measure: 4 significant digits, thousands separated."""
    if value != 0 and abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def percent(value: float) -> str:
    """A fraction as a percentage (0.125 -> 12.5%)."""
    return f"{100 * value:.3g}%"


@dataclass(frozen=True)
class Series:
    """One line: a value (or None: a gap) per time."""

    name: str
    points: Sequence[tuple[datetime, float | None]]


@dataclass(frozen=True)
class Bar:
    """One bar at a time; ``flagged`` bars are drawn in red with their ``note``."""

    at: datetime
    value: float
    flagged: bool = False
    note: str = ""


@dataclass(frozen=True)
class Frame:
    """The plot area of one chart and its scales."""

    times: Sequence[datetime]
    low: float
    high: float
    width: int = WIDTH
    height: int = HEIGHT
    flagged: Sequence[datetime] = field(default_factory=tuple)

    def x(self, at: datetime) -> float:
        first, last = min(self.times), max(self.times)
        span = (last - first).total_seconds()
        inner = self.width - _LEFT - _RIGHT - 2 * _PAD
        if span <= 0:
            return _LEFT + _PAD + inner / 2
        return _LEFT + _PAD + inner * (at - first).total_seconds() / span

    def y(self, value: float) -> float:
        inner = self.height - _TOP - _BOTTOM
        span = self.high - self.low
        share = 0.5 if span <= 0 else (value - self.low) / span
        return _TOP + inner * (1 - share)

    def step(self) -> float:
        """The width of one time slot (bars and flag bands are this wide)."""
        inner = self.width - _LEFT - _RIGHT - 2 * _PAD
        return max(2.0, min(2.0 * _PAD, inner / max(len(set(self.times)), 1) * 0.8))


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    flagged: Sequence[datetime] = (),
    threshold: float | None = None,
    fmt: Format = number,
) -> str:
    """A line per series over time, with a dashed ``threshold`` and red ``flagged`` bands."""
    values = [v for s in series for _, v in s.points if v is not None]
    times = sorted({t for s in series for t, _ in s.points} | set(flagged))
    if not times or not values:
        return _empty(title)
    frame = Frame(times, *_y_range([*values, *([threshold] if threshold is not None else [])]),
                  flagged=flagged)  # fmt: skip
    parts = [_axes(frame, fmt), _bands(frame)]
    if threshold is not None:
        y = frame.y(threshold)
        parts.append(
            f'<line class="threshold" x1="{_LEFT}" x2="{frame.width - _RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{FLAG}" stroke-dasharray="5 4" stroke-width="1"/>'
            f'<text x="{frame.width - _RIGHT}" y="{y - 3:.1f}" text-anchor="end" '
            f'fill="{FLAG}" font-size="10">threshold {escape(fmt(threshold))}</text>'
        )
    for index, one in enumerate(series):
        parts.append(_line(frame, one, PALETTE[index % len(PALETTE)], fmt))
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
        f"{escape(s.name)}</li>"
        for i, s in enumerate(series)
    )
    return _figure(title, frame, "".join(parts), legend if len(series) > 1 else "")


def bar_chart(title: str, bars: Sequence[Bar], *, fmt: Format = number) -> str:
    """A bar per time; flagged bars red (with a legend entry saying what the red means)."""
    if not bars:
        return _empty(title)
    frame = Frame([b.at for b in bars], *_y_range([0.0, *(b.value for b in bars)]))
    half = frame.step() / 2
    parts = [_axes(frame, fmt)]
    for bar in bars:
        x, top, base = frame.x(bar.at), frame.y(bar.value), frame.y(max(frame.low, 0.0))
        colour = FLAG if bar.flagged else PALETTE[0]
        tip = f"{bar.at:%Y-%m-%d %H:%M} UTC: {fmt(bar.value)}" + (
            f" ({bar.note})" if bar.note else ""
        )
        parts.append(
            f'<rect class="bar{" flagged" if bar.flagged else ""}" x="{x - half:.1f}" '
            f'y="{min(top, base):.1f}" width="{2 * half:.1f}" '
            f'height="{max(abs(base - top), 1.0):.1f}" fill="{colour}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    notes = sorted({b.note for b in bars if b.flagged and b.note})
    legend = "".join(
        f'<li><span class="swatch" style="background:{FLAG}"></span>{escape(n)}</li>' for n in notes
    )
    return _figure(title, frame, "".join(parts), legend)


def sparkline(values: Sequence[float], *, flagged: Sequence[bool] = ()) -> str:
    """A tiny line of ``values`` (for a table cell); flagged values as red dots."""
    if not values:
        return ""
    width, height = 120, 28
    low, high = min(values), max(values)
    span = high - low or 1.0
    step = (width - 6) / max(len(values) - 1, 1)  # 3 px kept at both ends for the dots
    coords = [
        (3 + i * step if len(values) > 1 else width / 2, 3 + (height - 6) * (1 - (v - low) / span))
        for i, v in enumerate(values)
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(coords))
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{FLAG}"/>'
        for (x, y), bad in zip(coords, flagged, strict=False)
        if bad
    )
    return (
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} '
        f'{height}" role="img" aria-label="trend"><path d="{path}" fill="none" '
        f'stroke="{PALETTE[0]}" stroke-width="1.5"/>{dots}</svg>'
    )


def _line(frame: Frame, series: Series, colour: str, fmt: Format) -> str:
    commands, points, pen_down = [], [], False
    for at, value in sorted(series.points, key=lambda p: p[0]):
        if value is None:
            pen_down = False  # a gap: the next point starts a new segment
            continue
        x, y = frame.x(at), frame.y(value)
        commands.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
        pen_down = True
        tip = f"{series.name} {at:%Y-%m-%d %H:%M} UTC: {fmt(value)}"
        points.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    path = (
        f'<path class="series" data-series="{escape(series.name)}" d="{" ".join(commands)}" '
        f'fill="none" stroke="{colour}" stroke-width="1.6"/>'
        if commands
        else ""
    )
    return f'<g class="series-group">{path}{"".join(points)}</g>'


def _axes(frame: Frame, fmt: Format) -> str:
    right, bottom = frame.width - _RIGHT, frame.height - _BOTTOM
    parts = []
    for value in (frame.low, (frame.low + frame.high) / 2, frame.high):
        y = frame.y(value)
        parts.append(
            f'<line x1="{_LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10" '
            f'fill="#555">{escape(fmt(value))}</text>'
        )
    parts.append(f'<line x1="{_LEFT}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#999"/>')
    first, last = min(frame.times), max(frame.times)
    labels = [(first, "start")] if first == last else [(first, "start"), (last, "end")]
    for at, anchor in labels:
        text = at.strftime("%Y-%m-%d" if at.hour == 0 and at.minute == 0 else "%Y-%m-%d %H:%M")
        parts.append(
            f'<text x="{frame.x(at):.1f}" y="{bottom + 15}" text-anchor="{anchor}" '
            f'font-size="10" fill="#555">{escape(text)}</text>'
        )
    return "".join(parts)


def _bands(frame: Frame) -> str:
    half = frame.step() / 2
    return "".join(
        f'<rect class="flag-band" x="{frame.x(at) - half:.1f}" y="{_TOP}" '
        f'width="{2 * half:.1f}" height="{frame.height - _TOP - _BOTTOM}" fill="{FLAG}" '
        f'fill-opacity="0.15"><title>quarantined {at:%Y-%m-%d %H:%M} UTC</title></rect>'
        for at in frame.flagged
    )


def _figure(title: str, frame: Frame, body: str, legend: str) -> str:
    label = escape(title)
    return (
        f'<figure class="chart"><figcaption>{label}</figcaption>'
        f'<svg viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
        + (f'<ul class="legend">{legend}</ul>' if legend else "")
        + "</figure>"
    )


def _empty(title: str) -> str:
    return (
        f'<figure class="chart empty"><figcaption>{escape(title)}</figcaption>'
        "<p>no data yet</p></figure>"
    )


def _y_range(values: Sequence[float]) -> tuple[float, float]:
    """The value axis: from 0 (or the lowest negative value) to a little above the top."""
    low, high = min(0.0, min(values)), max(values)
    if high == low:
        high = low + (abs(low) or 1.0)
    return low, _nice(high)


def _nice(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 x 10^k at or above ``value``."""
    if value <= 0:
        return value
    scale = 10 ** math.floor(math.log10(value))
    for step in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if value <= step * scale * (1 + 1e-9):
            return step * scale
    return 10 * scale
