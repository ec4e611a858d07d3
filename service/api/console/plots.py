"""Stacked bar charts as inline SVG geometry: drawn by the server, coloured by the stylesheet's classes (the
console's Content-Security-Policy allows no inline style and no script but its own)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 44
MAX_X_LABELS = 8


@dataclass(frozen=True)
class Series:
    key: str  # a decision or an outcome
    label: str  # what the legend says
    css: str  # its colour class in console.css


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str  # the tooltip: when, what, how many


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class Plot:
    width: int
    height: int
    left: int
    top: int
    bottom: float  # y of the x axis
    right: float  # x where the plot area ends
    rects: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    series: list[Series]
    total: int


def _step(largest: int) -> int:
    """A 1-2-5 step giving at most five gridlines up to `largest`."""
    for magnitude in (10**e for e in range(10)):
        for base in (1, 2, 5):
            if largest / (base * magnitude) <= 5:
                return base * magnitude
    return 10**10


def when(start: datetime, bucket_seconds: int) -> str:
    if bucket_seconds < 3600:
        return start.strftime("%H:%M")
    if bucket_seconds < 86400:
        return start.strftime("%d %b %H:%M")
    return start.strftime("%d %b %Y")


def stacked_bars(
    buckets: list[tuple[datetime, dict[str, int]]], series: list[Series], *, bucket_seconds: int, unit: str
) -> Plot:
    """One bar per bucket, its series stacked in `series` order; counts outside `series` are left out."""
    totals = [sum(counts.get(s.key, 0) for s in series) for _, counts in buckets]
    step = _step(max(totals, default=0) or 1)
    top_value = max(step, math.ceil(max(totals, default=0) / step) * step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(buckets), 1)
    bar_w = max(1.0, slot * 0.7)
    rects: list[Rect] = []
    for i, (start, counts) in enumerate(buckets):
        x = LEFT + i * slot + (slot - bar_w) / 2
        below = 0
        for s in series:
            n = counts.get(s.key, 0)
            if not n:
                continue
            height = plot_h * n / top_value
            y = TOP + plot_h * (1 - (below + n) / top_value)
            title = f"{when(start, bucket_seconds)}: {n} {unit} {s.label}"
            rects.append(Rect(round(x, 1), round(y, 1), round(bar_w, 1), round(height, 1), s.css, title))
            below += n
    every = max(1, math.ceil(len(buckets) / MAX_X_LABELS))
    x_ticks = [
        Tick(round(LEFT + (i + 0.5) * slot, 1), when(start, bucket_seconds))
        for i, (start, _) in enumerate(buckets)
        if i % every == 0
    ]
    y_ticks = [Tick(round(TOP + plot_h * (1 - v / top_value), 1), str(v)) for v in range(0, top_value + 1, step)]
    return Plot(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        bottom=TOP + plot_h,
        right=WIDTH - RIGHT,
        rects=rects,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        series=series,
        total=sum(totals),
    )
