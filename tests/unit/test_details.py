"""The per-sample details an attack records (bench.results.details): saved and read back."""

from __future__ import annotations

import numpy as np

from bench.results.details import load_details, save_details


def test_details_round_trip(tmp_path):
    path = tmp_path / "d.npz"
    save_details(path, {"model": "m", "attack": "a", "use": "aa.standard"}, [3, 4], [(0.1, {"x": np.array([1, 2])}), (None, {"x": [5, 6]})])
    got = load_details(path)
    assert [(d.eps, list(d.arrays["x"])) for d in got] == [(0.1, [1, 2]), (float("inf"), [5, 6])]
    assert list(got[0].sample) == [3, 4] and got[0].use == "aa.standard"
