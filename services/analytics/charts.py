"""Server-side SVG charts: plain markup, no scripts, no external resources, print-friendly."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#1f5f8b", "#e07a1f", "#3c9a5f", "#8a4fa3", "#c43c3c", "#6b7b8c", "#b5a21b", "#2aa3a3")
SUPPRESSED = "<5"
FONT = 'font-family="system-ui, sans-serif"'


def _fmt(value: float | int | None) -> str:
    if value is None:
        return SUPPRESSED
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}".replace(".", ",")
    return f"{int(value):,}".replace(",", ".")


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest label (about 7 px a character at 13 px), at least 200 px: the
    profile's Danish labels can be long ("Nye i Danmark eller i kommunen")."""
    return max(200, min(320, 7 * max((len(label) for label in labels), default=0) + 16))


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )


def hbar(
    title: str,
    items: Sequence[tuple[str, float | int | None]],
    *,
    width: int = 640,
    color: str = PALETTE[0],
    empty: str = "Ingen data endnu",
) -> str:
    """Horizontal bars with the number on each bar; a suppressed cell shows '<5' and no bar."""
    row, label_w = 28, _label_width([label for label, _ in items])
    height = max(1, len(items)) * row + 10
    out = [_open(title, width, height)]
    if not items:
        out.append(f'<text x="10" y="24" {FONT} font-size="14" fill="#555">{escape(empty)}</text></svg>')
        return "".join(out)
    top = max([value for _, value in items if value is not None] + [1])
    usable = width - label_w - 70
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        out.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" {FONT} font-size="13" '
            f'fill="#222">{escape(label)}</text>'
        )
        bar = 0 if value is None else max(2, round(usable * value / top)) if value else 0
        if bar:
            out.append(f'<rect x="{label_w}" y="{y + 4}" width="{bar}" height="{row - 8}" fill="{color}" rx="2"/>')
        out.append(
            f'<text x="{label_w + bar + 6}" y="{y + 18}" {FONT} font-size="13" font-weight="600" '
            f'fill="#222">{escape(_fmt(value))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def stacked_columns(
    title: str,
    columns: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[str],
    series_labels: dict[str, str],
    *,
    width: int = 720,
    height: int = 260,
) -> str:
    """Monthly columns stacked by series (e.g. generation), with a legend and totals on top."""
    legend_rows = (len(series) + 4) // 5
    out = [_open(title, width, height + 20 + 20 * legend_rows)]
    if not columns:
        out.append(f'<text x="10" y="24" {FONT} font-size="14" fill="#555">Ingen data endnu</text></svg>')
        return "".join(out)
    left, bottom = 40, height - 30
    slot = (width - left - 10) / len(columns)
    top = max(sum(c.values()) for _, c in columns) or 1
    for i, (label, counts) in enumerate(columns):
        x = left + i * slot + slot * 0.15
        y: float = bottom
        for j, name in enumerate(series):
            value = counts.get(name, 0)
            h = (bottom - 20) * value / top
            if h:
                y -= h
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"/>'
                )
        out.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle" {FONT} font-size="11" '
            f'fill="#222">{_fmt(sum(counts.values()))}</text>'
        )
        if len(columns) <= 12 or i % 2 == 0:
            out.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{bottom + 16}" text-anchor="middle" {FONT} '
                f'font-size="11" fill="#444">{escape(label)}</text>'
            )
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#999"/>')
    for j, name in enumerate(series):
        lx, ly = left + (j % 5) * 135, height + 8 + (j // 5) * 20
        out.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{lx + 16}" y="{ly + 11}" {FONT} font-size="12" fill="#222">'
            f"{escape(series_labels.get(name, name))}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def line(
    title: str, points: Sequence[tuple[str, float | None]], *, width: int = 720, height: int = 220, percent: bool = True
) -> str:
    """A line over months with each value written at its point (shares as percentages)."""
    out = [_open(title, width, height)]
    known = [(position, value) for position, (_, value) in enumerate(points) if value is not None]
    if not known:
        out.append(f'<text x="10" y="24" {FONT} font-size="14" fill="#555">Ingen data endnu</text></svg>')
        return "".join(out)
    left, bottom, top_y = 40, height - 30, 20
    step = (width - left - 30) / max(1, len(points) - 1)

    highest = max(value for _, value in known)

    def xy(position: int, value: float) -> tuple[float, float]:
        return left + position * step, bottom - (bottom - top_y) * (value if percent else value / highest)

    for frac in (0.0, 0.5, 1.0) if percent else ():
        y = bottom - (bottom - top_y) * frac
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 20}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} font-size="11" '
            f'fill="#666">{int(frac * 100)} %</text>'
        )
    corners = [xy(position, value) for position, value in known]
    path = " ".join(f"{'L' if n else 'M'}{x:.1f},{y:.1f}" for n, (x, y) in enumerate(corners))
    out.append(f'<path d="{path}" fill="none" stroke="{PALETTE[2]}" stroke-width="3"/>')
    for (x, y), (_, value) in zip(corners, known, strict=True):
        label = f"{round(value * 100)} %" if percent else _fmt(value)
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[2]}"/>'
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" {FONT} font-size="11" '
            f'fill="#222">{label}</text>'
        )
    for i, (label, _) in enumerate(points):
        if len(points) <= 12 or i % 2 == 0:
            out.append(
                f'<text x="{left + i * step:.1f}" y="{bottom + 16}" text-anchor="middle" {FONT} '
                f'font-size="11" fill="#444">{escape(label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def paired_bars(
    title: str, items: Sequence[tuple[str, int | None, int | None]], labels: tuple[str, str], *, width: int = 640
) -> str:
    """Two bars per row (e.g. referred and welcomed citizens of a target group)."""
    row, label_w = 46, _label_width([label for label, _, _ in items])
    height = max(1, len(items)) * row + 36
    out = [_open(title, width, height)]
    if not items:
        out.append(f'<text x="10" y="24" {FONT} font-size="14" fill="#555">Ingen data endnu</text></svg>')
        return "".join(out)
    top = max([value for _, first, second in items for value in (first, second) if value is not None] + [1])
    usable = width - label_w - 70
    for i, (label, first, second) in enumerate(items):
        y = 5 + i * row
        out.append(
            f'<text x="{label_w - 8}" y="{y + 24}" text-anchor="end" {FONT} font-size="13" '
            f'fill="#222">{escape(label)}</text>'
        )
        for series, value in enumerate((first, second)):
            by = y + 2 + series * 20
            bar = 0 if not value else max(2, round(usable * value / top))
            if bar:
                out.append(f'<rect x="{label_w}" y="{by}" width="{bar}" height="16" fill="{PALETTE[series]}" rx="2"/>')
            out.append(
                f'<text x="{label_w + bar + 6}" y="{by + 13}" {FONT} font-size="12" font-weight="600" '
                f'fill="#222">{escape(_fmt(value))}</text>'
            )
    ly = height - 20
    for series, name in enumerate(labels):
        out.append(
            f'<rect x="{label_w + series * 150}" y="{ly}" width="12" height="12" fill="{PALETTE[series]}"/>'
            f'<text x="{label_w + series * 150 + 16}" y="{ly + 11}" {FONT} font-size="12">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
