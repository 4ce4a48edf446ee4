"""CSP `default-src 'self'` refuses inline styles and handlers: no template may carry one
(the browser crawl in tests/browser/test_rough_edges.py checks the rendered pages too)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# Rendered only to PDF by WeasyPrint (core/pdf.py), never served to a browser as HTML.
PDF_ONLY = {"sharing/print_slip.html", "apps/print_receipt.html"}
# Served on its own as an image (<img src>), under the chart's own CSP (charts.CSP: styles only).
SVG_IMAGES = {"measures/chart.svg"}
INLINE = re.compile(r"""\sstyle\s*=|<style\b|\son[a-z]+\s*=\s*["']|\shx-on[:-]""", re.I)


def test_no_template_carries_an_inline_style_or_handler():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")) + sorted(TEMPLATES.rglob("*.svg")):
        if str(path.relative_to(TEMPLATES)) in PDF_ONLY | SVG_IMAGES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(TEMPLATES)}:{n}: {line.strip()[:120]}")
    assert not found, "inline style or handler (CSP refuses it): move it to static/css/app.css\n" + "\n".join(found)
