"""Whether the training extra is installed (``pip install 'edftools[train]'``).

A stats-only install (``pip install edftools``) analyses, plots and stores results; training
needs torch, scikit-learn (the digits data) and Pillow (image folders). ``edftools sweep``
checks them first and says in one line which extra to install.
"""

from __future__ import annotations

import importlib.util
import sys

from edftools.errors import SweepError

#: The extra that installs training, and the modules it provides (import name: package).
TRAIN_EXTRA = "train"
TRAIN_MODULES: dict[str, str] = {"torch": "torch", "sklearn": "scikit-learn", "PIL": "Pillow"}


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (found on the path; not imported here). A module
    set to None in ``sys.modules`` counts as absent, as Python's import does."""
    if module in sys.modules:
        return sys.modules[module] is not None
    return importlib.util.find_spec(module) is not None


def missing_training_modules() -> list[str]:
    """The packages of the training extra that are not installed."""
    return [package for module, package in TRAIN_MODULES.items() if not installed(module)]


def require_training(what: str = "edftools sweep") -> None:
    """Raise a one-line :class:`SweepError` naming the extra when training is not installed."""
    missing = missing_training_modules()
    if missing:
        raise SweepError(
            f"{what} trains models and needs the training extra ({', '.join(missing)} not "
            f"installed): pip install 'edftools[{TRAIN_EXTRA}]'"
        )
