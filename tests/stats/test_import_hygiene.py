"""edftools.stats is a pure numpy/scipy library: importing it must not load torch."""

import subprocess
import sys


def test_stats_import_does_not_load_torch():
    code = (
        "import sys, edftools, edftools.stats; "
        "from edftools import edf, normalize_weights, edf_band, compare, good_range, trend, power; "
        "assert 'torch' not in sys.modules; assert 'statsmodels' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
