"""FunctionalSGD against torch.optim.SGD: the same parameters and momentum buffers, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from edftools.train.sgd import FunctionalSGD

STEPS = 7


def small_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )


def train_steps(net: nn.Module, opt, unused: nn.Parameter, seed: int) -> None:
    """STEPS steps with a new lr every step; the ``unused`` parameter gets a gradient on odd
    steps only (a parameter without a gradient is skipped, its buffer kept)."""
    gen = torch.Generator().manual_seed(seed)
    for step in range(STEPS):
        x = torch.randn(8, 1, 6, 6, generator=gen)
        y = torch.randint(0, 3, (8,), generator=gen)
        for group in opt.param_groups:
            group["lr"] = 0.3 / (1 + step)
        loss = nn.functional.cross_entropy(net(x), y)
        if step % 2:
            loss = loss + (unused**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.mark.parametrize(
    ("momentum", "nesterov", "weight_decay"),
    [(0.9, True, 5e-4), (0.5, False, 0.0), (0.0, False, 1e-3), (0.9, False, 5e-5)],
)
def test_parameters_are_bit_identical_to_torch_sgd(
    momentum: float, nesterov: bool, weight_decay: float
) -> None:
    results = []
    for make in (torch.optim.SGD, FunctionalSGD):
        net = small_net(seed=3)
        unused = nn.Parameter(torch.ones(5))
        params = [*net.parameters(), unused]
        opt = make(params, lr=0.3, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
        train_steps(net, opt, unused, seed=11)
        results.append((params, opt))
    (torch_params, torch_opt), (ours, our_opt) = results
    assert all(torch.equal(a, b) for a, b in zip(torch_params, ours, strict=True))
    assert not torch.equal(ours[0], small_net(seed=3)[0].weight)  # it did train
    for p_torch, buffer in zip(torch_params, our_opt.momentum_buffers, strict=True):
        want = torch_opt.state[p_torch].get("momentum_buffer")
        assert (want is None) == (buffer is None)
        if want is not None:
            assert torch.equal(want, buffer)
    if momentum == 0:
        assert all(b is None for b in our_opt.momentum_buffers)


def test_zero_grad_drops_the_gradients() -> None:
    net = small_net(seed=0)
    opt = FunctionalSGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.0)
    net(torch.randn(2, 1, 6, 6)).sum().backward()
    opt.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert "lr=0.1" in repr(opt)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(lr=-0.1, momentum=0.9, nesterov=False, weight_decay=0.0), ">= 0"),
        (dict(lr=0.1, momentum=0.0, nesterov=True, weight_decay=0.0), "Nesterov"),
    ],
)
def test_bad_settings_are_refused_as_torch_refuses_them(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FunctionalSGD([nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError):
        torch.optim.SGD([nn.Parameter(torch.ones(1))], **kwargs)


def test_training_a_network_does_not_import_torch_dynamo() -> None:
    """A run's first step costs no torch._dynamo import (1.3-3.4 s in a fresh worker)."""
    code = (
        "import sys\n"
        "from edftools.recipe import TrainSchedule\n"
        "from edftools.spaces.config import NetConfig\n"
        "from edftools.train.data import load_dataset\n"
        "from edftools.train.loop import train_network\n"
        "cfg = NetConfig.from_stages([1], [8], 1, 8, [1], block_type='X', stem_type='small',\n"
        "    stem_width=8, resolution=8, num_classes=10, in_channels=1)\n"
        "schedule = TrainSchedule(epochs=1, batch_size=64)\n"
        "r = train_network(cfg, load_dataset('digits'), schedule, seed=0)\n"
        "assert r.status == 'ok', r\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_grad_scaler_steps_it_as_it_steps_torch_sgd() -> None:
    """The fp16 AMP path: GradScaler unscales ``param_groups``' gradients, skips a step with an
    inf gradient and calls ``step()``; on CPU (scaling enabled) as the CUDA path does."""
    results = []
    for make in (torch.optim.SGD, FunctionalSGD):
        net = small_net(seed=5)
        opt = make(net.parameters(), lr=0.2, momentum=0.9, nesterov=True, weight_decay=5e-4)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=1000)
        gen = torch.Generator().manual_seed(2)
        for step in range(5):
            x = torch.randn(8, 1, 6, 6, generator=gen)
            if step == 2:
                x[0, 0, 0, 0] = float("inf")  # an inf gradient: the scaler skips this step
            loss = nn.functional.cross_entropy(net(x), torch.randint(0, 3, (8,), generator=gen))
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        results.append((list(net.parameters()), scaler.get_scale()))
    (ref, ref_scale), (ours, our_scale) = results
    assert our_scale == ref_scale == 2.0**9  # the inf step was seen and skipped
    assert all(torch.equal(a, b) for a, b in zip(ref, ours, strict=True))
