"""The examples figure: clean and adversarial inputs of each model's strongest attack, with predictions.

Drawn from ``bench.results.examples.Examples`` (loaded by the report from the optional
``examples/`` artifact); like every figure it returns a ``bench.reporting.doc.Plot``
whose ``images`` and ``series`` are read back from the drawn axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bench.reporting.doc import Plot
from bench.reporting.figures.plots import save_plot
from bench.results.examples import Examples


def _show(ax: Axes, img: np.ndarray, label: str, diverging: bool = False) -> None:
    # C x H x W -> what imshow wants: grey for one channel, RGB for three; perturbations summed over channels.
    if diverging:
        a = img.sum(0)
        lim = float(np.abs(a).max()) or 1.0
        ax.imshow(a, cmap="seismic", vmin=-lim, vmax=lim, interpolation="nearest")
    elif img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(img.transpose(1, 2, 0), 0, 1), interpolation="nearest")
    ax.set_label(label)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_examples(examples: Mapping[str, tuple[str, Examples]], suite: str, out_dir: Path, name: str = "examples") -> Plot | None:
    """A grid per model: clean inputs (label, prediction), adversarial inputs (prediction), and the perturbation.

    ``examples`` maps model -> (attack, ``bench.results.examples.Examples``), normally each
    model's strongest attack. Wrong predictions are red. Axes are labelled
    ``<model>/<clean|adv|delta>/<i>`` so tests can read back the images shown.
    """
    if not examples:
        return None
    ncols = max(len(ex.label) for _, ex in examples.values())
    fig = Figure(figsize=(1.25 * ncols + 1.6, 4.2 * len(examples) + 0.6), layout="constrained")
    subfigs = fig.subfigures(len(examples), 1, squeeze=False)[:, 0]
    for sf, (model, (attack, ex)) in zip(subfigs, examples.items(), strict=True):
        budget = f"eps {ex.eps:g}" if math.isfinite(ex.eps) else "unbounded"
        sf.suptitle(f"{model}: attack {attack} ({budget})", fontsize=10, fontweight="bold")
        axes = sf.subplots(3, ncols, squeeze=False)
        for j in range(ncols):
            if j >= len(ex.label):
                for r in range(3):
                    axes[r][j].set_axis_off()
                continue
            y, cp, ap = int(ex.label[j]), int(ex.clean_pred[j]), int(ex.adv_pred[j])
            x, xa = ex.x[j], ex.x_adv[j]
            _show(axes[0][j], x, f"{model}/clean/{j}")
            axes[0][j].set_title(f"label {y}, pred {cp}", fontsize=8, color="black" if cp == y else "red")
            _show(axes[1][j], xa, f"{model}/adv/{j}")
            axes[1][j].set_title(f"pred {ap}", fontsize=8, color="black" if ap == y else "red")
            _show(axes[2][j], xa - x, f"{model}/delta/{j}", diverging=True)
            axes[2][j].set_title(f"L2 {float(np.sqrt(((xa - x) ** 2).sum())):.2f}", fontsize=7)
        axes[0][0].set_ylabel("clean", fontsize=9)
        axes[1][0].set_ylabel("adversarial", fontsize=9)
        axes[2][0].set_ylabel("perturbation", fontsize=9)
    title = f"{suite}: clean and adversarial examples (each model's strongest attack)"
    caption = (
        "First samples of each model's strongest attack (lowest robust accuracy at its largest eps): clean input with "
        "label and prediction, adversarial input with prediction (red when wrong), and the perturbation (blue -, red +, "
        "each scaled to its own largest change; its L2 norm above it)."
    )
    plot = save_plot(fig, out_dir, name, title, caption)
    series = {
        f"{m}|{kind}": (list(range(len(ex.label))), [float(v) for v in getattr(ex, kind)])
        for m, (_, ex) in examples.items()
        for kind in ("label", "clean_pred", "adv_pred")
    }
    return Plot(plot.name, plot.title, plot.caption, plot.png, plot.svg, series, plot.images, plot.pdf, plot.sha256)
