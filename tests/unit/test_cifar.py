"""The CIFAR-10 nets (bench.pipeline.models.cifar): they normalise inside, exactly as torchvision does, and give logits and gradients."""

from __future__ import annotations

import torch
from helpers.cifar10 import real_images
from PIL import Image

from bench.pipeline.data.bundle import load_data
from bench.pipeline.models.cifar import CIFAR10_MEAN, CIFAR10_STD, PapernotCifar, ResNet18Cifar


def test_the_nets_normalise_inside_exactly_as_torchvision_does(tree):
    from torchvision import transforms

    images, _ = real_images()
    standard = transforms.Compose([transforms.ToTensor(), transforms.Normalize(CIFAR10_MEAN, CIFAR10_STD)])
    expected = torch.stack([standard(Image.fromarray(im)) for im in images])
    x = load_data("cifar10", [tree], seed=0, train_size=None, eval_size=20).x_test
    for net in (PapernotCifar((3, 32, 32), 10), ResNet18Cifar((3, 32, 32), 10)):
        assert torch.allclose(net.normalize(x), expected, atol=1e-6)
    # On real images, CIFAR's statistics standardise each channel to about zero mean and unit spread.
    z = expected.transpose(0, 1).flatten(1)
    assert z.mean(1).abs().max() < 0.35 and ((z.std(1) - 1).abs().max() < 0.35)


def test_both_nets_map_cifar_inputs_to_logits_and_gradients(tree):
    x = load_data("cifar10", [tree], seed=0, train_size=None, eval_size=20).x_test[:4].requires_grad_(True)
    for net, n_params in ((PapernotCifar((3, 32, 32), 10), 1_147_978), (ResNet18Cifar((3, 32, 32), 10), 11_173_962)):
        assert sum(p.numel() for p in net.parameters()) == n_params
        assert {"mean", "std"}.isdisjoint(net.state_dict()), "normalisation constants are not weights"
        out = net.eval()(x)
        assert out.shape == (4, 10)
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert grad.abs().sum() > 0
