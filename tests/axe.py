"""axe-core in a real headless Chromium: the WCAG 2.0/2.1 A and AA rules, run on a drawn page.

axe-core's own ``axe.min.js`` comes from the ``axe-playwright-python`` package (a dev dependency, so
pip installs it: no npm, no download at test time). Pages with a Content-Security-Policy need a
browser context made with ``bypass_csp=True`` so the script can be injected.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    """The text of axe.min.js as shipped by axe-playwright-python."""
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any, context: str = "document") -> list[dict[str, Any]]:
    """Run axe-core on ``page`` (a playwright page, already drawn) and return its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    options = {"runOnly": {"type": "tag", "values": WCAG_AA_TAGS}}
    result = page.evaluate(f"async (options) => await axe.run({context}, options)", options)
    return result["violations"]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable list of violations for an assertion message: rule, impact, and the first nodes."""
    lines = []
    for v in violations:
        nodes = v["nodes"]
        lines.append(f"{v['id']} ({v['impact']}, {len(nodes)} element(s)): {v['help']}")
        lines += [f"    {n['target']}: {n.get('failureSummary', '')[:200]}" for n in nodes[:3]]
    return "\n".join(lines)
