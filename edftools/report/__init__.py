"""Reports: the refinement table and comparisons as Markdown and self-contained HTML, and the
demo. Formatting only: every number comes from a result of :mod:`edftools.analysis`, every
figure from :mod:`edftools.plot`. Importing this package is cheap and never imports torch::

    from edftools.analysis.refinement import RefineOptions, refine
    from edftools.report.refine_table import to_markdown
    from edftools.report.compare_table import to_markdown as compare_markdown
    from edftools.report.writers import demo
"""
