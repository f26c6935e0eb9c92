"""The stats-only install at work: run in a fresh venv after `pip install .` (no extras).

Imports edftools, refines and compares a researcher's DataFrame, plots its EDFs, and checks
that none of it needed (or loaded) torch or scikit-learn. Exit 0 on success.
"""

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import edftools

rng = np.random.default_rng(0)
df = pd.concat(
    pd.DataFrame(
        {
            "space": name,
            "error": 30 + 4 * rng.standard_normal(120) + shift,
            "flops": rng.uniform(2e8, 6e8, 120),
        }
    )
    for name, shift in (("A", 0.0), ("B", -5.0), ("C", -10.0))
)
table = edftools.refine(df, ["A", "B", "C"], complexity="flops", n_boot=200).to_frame()
assert table["verdict"].tolist() == ["baseline", "improves", "improves"], table
pair = edftools.compare(data=df, a="A", b="B", complexity="flops", n_boot=200)
assert pair.pairs and pair.pairs[0].verdict, pair
ax = edftools.plot.edf(data=df, hue="space", complexity="flops", ax=Figure().add_subplot())
assert ax.get_legend() is not None
heavy = [m for m in ("torch", "sklearn", "torchvision") if m in sys.modules]
assert not heavy, f"the stats-only library imported {heavy}"
print(f"stats-only install ok: {table['verdict'].tolist()}, {pair.verdict}")
