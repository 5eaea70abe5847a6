"""Per-sample gradient-masking diagnostics computed on a model (the only checks that need it).

For each evaluation input: the largest absolute logit, the gap between the top
two logits, whether the float32 softmax is *exactly* one-hot, and whether the
cross-entropy input gradient is *exactly* zero. A distilled net at T=100 has
logit gaps in the hundreds, past the point (~104) where float32 ``exp``
underflows to 0, so both are true for most of its inputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench.results.diagnostics import COLUMNS


def diagnose(model_id: str, model: nn.Module, x: Tensor, y: Tensor, sample: np.ndarray, batch_size: int = 500) -> pd.DataFrame:
    """Diagnostics of ``model`` on (x, y), in eval mode; the model's mode is restored."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts = []
    try:
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(device).clone().requires_grad_(True)
            yb = y[i : i + batch_size].to(device)
            logits = model(xb).float()
            (grad,) = torch.autograd.grad(F.cross_entropy(logits, yb, reduction="sum"), xb)
            with torch.no_grad():
                probs = torch.softmax(logits, dim=1)
                top2 = logits.topk(2, dim=1).values if logits.shape[1] > 1 else torch.cat([logits, logits], 1)
                onehot = (probs.amax(1) == 1.0) & ((probs == 0).sum(1) == probs.shape[1] - 1)
                parts.append(
                    pd.DataFrame(
                        {
                            "max_abs_logit": logits.abs().amax(1).cpu().numpy(),
                            "logit_gap": (top2[:, 0] - top2[:, 1]).cpu().numpy(),
                            "softmax_onehot": onehot.cpu().numpy(),
                            "grad_zero": (grad.flatten(1).abs().amax(1) == 0).cpu().numpy(),
                            "grad_l1": grad.flatten(1).abs().sum(1).double().cpu().numpy(),
                        }
                    )
                )
    finally:
        model.train(was_training)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS[2:])
    frame.insert(0, "sample", sample[: len(frame)])
    frame.insert(0, "model", model_id)
    return frame[COLUMNS]
