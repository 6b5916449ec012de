"""Line charts drawn on the server as SVG: the geometry here, the markup in
``templates/_line_chart.html`` (no JavaScript, no external library)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 640
HEIGHT = 240
LEFT = 100  # room for the value labels
RIGHT = 12
TOP = 12
BOTTOM = 28  # room for the month labels
TICKS = 4


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    points: str  # "x,y x,y …" for <polyline points>
    index: int  # picks the colour


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    bottom_y: float
    right_x: float
    ticks: list[Tick]
    x_labels: list[XLabel]
    lines: list[Line]


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^n that is at least `value` (1 for nothing)."""
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(labels: list[str], series: dict[str, list[Decimal]], value_label) -> LineChart:
    """One line per entry of `series` (each as long as `labels`), from 0 to a round maximum;
    `value_label` formats a tick's value. Values below 0 are drawn at 0."""
    top_value = _nice_ceiling(max((max(values) for values in series.values()), default=0))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(1, len(labels) - 1)

    def y_of(value: Decimal) -> float:
        share = float(max(value, Decimal(0)) / top_value)
        return round(TOP + plot_height * (1 - share), 1)

    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom_y=TOP + plot_height,
        right_x=WIDTH - RIGHT,
        ticks=[
            Tick(y_of(top_value * number / TICKS), value_label(top_value * number / TICKS))
            for number in range(TICKS + 1)
        ],
        x_labels=[
            XLabel(round(LEFT + step * index, 1), label) for index, label in enumerate(labels)
        ],
        lines=[
            Line(
                name,
                " ".join(
                    f"{round(LEFT + step * index, 1)},{y_of(value)}"
                    for index, value in enumerate(values)
                ),
                number % 6,
            )
            for number, (name, values) in enumerate(series.items())
        ],
    )
