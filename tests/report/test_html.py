"""Hostile strings from the store are escaped in HTML and Markdown; reports are self-contained."""

from __future__ import annotations

import re

from report_synthetic import synthetic_runs

from edftools.analysis import comparison as C
from edftools.analysis.settings import Settings
from edftools.report import compare_html, compare_table, htmldoc

HOSTILE = "<script>alert('x')</script>"


def test_hostile_space_and_sweep_names_are_escaped() -> None:
    runs = synthetic_runs({HOSTILE: 0.0, 'A"&|B': -3.0}, n=40, sweep="<img src=x onerror=1>")
    opts = C.CompareOptions(spaces=(HOSTILE, 'A"&|B'), settings=Settings(n_boot=200), params=("d",))
    res = C.compare_spaces(runs, opts)
    page = compare_html.render(res)
    assert "<script" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "A&quot;&amp;|B" in page
    # every image is an embedded PNG: nothing is fetched from the network
    srcs = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "default-src 'none'" in page
    md = compare_table.to_markdown(res)
    assert "<script" not in md.replace("\\<script", "") and "\\<script>" in md
    assert 'A"&\\|B' in md  # the pipe cannot break the Markdown table
    assert "&lt;" not in md and "&amp;" not in md  # no HTML entities in Markdown


def test_table_and_md_cells_escape() -> None:
    html = htmldoc.table(["<h>"], [["<b>x</b>"]], caption="a<b")
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "a&lt;b" in html
    assert htmldoc.md_cell("a|b\nc<d") == "a\\|b c\\<d"
    assert htmldoc.md_cell("p<1e-4 & <b>x</b> &amp;") == "p<1e-4 & \\<b>x\\</b> \\&amp;"
    assert htmldoc.md_cell("w_{i+1} >= w_i") == "w_{i+1} ≥ w_i"


def test_efit_frame_is_the_batch_fit_of_each_models_block_widths(demo_result) -> None:
    import numpy as np

    from edftools.analysis.curves import EFIT_SPACES
    from edftools.analysis.runs import stage_matrix
    from edftools.spaces.regnet_fit import fit_regnet

    result = demo_result.refinement  # the demo's refine of the synthetic reference
    frame = result.efit
    assert set(frame["space"]) == set(EFIT_SPACES)
    assert (frame["e_fit"] >= 0).all() and frame["e_fit"].notna().all()
    # One model re-fit on its own gives the same e_fit as the batched fit.
    row = frame.iloc[0]
    part = result.frame[
        (result.frame["space"] == row["space"]) & (result.frame["err"] == row["err"])
    ]
    d, w = stage_matrix(part, "d")[0], stage_matrix(part, "w")[0]
    keep = np.isfinite(d) & np.isfinite(w)
    single = fit_regnet(np.repeat(w[keep], d[keep].astype(int))).e_fit
    assert single in set(frame.loc[frame["space"] == row["space"], "e_fit"])


def test_markdown_renders_without_raw_html_or_entities() -> None:
    """What a CommonMark renderer makes of md_text: the text itself, never a tag or entity
    (markdown-it-py when installed; the escapes are CommonMark's backslash escapes)."""
    import pytest

    markdown_it = pytest.importorskip("markdown_it")
    for text in ("p<1e-4", "a & b", "<script>x</script>", "&amp; &#60;", "w ≥ 2", "<!-- c -->"):
        rendered = markdown_it.MarkdownIt().render(htmldoc.md_text(text))
        assert rendered == f"<p>{htmldoc.esc(text)}</p>\n", (text, rendered)
