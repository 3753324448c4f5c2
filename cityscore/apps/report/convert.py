"""The executed report notebook as one offline HTML page: our nbconvert template, the Vega bundle inlined once, a strict CSP."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import vl_convert

from cityscore.apps.report.outputs import CHART_KEY, HIDE_TAG, SECTION_KEY, VEGALITE_MIME
from cityscore.core.errors import ConfigError
from cityscore.core.files import write_atomically
from cityscore.core.runtime import skipped_imports
from cityscore.core.settings import TEMPLATES_DIR

with skipped_imports():  # 1.6-2 s of an unused grammar under nbformat's jsonschema
    import nbformat
    from nbconvert import TemplateExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

TEMPLATE_NAME = "report"


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def section_links(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(id, title) of every ``## `` heading the page shows, for its navigation: in Markdown cells,
    and the sections an output opens (``SECTION_KEY``, e.g. "Across neighbourhoods" when the city
    has areas). The ids are the ones nbconvert's Markdown renderer gives headings (spaces become
    hyphens).
    """
    links = []
    for cell in nb.cells:
        if HIDE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            title = output.get("metadata", {}).get(SECTION_KEY)
            if title:
                links.append((title.replace(" ", "-"), title))
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                title = line[3:].strip()
                links.append((title.replace(" ", "-"), title))
    return links


def javascript_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script, cached on disk per vl-convert version (~1 s saved)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cityscore"
    version = vl_convert.__version__  # type: ignore[attr-defined]  # set at run time, not in its stub
    path = cache / f"vl-convert-{version}-bundle.js"
    if path.exists():
        return path.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle()  # type: ignore[call-arg]  # the stub omits the default snippet
    # A literal "</script" or "<!--" would end or confuse the inline script; the bundle has none
    # today, and escaping keeps it so if a future version does.
    bundle = bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    with contextlib.suppress(ConfigError):  # an unwritable cache only costs the next run 1 s
        write_atomically(path, bundle)
    return bundle


def export_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as one HTML page: outputs only, the Vega bundle inlined once."""
    # TemplateExporter rather than HTMLExporter: the latter re-parses the finished page (1 MB of
    # JavaScript) with BeautifulSoup to add alt texts we do not need, and rewrites our markup.
    exporter = TemplateExporter(
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        template_name=TEMPLATE_NAME,
        template_file="index.html.j2",
        exclude_input=True,
    )
    exporter.output_mimetype = "text/html"
    exporter.register_filter("script_json", script_json)
    exporter.register_filter("section_links", section_links)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDE_TAG}), enabled=True)
    bundle = javascript_bundle()
    resources = {
        "cityscore": {
            "title": title,
            "bundle": bundle,
            "draw": PAGE_SCRIPT,
            "csp": content_security_policy([bundle, PAGE_SCRIPT]),
            "chart_key": CHART_KEY,
            "vegalite_mime": VEGALITE_MIME,
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# The page's one script (its hash is in the CSP): draws every chart from its escaped JSON spec (an
# error shows in place of the chart), makes the scoreboard searchable, and opens every collapsed
# section for printing. Without JavaScript the board and every table still read in full.
PAGE_SCRIPT = """
document.querySelectorAll("figure.chart-box").forEach(function (box) {
  var spec = JSON.parse(box.querySelector("script.chart-spec").textContent);
  var target = box.querySelector("div.chart");
  vegaEmbed(target, spec, {renderer: "svg", actions: false}).then(function () {
    box.classList.add("drawn");
  }).catch(function (err) {
    console.error("chart failed to draw:", err);
    target.textContent = "This chart could not be drawn: " + err;
  });
});
document.querySelectorAll(".board").forEach(function (board) {
  var tools = board.querySelector(".board-tools");
  var input = board.querySelector("input[type=search]");
  var count = board.querySelector("[role=status]");
  var sections = Array.prototype.slice.call(board.querySelectorAll("details.category"));
  sections.forEach(function (d) { d.dataset.wasOpen = d.open ? "1" : ""; });
  tools.hidden = false;
  input.addEventListener("input", function () {
    var query = input.value.trim().toLowerCase();
    var found = 0;
    sections.forEach(function (d) {
      var hits = 0;
      d.querySelectorAll("tbody tr").forEach(function (row) {
        var hit = !query || row.dataset.name.indexOf(query) >= 0;
        row.hidden = !hit;
        if (hit) { hits += 1; }
      });
      d.hidden = hits === 0;
      d.open = query ? hits > 0 : d.dataset.wasOpen === "1";
      found += hits;
    });
    count.textContent = query ? found + (found === 1 ? " metric matches" : " metrics match") : "";
  });
});
var closedForPrint = [];
window.addEventListener("beforeprint", function () {
  closedForPrint = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
  closedForPrint.forEach(function (d) { d.open = true; });
});
window.addEventListener("afterprint", function () {
  closedForPrint.forEach(function (d) { d.open = false; });
});
"""


def content_security_policy(scripts: list[str]) -> str:
    """A policy that lets only our own inline scripts run and forbids every network load.

    Escaping is the defence against injected markup; this is the second wall: an injected inline
    handler or script would not match a hash, and nothing may be fetched. Vega compiles its
    expressions with ``Function`` (hence 'unsafe-eval'); Vega-Embed adds inline styles.
    """
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts
    )
    return (
        f"default-src 'none'; script-src {hashes} 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )
