"""The PRISMA 2020 flow diagram (Page et al. 2021) drawn from the review's checked counts.

Boxes are sized from their measured, wrapped text, so the text always fits; a row of boxes takes the
height of its tallest box. The second column (other methods: citation searching, authors) is drawn only
when the review used other methods. Counts that do not add up give a figure listing the problems
instead of a diagram that looks right and is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import FancyBboxPatch, Rectangle

from erh_report import vocabulary as vocab
from erh_report.data.prisma import Prisma, check_arithmetic
from erh_report.figures import style as st
from erh_report.figures.output import Job, figure, message_job
from erh_report.numbers import NumberStyle
from erh_report.synthesis import ReviewResults

PAD = 6.0
PITCH = 10.5  # line pitch inside boxes
ROW_GAP = 22.0
COL_GAP = 28.0
PHASE_W = 18.0
BANNER = {"databases": "#F9D776", "other": "#D9D9D9"}
PHASE_FILL = "#A9CCE3"
Line = tuple[str, int, bool]  # text, indent level, bold


@dataclass(frozen=True)
class Box:
    key: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class PrismaSpec:
    title: str
    boxes: tuple[Box, ...]
    other_methods: bool
    footnotes: tuple[str, ...]


def _n(style: NumberStyle, n: int) -> str:
    return f"(n\u00a0=\u00a0{style.integer(n)})"


def prisma_spec(p: Prisma, style: NumberStyle, illustrative: bool) -> PrismaSpec:
    """The text of every box, from the counts (nothing is computed here but sums of listed counts)."""

    def items(pairs: list[tuple[str, int]], level: int = 1) -> list[Line]:
        return [(f"{label} {_n(style, n)}", level, False) for label, n in pairs]

    databases = sum(n for _, n in p.databases)
    registers = sum(n for _, n in p.registers)
    identified: list[Line] = [("Records identified from:", 0, True)]
    identified.append((f"Databases {_n(style, databases)}", 1, False))
    identified += items(p.databases, 2)
    if p.registers:
        identified.append((f"Registers {_n(style, registers)}", 1, False))
        identified += items(p.registers, 2)
    removed: list[Line] = [
        ("Records removed before screening:", 0, True),
        (f"Duplicate records removed {_n(style, p.duplicates)}", 1, False),
        (f"Records marked as ineligible by automation tools {_n(style, p.automation_excluded)}", 1, False),
        (f"Records removed for other reasons {_n(style, p.other_removed)}", 1, False),
    ]
    excluded: list[Line] = [(f"Reports excluded {_n(style, sum(n for _, n in p.fulltext_excluded))}:", 0, True)]
    excluded += items(p.fulltext_excluded)
    included: list[Line] = [
        (f"Studies included in review {_n(style, p.studies_included)}", 0, True),
        (f"Reports of included studies {_n(style, p.reports_included)}", 0, True),
    ]
    if p.previous_studies or p.previous_reports:
        included += [
            (
                f"of which from the previous version: studies {_n(style, p.previous_studies)}, "
                f"reports {_n(style, p.previous_reports)}",
                1,
                False,
            )
        ]
    boxes = [
        Box("identified", tuple(identified)),
        Box("removed", tuple(removed)),
        Box("screened", ((f"Records screened {_n(style, p.screened)}", 0, False),)),
        Box("screen_excluded", ((f"Records excluded {_n(style, p.screen_excluded)}", 0, False),)),
        Box("sought", ((f"Reports sought for retrieval {_n(style, p.sought)}", 0, False),)),
        Box("not_retrieved", ((f"Reports not retrieved {_n(style, p.not_retrieved)}", 0, False),)),
        Box("assessed", ((f"Reports assessed for eligibility {_n(style, p.assessed)}", 0, False),)),
        Box("fulltext_excluded", tuple(excluded)),
        Box("included", tuple(included)),
    ]
    other = bool(p.other_sources or p.other_sought or p.other_assessed)
    if other:
        other_excluded: list[Line] = [
            (f"Reports excluded {_n(style, sum(n for _, n in p.other_excluded))}:", 0, True),
            *items(p.other_excluded),
        ]
        boxes += [
            Box("other_identified", (("Records identified from:", 0, True), *items(p.other_sources))),
            Box("other_sought", ((f"Reports sought for retrieval {_n(style, p.other_sought)}", 0, False),)),
            Box("other_not_retrieved", ((f"Reports not retrieved {_n(style, p.other_not_retrieved)}", 0, False),)),
            Box("other_assessed", ((f"Reports assessed for eligibility {_n(style, p.other_assessed)}", 0, False),)),
            Box("other_excluded", tuple(other_excluded)),
        ]
    return PrismaSpec(
        "PRISMA 2020 flow diagram", tuple(boxes), other, (vocab.ILLUSTRATIVE_NOTICE,) if illustrative else ()
    )


# ------------------------------------------------------------------------------------- drawing
def _wrap_box(lines: tuple[Line, ...], width: float) -> list[Line]:
    out: list[Line] = []
    for text, level, bold in lines:
        indent = 8.0 * level
        for n, piece in enumerate(st.wrap(text, width - 2 * PAD - indent - (6 if level else 0), st.FONT, bold)):
            out.append((piece, level + (1 if n and level else 0), bold))
    return out


def _box_height(lines: list[Line]) -> float:
    return 2 * PAD + PITCH * len(lines) - 2


def draw_prisma(spec: PrismaSpec) -> MplFigure:
    """Columns A (databases), B (their exclusions), C (other methods), D (their exclusions)."""
    boxes = {b.key: b for b in spec.boxes}
    cols = {
        "A": ("identified", "screened", "sought", "assessed", "included"),
        "B": ("removed", "screen_excluded", "not_retrieved", "fulltext_excluded"),
        "C": ("other_identified", "other_sought", "other_assessed"),
        "D": ("other_not_retrieved", "other_excluded"),
    }
    widths = {"A": 185.0, "B": 200.0, "C": 165.0, "D": 175.0}
    for col, keys in cols.items():  # a column is at least as wide as its longest word needs
        words_in = [t for k in keys if k in boxes for t, _, _ in boxes[k].lines]
        widths[col] = max(widths[col], st.widest_word(words_in, st.FONT, True) + 2 * PAD + 30)
    used = ["A", "B", "C", "D"] if spec.other_methods else ["A", "B"]
    x = {}
    cursor = st.MARGIN + PHASE_W + 8
    for col in used:
        x[col] = cursor
        cursor += widths[col] + (COL_GAP if col in ("A", "C") else 20)
    width = cursor - 20 + st.MARGIN
    wrapped = {k: _wrap_box(b.lines, widths[next(c for c, ks in cols.items() if k in ks)]) for k, b in boxes.items()}
    h = {k: _box_height(v) for k, v in wrapped.items()}
    rows = [
        ("identified", "removed", "other_identified"),
        ("screened", "screen_excluded"),
        ("sought", "not_retrieved", "other_sought", "other_not_retrieved"),
        ("assessed", "fulltext_excluded", "other_assessed", "other_excluded"),
        ("included",),
    ]
    row_h = [max(h[k] for k in keys if k in h) for keys in rows]
    phases = (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4))
    for label, first, last in phases:  # a phase label must fit along its rows
        need = st.text_width(label, st.FONT, True) + 12
        have = sum(row_h[first : last + 1]) + ROW_GAP * (last - first)
        if need > have:
            row_h[last] += need - have
    title_lines = st.wrap(spec.title, width - 2 * st.MARGIN, st.TITLE, bold=True)
    banner_lines = {
        "databases": st.wrap(
            "Identification of studies via databases and registers",
            widths["A"] + COL_GAP + widths["B"] - 2 * PAD,
            st.FONT,
            True,
        )
    }
    if spec.other_methods:
        banner_lines["other"] = st.wrap(
            "Identification of studies via other methods", widths["C"] + COL_GAP + widths["D"] - 2 * PAD, st.FONT, True
        )
    banner_h = 2 * PAD + PITCH * max(len(v) for v in banner_lines.values())
    top = st.MARGIN + 14 * len(title_lines) + 6 + banner_h + 12
    row_y = []
    cursor = top
    for rh in row_h:
        row_y.append(cursor)
        cursor += rh + ROW_GAP
    foot = [ln for n in spec.footnotes for ln in st.wrap(n, width - 2 * st.MARGIN, st.SMALL)]
    height = cursor - ROW_GAP + 10 + 9.5 * len(foot) + st.MARGIN
    fig, ax = st.canvas(width, height)

    y = st.put_title(ax, title_lines, "prisma-title")
    banner_top = y
    for key, (c0, c1) in (("databases", ("A", "B")), ("other", ("C", "D"))):
        if key not in banner_lines:
            continue
        bx, bw = x[c0], x[c1] + widths[c1] - x[c0]
        ax.add_patch(
            FancyBboxPatch(
                (bx, banner_top),
                bw,
                banner_h,
                boxstyle="round,pad=0,rounding_size=4",
                facecolor=BANNER[key],
                edgecolor="none",
                gid=f"prisma-banner-{key}",
            )
        )
        for n, line in enumerate(banner_lines[key]):
            st.put(
                ax,
                bx + bw / 2,
                banner_top + PAD + PITCH * (n + 0.5),
                line,
                bold=True,
                ha="center",
                gid=f"prisma-banner-{key}-text",
            )
    for label, first, last in phases:
        y0 = row_y[first]
        y1 = row_y[last] + row_h[last]
        ax.add_patch(
            FancyBboxPatch(
                (st.MARGIN, y0),
                PHASE_W,
                y1 - y0,
                boxstyle="round,pad=0,rounding_size=4",
                facecolor=PHASE_FILL,
                edgecolor="none",
                gid=f"prisma-phase-{label.lower()}",
            )
        )
        ax.text(
            st.MARGIN + PHASE_W / 2,
            (y0 + y1) / 2,
            label,
            rotation=90,
            ha="center",
            va="center",
            fontsize=st.FONT,
            fontweight="bold",
            parse_math=False,
            gid=f"prisma-phase-{label.lower()}-text",
        )

    where: dict[str, tuple[float, float, float, float]] = {}  # key -> x, y, w, h
    for r, keys in enumerate(rows):
        for key in keys:
            if key not in wrapped:
                continue
            col = next(c for c, ks in cols.items() if key in ks)
            bx, bw, bh = x[col], widths[col], h[key]
            by = row_y[r] + (row_h[r] - bh) / 2  # centred, so a row's arrows meet both boxes
            if key in ("identified", "other_identified"):
                by, bh = row_y[r], row_h[r]  # identification boxes fill their row, as in the PRISMA template
            where[key] = (bx, by, bw, bh)
            ax.add_patch(Rectangle((bx, by), bw, bh, facecolor="white", edgecolor=st.INK, lw=0.7, gid=f"prisma-{key}"))
            for n, (text, level, bold) in enumerate(wrapped[key]):
                st.put(
                    ax,
                    bx + PAD + 8 * level,
                    by + PAD + PITCH * (n + 0.5) - 1,
                    text,
                    bold=bold,
                    gid=f"prisma-{key}-text",
                )
    _arrows(ax, where)
    y = cursor - ROW_GAP + 10 + 4
    st.put_footnotes(ax, y, foot, "prisma-footnote")
    return fig


def _arrow(ax, points: list[tuple[float, float]]) -> None:
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1], strict=True):
        ax.plot([x0, x1], [y0, y1], color=st.INK, lw=0.7)
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={"arrowstyle": "-|>", "lw": 0.7, "color": st.INK, "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8},
    )


def _arrows(ax, where: dict[str, tuple[float, float, float, float]]) -> None:
    def bottom(k: str) -> tuple[float, float]:
        bx, by, bw, bh = where[k]
        return bx + bw / 2, by + bh

    def top(k: str) -> tuple[float, float]:
        bx, by, bw, _ = where[k]
        return bx + bw / 2, by

    def right_to_left(a: str, b: str) -> None:
        ax0, ay, aw, ah = where[a]
        bx, by, _, bh = where[b]
        yy = (max(ay, by) + min(ay + ah, by + bh)) / 2
        _arrow(ax, [(ax0 + aw, yy), (bx, yy)])

    for a, b in (
        ("identified", "screened"),
        ("screened", "sought"),
        ("sought", "assessed"),
        ("assessed", "included"),
        ("other_identified", "other_sought"),
        ("other_sought", "other_assessed"),
    ):
        if a in where and b in where:
            _arrow(ax, [bottom(a), top(b)])
    for a, b in (
        ("identified", "removed"),
        ("screened", "screen_excluded"),
        ("sought", "not_retrieved"),
        ("assessed", "fulltext_excluded"),
        ("other_sought", "other_not_retrieved"),
        ("other_assessed", "other_excluded"),
    ):
        if a in where and b in where:
            right_to_left(a, b)
    if "other_assessed" in where:
        x0, y0 = bottom("other_assessed")
        ix, iy, iw, ih = where["included"]
        _arrow(ax, [(x0, y0), (x0, iy + ih / 2), (ix + iw, iy + ih / 2)])


# ------------------------------------------------------------------------------------- job
def jobs(results: ReviewResults, style: NumberStyle) -> list[Job]:
    review = results.review
    p = review.prisma
    title = "PRISMA 2020 flow diagram"
    if p is None:
        fig = figure(
            "prisma",
            "prisma",
            title,
            f"{title}: no PRISMA counts were given.",
            "Missing flow diagram: the review has no PRISMA counts.",
        )
        return [
            message_job(fig, ["The review has no PRISMA counts (prisma.csv).", "Add them to draw the flow diagram."])
        ]
    identified = p.identified
    other = sum(n for _, n in p.other_sources)
    caption = (
        f"{title} of study selection. {style.integer(identified)} records were identified from databases "
        f"and registers and {style.integer(p.removed)} removed before screening; "
        f"{style.integer(p.screened)} records were screened and {style.integer(p.assessed)} reports "
        f"assessed for eligibility"
        + (
            f"; {style.integer(other)} records came from other methods, of which "
            f"{style.integer(p.other_assessed)} reports were assessed"
            if other or p.other_assessed
            else ""
        )
        + f". {style.integer(p.studies_included)} studies ({style.integer(p.reports_included)} reports) were "
        "included."
    )
    alt = (
        f"Flow diagram: {style.integer(identified)} records identified, {style.integer(p.screened)} screened, "
        f"{style.integer(p.assessed + p.other_assessed)} reports assessed, {style.integer(p.studies_included)} "
        f"studies included."
    )
    fig = figure("prisma", "prisma", title, caption, alt)
    problems = check_arithmetic(p, "prisma")
    if problems:
        return [
            message_job(
                fig,
                [
                    "The PRISMA counts do not add up, so no flow diagram is drawn:",
                    *(f"\u2022 {pr.message} (found {pr.value}, expected {pr.expected})" for pr in problems),
                ],
            )
        ]
    spec = prisma_spec(p, style, review.illustrative)
    return [Job(fig, draw_prisma, spec, cost=3.0)]
