"""Reports: sequential restriction testing (``refine``), comparisons (``compare``), figures and
self-contained HTML/Markdown writers, and the demo.

All numbers come from :mod:`edftools.stats` (through :mod:`edftools.report.measure`); figures
are drawn with seaborn/matplotlib on the Agg backend. Importing this package is cheap and never
imports torch; the submodules load pandas/scipy/matplotlib when used::

    from edftools.report.refine import RefineOptions, refine
    from edftools.report.refine_table import to_markdown
    from edftools.report.compare import CompareOptions, compare_spaces
    from edftools.report.writers import demo
"""
