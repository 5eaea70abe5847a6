"""The architectures (bench.pipeline.models.networks): the Papernot width family, and weights that do not fit."""

from __future__ import annotations

import pytest
import torch

from bench.errors import CacheError
from bench.pipeline.cells.keys import architecture_classes
from bench.pipeline.measure import costs
from bench.pipeline.models.networks import (
    Architecture,
    PapernotMnist,
    PapernotMnistHalf,
    PapernotMnistQuarter,
    PapernotStack,
    ScaledPapernotMnist,
    build_model,
    load_weights,
)

MNIST = (1, 28, 28)


def test_the_width_family_shrinks_the_papernot_net_and_leaves_it_as_it_was():
    full = costs.parameter_count(build_model("papernot-mnist", MNIST, 10))
    half = costs.parameter_count(build_model("papernot-mnist-half", MNIST, 10))
    quarter = costs.parameter_count(build_model("papernot-mnist-quarter", MNIST, 10))
    assert full == 312_202 and quarter < half <= full / 2
    assert (PapernotMnistHalf.width, PapernotMnistQuarter.width) == (0.5, 0.25)
    # At width 1 the family is the Papernot net itself: the same layers drawn in the same order give the same weights.
    torch.manual_seed(0)
    a = PapernotMnist(MNIST, 10).state_dict()
    torch.manual_seed(0)
    b = ScaledPapernotMnist(MNIST, 10).state_dict()
    assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)
    # The net's cache key digests its class and the builder the whole family shares, so editing the builder retrains them all.
    assert architecture_classes("papernot-mnist") == [PapernotMnist, Architecture, PapernotStack]
    assert PapernotStack in architecture_classes("papernot-mnist-half") and PapernotStack in architecture_classes("papernot-cifar")


def test_weights_that_do_not_fit_name_every_tensor():
    state = build_model("small-cnn", (1, 8, 8), 10).state_dict()
    with pytest.raises(CacheError) as info:
        load_weights(build_model("tiny-mlp", (1, 8, 8), 10), state, "mine.pt", "tiny-mlp")
    msg = str(info.value)
    assert msg.startswith("mine.pt: weights do not fit tiny-mlp (missing net.1.weight, net.1.bias, net.3.weight, net.3.bias; unexpected ")
    assert "and 4 more" in msg and "\n" not in msg
