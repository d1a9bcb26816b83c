"""Text helpers of the figures: wrapping and placing give what matplotlib's own calls give, cheaper."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as hs
from matplotlib import rc_context

from erh_report.figures import style as st


def _greedy(text: str, width: float, size: float, bold: bool) -> list[str]:
    """Word wrap measured word by word, as ``wrap`` did before it measured a text whole first."""
    words = [w for w in text.split(" ") if w]
    lines, current = [], words[0]
    for word in words[1:]:
        if st.text_width(f"{current} {word}", size, bold) <= width:
            current = f"{current} {word}"
        else:
            lines.append(current)
            current = word
    return [*lines, current]


WORDS = hs.sampled_from(["Study", "042", "(2019)", "parent\u2013infant", "fAV", "W", "i", "\u03c4\u00b2", "Ta.", "ff"])


@settings(max_examples=150, deadline=None)
@given(hs.lists(WORDS, min_size=1, max_size=9), hs.floats(10, 160), hs.sampled_from([7.0, 8.0]), hs.booleans())
def test_wrap_gives_the_greedy_word_by_word_lines(words, width, size, bold):
    text = "  ".join(words) if len(words) % 2 else " ".join(words)  # doubled spaces are dropped either way
    assert st.wrap(text, width, size, bold) == _greedy(text, width, size, bold)


def _svg_and_png(place) -> tuple[bytes, bytes]:
    with rc_context(st.RC):
        fig, ax = st.canvas(200, 60)
        place(ax)
        svg, png = io.BytesIO(), io.BytesIO()
        fig.savefig(svg, format="svg", metadata=st.SVG_METADATA)
        fig.savefig(png, format="png", dpi=150)
    return svg.getvalue(), png.getvalue()


def test_put_draws_what_axes_text_draws():
    """``put`` gives its texts a clip path made once per axes (never used: texts are not clipped); the
    figure's SVG and PNG are those of plain ``Axes.text``."""
    texts = [
        (10, 15, "Study or subgroup", "left"),
        (190, 30, "0.27 [0.02, 0.52]", "right"),
        (100, 48, "Total", "center"),
    ]

    def with_put(ax):
        for x, y, text, ha in texts:
            st.put(ax, x, y, text, ha=ha)

    def with_axes_text(ax):
        for x, y, text, ha in texts:
            ax.text(
                x,
                y,
                text,
                fontsize=st.FONT,
                fontweight="normal",
                ha=ha,
                va="center_baseline",
                color=st.INK,
                gid=None,
                parse_math=False,
                clip_on=False,
                fontstyle="normal",
            )

    ours, theirs = _svg_and_png(with_put), _svg_and_png(with_axes_text)
    assert b"Study or subgroup" in ours[0]
    assert ours == theirs
