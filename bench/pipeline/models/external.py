"""Models without their code: programs saved with ``torch.export`` (.pt2) or TorchScript (.pt).

A user exports a network of any architecture; bench loads the program, checks
that it maps the dataset's inputs to one logit per class, and attacks it as a
``kind: external`` model, never training it. Results are keyed by the sha256
of the file's contents.

Neither format unpickles Python code, with one exception this module closes:
``torch.export.load`` (torch 2.14) falls back to ``torch.load(weights_only=False)``
for weights and sample inputs stored as pickles, so a crafted .pt2 could run
code. Every load here runs with ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1``, torch's own
switch that turns every ``torch.load`` into a weights-only load.
"""

from __future__ import annotations

import logging
import os
import pickle
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import Tensor, nn

from bench.errors import CacheError

FORMATS = {".pt2": "torch.export", ".pt": "TorchScript"}


class ExternalModel(nn.Module):
    """A loaded program as a module that maps inputs in [0, 1] to logits.

    Its dropout and batch-norm behaviour was fixed when it was exported (export it in
    eval mode), and exported programs refuse ``train()``/``eval()``; so toggling the
    mode changes only this wrapper's flag, which the harness saves and restores.
    """

    def __init__(self, program: nn.Module, fmt: str) -> None:
        super().__init__()
        self.program = program
        self.format = fmt

    def train(self, mode: bool = True) -> ExternalModel:
        self.training = mode
        return self

    def forward(self, x: Tensor) -> Tensor:
        return self.program(x)


def program_format(path: str | Path) -> str:
    """``torch.export`` for a .pt2 file, ``TorchScript`` for a .pt file."""
    return FORMATS.get(Path(path).suffix, "TorchScript")


@contextmanager
def _weights_only_loads() -> Iterator[None]:
    # Read by torch.load at every call, so it covers the loads torch.export.load makes internally.
    old = os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    loggers = [logging.getLogger(n) for n in ("torch.export", "torch.export.pt2_archive._package")]
    levels = [lg.level for lg in loggers]
    try:
        with warnings.catch_warnings():
            # torch logs a traceback and warns on a file it cannot read; bench reports it in one line instead.
            warnings.simplefilter("ignore")
            for lg in loggers:
                lg.setLevel(logging.CRITICAL)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        if old is None:
            os.environ.pop("TORCH_FORCE_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = old


def _check_archive(path: Path, fmt: str) -> None:
    # Both formats are zip archives; recognising them first turns the common mix-ups into clear errors.
    if not zipfile.is_zipfile(path):
        raise CacheError(f"{path}: not a {fmt} archive (not a zip file); bench loads programs, never pickles")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    is_export = any(n.endswith("/archive_format") for n in names)
    is_script = any(n.endswith("/data.pkl") for n in names) and any("/code/" in n for n in names)
    if fmt == "torch.export" and not is_export:
        hint = "; it looks like TorchScript: name it .pt" if is_script else ""
        raise CacheError(f"{path}: not a torch.export program (torch.export.save writes one){hint}")
    if fmt == "TorchScript" and not is_script:
        hint = "; it looks like a torch.export program: name it .pt2" if is_export else "; a state dict needs an arch, not kind: external"
        raise CacheError(f"{path}: not a TorchScript archive (torch.jit.save writes one){hint}")


def load_program(path: Path) -> ExternalModel:
    """Load a .pt2 or TorchScript file as an ``ExternalModel`` on the CPU, or raise a one-line ``CacheError``."""
    if not path.is_file():
        raise CacheError(f"{path}: no such file")
    fmt = program_format(path)
    _check_archive(path, fmt)
    try:
        with _weights_only_loads():
            program = torch.export.load(str(path)).module() if fmt == "torch.export" else torch.jit.load(str(path), map_location="cpu")
    except pickle.UnpicklingError as exc:
        raise CacheError(f"{path}: refused, loading it would execute pickled code ({str(exc).splitlines()[0][:120]})") from None
    except Exception as exc:  # noqa: BLE001 - any failure to deserialise means the file is unusable
        raise CacheError(f"{path}: not a loadable {fmt} program ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
    return ExternalModel(program, fmt)


def check_outputs(module: nn.Module, x: Tensor, n_classes: int, dataset: str, where: str) -> None:
    """Run a model on two inputs of the dataset's shape; it must return one finite logit per class."""
    xb = x[:2]
    shape = "x".join(map(str, xb.shape[1:]))
    try:
        with torch.no_grad():
            out = module(xb)
    except Exception as exc:  # noqa: BLE001 - any failure on valid inputs is the file's fault
        why = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise CacheError(f"{where}: the model fails on a batch of {len(xb)} {shape} inputs of {dataset} ({why})") from None
    if not isinstance(out, Tensor) or tuple(out.shape) != (len(xb), n_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise CacheError(
            f"{where}: the model outputs {got} for {len(xb)} inputs; {dataset} needs ({len(xb)}, {n_classes}), one logit per class"
        )
