"""A report's figure is drawn again only when its inputs, bench's code or matplotlib's settings changed."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from bench.reporting.figures.plots import FIGURE_FORMATS, save_plot
from bench.reporting.figures.reuse import INDEX, draw_or_reuse, figure_key
from bench.results.examples import Examples

DRAWN: list[str] = []


def plot_line(frame: pd.DataFrame, suite: str, out_dir, name: str = "line"):
    """A tiny figure from a frame; counts its draws."""
    if not len(frame):
        return None
    DRAWN.append(suite)
    fig = Figure(figsize=(2, 2), layout="constrained")
    fig.subplots().plot(frame["x"], frame["y"], label="y")
    return save_plot(fig, out_dir, name, f"{suite}: y", "y against x")


@pytest.fixture
def frame():
    DRAWN.clear()
    return pd.DataFrame({"x": [0.1, 0.2, 0.3], "y": [90.0, 50.0, 10.0]})


def test_the_same_inputs_reuse_the_files_and_any_change_draws_again(tmp_path, frame, monkeypatch):
    first = draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert DRAWN == ["s"] and first.series
    files = {ext: (tmp_path / f"line{ext}").stat().st_mtime_ns for ext in FIGURE_FORMATS}
    again = draw_or_reuse(tmp_path, "line", plot_line, frame.copy(), "s")
    assert DRAWN == ["s"], "an equal frame is the same input"
    assert (again.title, again.caption, again.png, again.svg, again.pdf) == (first.title, first.caption, first.png, first.svg, first.pdf)
    assert {ext: (tmp_path / f"line{ext}").stat().st_mtime_ns for ext in FIGURE_FORMATS} == files, "no file rewritten"

    changed = frame.assign(y=[90.0, 50.0, 10.5])
    draw_or_reuse(tmp_path, "line", plot_line, changed, "s")
    draw_or_reuse(tmp_path, "line", plot_line, changed.astype({"y": "float32"}), "s")
    draw_or_reuse(tmp_path, "line", plot_line, changed.astype({"y": "float32"}), "other suite")
    assert len(DRAWN) == 4, "a value, a dtype and a title each draw again"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    with matplotlib.rc_context({"lines.linewidth": 3.0}):
        draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 6, "another SOURCE_DATE_EPOCH or matplotlib setting draws again"

    (tmp_path / "line.pdf").unlink()
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 7 and (tmp_path / "line.pdf").is_file(), "a missing file is drawn again"
    (tmp_path / "line.png").write_bytes((tmp_path / "line.png").read_bytes()[:100])
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 8, "so is a truncated or edited one"
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 8


def test_a_draw_that_dies_halfway_is_never_taken_for_the_figure_before_it(tmp_path, frame):
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")

    def dies(frame, suite, out_dir):
        (out_dir / "line.png").write_bytes(b"half a figure")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        draw_or_reuse(tmp_path, "line", dies, frame, "s")
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 2, "the first figure's entry was dropped before the draw that died"


def test_a_figure_that_no_longer_applies_is_forgotten_and_an_unkeyable_input_always_draws(tmp_path, frame):
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert draw_or_reuse(tmp_path, "line", plot_line, frame.iloc[:0], "s") is None
    assert "line" not in (tmp_path / INDEX).read_text()
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 2

    assert figure_key(plot_line, (frame.assign(extra=[[1], [2], [3]]), "s")) is None, "a frame of lists cannot be keyed"
    assert figure_key(plot_line, (object(),)) is None
    (tmp_path / INDEX).write_text("{not json")
    draw_or_reuse(tmp_path, "line", plot_line, frame, "s")
    assert len(DRAWN) == 3, "an unreadable index draws again"


def test_keys_follow_array_bytes_and_dataclass_fields():
    ex = Examples(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), np.array([3]), np.array([3]), np.array([5]), 0.3)
    same = Examples(np.zeros((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), np.array([3]), np.array([3]), np.array([5]), 0.3)
    assert figure_key(plot_line, ({"base": ("pgd", ex)},)) == figure_key(plot_line, ({"base": ("pgd", same)},))
    moved = Examples(ex.x, ex.x_adv + 1e-7, ex.label, ex.clean_pred, ex.adv_pred, ex.eps)
    assert figure_key(plot_line, ({"base": ("pgd", ex)},)) != figure_key(plot_line, ({"base": ("pgd", moved)},))
    assert figure_key(plot_line, ({"base": ("pgd", ex)},)) != figure_key(
        plot_line, ({"base": ("pgd", Examples(*[*vars(ex).values()][:5], 0.2))},)
    )
    assert figure_key(plot_line, (1,)) != figure_key(plot_line, (1.0,)) != figure_key(plot_line, ("1",))
