"""Render the reports in headless Chromium: every figure decodes, the tables are there.

The page's Content-Security-Policy forbids scripts, so the test renders a copy whose policy
also allows one inline checker script; the checker marks every <img> that failed to decode
(``naturalWidth == 0``) and writes a summary into the DOM, which ``--dump-dom`` prints. A
screenshot goes to pytest's tmp dir (never into the repository).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; CI does)"
)

CHECKER = """<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images), broken = 0;
  imgs.forEach(function (im) {
    var ok = im.complete && im.naturalWidth > 0;
    im.setAttribute('data-loaded', ok ? 'yes' : 'no');
    if (!ok) { broken += 1; }
  });
  var out = document.createElement('div');
  out.id = 'browser-check';
  out.textContent = 'images=' + imgs.length + ' broken=' + broken +
    ' tables=' + document.querySelectorAll('table').length;
  document.body.appendChild(out);
});
</script>"""


def _flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]


def render(page: Path, tmp_path: Path) -> tuple[str, Path]:
    """The DOM after load (with the checker) and a screenshot path, both via Chromium."""
    html = page.read_text(encoding="utf-8")
    html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    html = html.replace("</body>", CHECKER + "</body>")
    probe = tmp_path / f"probe_{page.name}"
    probe.write_text(html, encoding="utf-8")
    url = probe.as_uri()
    common = [CHROMIUM, *_flags(tmp_path / "profile")]
    dom = subprocess.run(
        [*common, "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    shot = tmp_path / f"{page.stem}.png"
    subprocess.run(
        [*common, "--window-size=1300,2000", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=90,
        check=True,
    )
    return dom, shot


def _summary(dom: str) -> dict[str, int]:
    m = re.search(r'id="browser-check">images=(\d+) broken=(\d+) tables=(\d+)<', dom)
    assert m, "the checker did not run (no #browser-check in the DOM)"
    return dict(zip(("images", "broken", "tables"), map(int, m.groups()), strict=True))


@pytest.mark.parametrize(
    ("name", "min_images", "table_ids"),
    [
        ("refinement.html", 3, ["refinement-table"]),
        ("compare_anynetx_a_vs_regnetx.html", 5, ["spaces-table", "tests-table"]),
    ],
)
def test_report_renders_with_every_figure(demo_result, tmp_path, name, min_images, table_ids):
    page = next(p for p in demo_result.files if p.name == name)
    dom, shot = render(page, tmp_path)
    summary = _summary(dom)
    assert summary["images"] >= min_images
    assert summary["broken"] == 0, "some figures did not decode"
    assert 'data-loaded="no"' not in dom
    for tid in table_ids:
        assert re.search(rf'<table id="{tid}"[^>]*>.*?<td', dom, re.S), f"table {tid} missing"
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_checker_detects_a_broken_figure(tmp_path: Path) -> None:
    """The check can fail: a corrupt embedded PNG is reported as broken."""
    from edftools.report import htmldoc

    bad = b"\x89PNG\r\n\x1a\n" + base64.b64decode("AAAA") * 10
    page = tmp_path / "bad.html"
    page.write_text(htmldoc.document("bad", [htmldoc.figure(bad, "corrupt")]), encoding="utf-8")
    dom, _ = render(page, tmp_path)
    assert _summary(dom) == {"images": 1, "broken": 1, "tables": 0}
