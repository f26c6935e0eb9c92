"""SGD through torch's functional ``torch.optim.sgd.sgd``: the update of ``torch.optim.SGD``
without the class, whose construction imports ``torch._dynamo`` (1.3-3.4 s on a worker's first
run; :func:`torch.optim.sgd.sgd` imports nothing).

The update, for each parameter ``theta`` with a gradient ``g`` (torch's SGD, ``dampening = 0``,
``maximize = False``)::

    g <- g + lambda * theta                      (weight decay lambda, when lambda != 0)
    b <- g  at the first step, else  mu * b + g  (momentum buffer, when mu != 0)
    g <- g + mu * b  if nesterov, else  b
    theta <- theta - lr * g

It is the same function called with the same arguments as ``torch.optim.SGD.step`` calls it
(under ``no_grad``, ``foreach``/``fused`` left to its default for the parameters' device), so
the parameters are bit-identical to the class's after any number of steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch.optim.sgd import sgd as functional_sgd

#: torch.optim.SGD's default dampening (an int there: ``1 - dampening`` is passed as alpha).
DAMPENING = 0


class FunctionalSGD:
    """Momentum SGD (Nesterov, weight decay) on ``params``, step for step as
    ``torch.optim.SGD(params, lr, momentum, nesterov=..., weight_decay=...)``.

    ``param_groups`` is one group (``{"params": [...], "lr": lr}``), as the class has it: the
    training loop sets ``group["lr"]`` every iteration, and ``torch.amp.GradScaler`` unscales
    the gradients of ``group["params"]`` before calling :meth:`step`. ``momentum_buffers``
    holds each parameter's buffer (None before its first step with a gradient).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float,
        momentum: float,
        nesterov: bool,
        weight_decay: float,
    ) -> None:
        if lr < 0.0 or momentum < 0.0 or weight_decay < 0.0:
            raise ValueError(
                f"lr, momentum and weight_decay must be >= 0, got {lr}, {momentum}, {weight_decay}"
            )
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.params = list(params)
        self.momentum, self.nesterov, self.weight_decay = momentum, nesterov, weight_decay
        self.param_groups: list[dict[str, Any]] = [{"params": self.params, "lr": lr}]
        self.momentum_buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def __repr__(self) -> str:
        return (
            f"FunctionalSGD({len(self.params)} tensors, lr={self.param_groups[0]['lr']:g}, "
            f"momentum={self.momentum:g}, nesterov={self.nesterov}, "
            f"weight_decay={self.weight_decay:g})"
        )

    def zero_grad(self) -> None:
        """Drop the gradients (``torch.optim.SGD.zero_grad(set_to_none=True)``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of the parameters that have a gradient (module docstring's formula)."""
        with_grad = [i for i, p in enumerate(self.params) if p.grad is not None]
        params = [self.params[i] for i in with_grad]
        grads: list[torch.Tensor] = [p.grad for p in params if p.grad is not None]
        use_momentum = self.momentum != 0
        buffers = [self.momentum_buffers[i] for i in with_grad] if use_momentum else []
        with torch.no_grad():
            functional_sgd(
                params,
                grads,
                buffers,
                has_sparse_grad=any(g.is_sparse for g in grads),
                foreach=None,  # torch's default for the device, as torch.optim.SGD leaves it
                fused=None,
                weight_decay=self.weight_decay,
                momentum=self.momentum,
                lr=self.param_groups[0]["lr"],
                dampening=DAMPENING,
                nesterov=self.nesterov,
                maximize=False,
            )
        if use_momentum:  # the functional form fills the buffers it created in the list
            for i, buffer in zip(with_grad, buffers, strict=True):
                self.momentum_buffers[i] = buffer
