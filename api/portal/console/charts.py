"""Bar charts as data for server-rendered inline SVG (``templates/console/_chart.html``).

No chart library and no script: the geometry is computed here and the template
writes ``<svg role="img">`` with a ``<title>``, a ``<desc>`` and the same
numbers as a table beside it, so a screen reader and a printout get them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarChart", "bar_chart"]

WIDTH = 640
HEIGHT = 200
_TOP = 12
_BOTTOM = 28
_LEFT = 44


@dataclass(frozen=True)
class Bar:
    """One bar: its label and value, its box in the SVG, whether it is flagged."""

    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    flagged: bool = False


@dataclass(frozen=True)
class BarChart:
    """A chart: identifier (for ``aria-describedby``), title, description, bars, scale."""

    key: str
    title: str
    desc: str
    bars: list[Bar]
    maximum: float
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - _BOTTOM
    left: float = _LEFT
    top: float = _TOP


def _nice(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k not below ``value`` (a readable axis maximum)."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def bar_chart(
    key: str,
    title: str,
    desc: str,
    points: Sequence[tuple[str, float]],
    flagged: frozenset[str] = frozenset(),
) -> BarChart:
    """A chart of ``points`` (label, value) in order; labels in ``flagged`` are marked."""
    maximum = _nice(max((v for _, v in points), default=0.0))
    inner = WIDTH - _LEFT - 8
    plot = HEIGHT - _TOP - _BOTTOM
    slot = inner / max(len(points), 1)
    gap = min(4.0, slot * 0.2)
    bars = []
    for i, (label, value) in enumerate(points):
        height = plot * (value / maximum)
        bars.append(
            Bar(
                label=label,
                value=value,
                x=round(_LEFT + i * slot + gap / 2, 2),
                y=round(_TOP + plot - height, 2),
                width=round(max(slot - gap, 1.0), 2),
                height=round(height, 2),
                flagged=label in flagged,
            )
        )
    return BarChart(key, title, desc, bars, maximum)
