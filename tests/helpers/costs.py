"""Cost files as the cost cell writes them (a model, its size and its training chain), and a spec with a teacher and two students."""

from __future__ import annotations


def cost_body(
    model: str, params: int, own: float | None, teachers: list[float | None], epochs: int = 5, cpu: float | None = None
) -> dict[str, object]:
    """The cost file of ``model``: ``own`` seconds of training (``cpu`` CPU seconds), after its teachers' (nearest first)."""
    chain = [{"id": f"t{i}", "train_seconds": s, "epochs": epochs} for i, s in enumerate(teachers)]
    return {
        "model": model,
        "arch": "tiny-mlp",
        "params": params,
        "checkpoint_bytes": 4 * params,
        "flops_per_sample": 2 * params,
        "latency_batch1_ms": 0.5,
        "latency_large_ms": 8.0,
        "large_batch": 256,
        "latency_large_per_sample_ms": 8.0 / 256,
        "threads": 2,
        "device": "cpu",
        "training": {"id": model, "train_seconds": own, "train_cpu_seconds": cpu, "epochs": epochs if own is not None else None},
        "teachers": chain,
        "measured": {"computed_at": "2026-01-01T00:00:00+00:00"},
    }


SPEC = {
    "models": [
        {"id": "teacher", "kind": "teacher", "train": {"temperature": 100}},
        {"id": "s1", "kind": "student", "teacher": "teacher", "train": {"temperature": 1}},
        {"id": "s100", "kind": "student", "teacher": "teacher", "train": {"temperature": 100}},
        {"id": "ckpt", "kind": "baseline", "train": {"temperature": 1}},
    ]
}
