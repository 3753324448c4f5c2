"""`cityscore report`: run the daily report notebook and publish it as one offline HTML file.

Two halves. The notebook half (``daily_data``, ``show``, ``*_html``) is what
``notebooks/daily_report.ipynb`` calls, so the notebook stays thin. The command half executes that
notebook with papermill and converts it with nbconvert and our template *in the same process* (one
Python start-up, not two), then writes every file atomically: a failed run leaves the previous
report, ``latest.html`` and ``index.html`` untouched.

The database URL reaches the kernel through ``$CITYSCORE_DB`` only, never as a notebook parameter,
so no credential is written into any file. Top-level imports stay light: every ``cityscore`` call
imports this module to build its parser.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import DB_ENV, NOTEBOOKS_DIR, REPORTS_DIR, TEMPLATES_DIR, database_url, environment
from .errors import CityScoreError, ConfigError

if TYPE_CHECKING:
    import altair as alt
    import nbformat
    import pandas as pd

    from .kit import Kit

HELP = "run the daily report notebook and write reports/<date>/cityscore-<date>.html (one offline file)"
NOTEBOOK = NOTEBOOKS_DIR / "daily_report.ipynb"
TEMPLATE_NAME = "report"
VEGALITE_MIME = "application/vnd.vegalite.v6+json"
SUMMARY_KEY = (
    "cityscore"  # output metadata key that carries the report's key numbers to the command
)
HIDE_TAG = (
    "report-hide"  # cells with this tag run (and are checked by nbval) but stay out of the HTML
)
SPARK_DAYS = 30
MIN_SECRET = 4  # shortest password the outputs are scrubbed of (see _password)


class ReportError(CityScoreError):
    """Raised when the report notebook fails; the message names the failing cell."""


# --- the notebook half ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyData:
    """Everything the daily report shows, computed once by ``daily_data``."""

    as_of: pd.Timestamp
    scores: pd.DataFrame  # score rows for as_of, in the chosen periods (the scoreboard's columns)
    history: pd.DataFrame  # score rows for every day of the history window
    metrics: pd.DataFrame
    targets: pd.DataFrame
    citywide: pd.DataFrame  # summary.citywide(history)
    contributions: pd.DataFrame  # with a `since` column
    exceeding: pd.DataFrame
    follow_up: pd.DataFrame
    freshness: pd.DataFrame

    def city(self, period: str = "day") -> dict[str, Any]:
        """The CityScore row of ``period`` on the report date, as a dict."""
        city = self.citywide
        row = city[(city["as_of"] == self.as_of) & (city["period"].astype(str) == period)]
        return row.iloc[0].to_dict()

    def summary(self, city_name: str) -> dict[str, Any]:
        """Key numbers for the archive index (JSON-safe)."""
        from .display import status_word
        from .render import round_half_even

        day = self.city("day")
        city = self.citywide[self.citywide["period"].astype(str) == "day"].tail(SPARK_DAYS)
        return {
            "as_of": self.as_of.strftime("%Y-%m-%d"),
            "city_name": city_name,
            "cityscore": round_half_even(day["score"]),
            "status": status_word(day["status"]),
            "share_below_one": _number(day["share_below_one"]),
            "scored": int(day["scored"]),
            "spark": [_number(s) for s in city["score"]],
        }

    def key_numbers(self) -> str:
        """Key numbers as one line of text, for people and for nbval to compare."""
        from .render import round_half_even

        parts = [f"as of {self.as_of.date()}"]
        for period in ("day", "week", "month", "quarter"):
            parts.append(f"{period} {round_half_even(self.city(period)['score'])}")
        day = self.city("day")
        parts.append(f"{int(day['below_one'])} of {int(day['scored'])} metrics below 1")
        return "CityScore " + ", ".join(parts)


def _number(value: Any) -> float | None:
    return None if value is None or value != value else round(float(value), 4)


def daily_data(
    kit: Kit,
    report_date: str = "",
    *,
    history_days: int = 365,
    stale_after: int = 7,
    periods: list[str] | None = None,
    leaders_period: str = "week",
) -> DailyData:
    """Scores, history and the derived views for the report date (empty: the latest date with data)."""
    import pandas as pd

    from . import summary
    from .catalog import PERIODS
    from .score import as_date

    first, last = kit.store.date_range()
    if last is None:
        kit.latest_date()  # raises the clear "database has no values yet" error
    as_of = as_date(report_date) if report_date else pd.Timestamp(last)
    if not (pd.Timestamp(first) <= as_of <= pd.Timestamp(last)):
        msg = (
            f"no data for report date {as_of.date()}: the database holds {first} to {last}; "
            "pick a date in that range or leave the date empty for the latest"
        )
        raise ConfigError(msg)
    periods = periods or list(PERIODS)
    unknown = sorted(set(periods) - set(PERIODS))
    if unknown:
        msg = f"unknown period(s) {unknown}; choose from {list(PERIODS)}"
        raise ConfigError(msg)
    start = as_of - pd.Timedelta(days=history_days - 1)
    history = kit.scores(start=start, end=as_of)
    metrics = kit.metrics()
    city = summary.citywide(history)
    contrib = pd.concat(
        [
            summary.contributions(history, metrics, as_of, since_days=days).assign(
                since=_since_label(city, as_of, days, label)
            )
            for days, label in ((1, "since yesterday"), (7, "since last week"))
        ],
        ignore_index=True,
    )
    exceeding, follow_up = summary.leaders(history, as_of, period=leaders_period)
    observations = kit.observations(start, as_of)
    return DailyData(
        as_of=as_of,
        scores=history[
            (history["as_of"] == as_of) & history["period"].astype(str).isin(periods)
        ].reset_index(drop=True),
        history=history,
        metrics=metrics,
        targets=kit.targets(),
        citywide=city,
        contributions=contrib,
        exceeding=exceeding,
        follow_up=follow_up,
        freshness=summary.freshness(observations, metrics, as_of, stale_after=stale_after),
    )


def _since_label(city: pd.DataFrame, as_of: pd.Timestamp, days: int, label: str) -> str:
    """E.g. "since yesterday: 0.99 → 1.03", the day CityScores the contributions explain."""
    import pandas as pd

    from .render import round_half_even

    day = city[city["period"].astype(str) == "day"].set_index("as_of")["score"]
    before = day.get(as_of - pd.Timedelta(days=days))
    return f"{label}: {round_half_even(before)} → {round_half_even(day.get(as_of))}"


def chart_bundle(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """A chart as a Vega-Lite mimebundle; the report template turns it into an inline, escaped spec."""
    spec = chart.to_dict()
    spec.pop("$schema", None)  # a URL the page never needs: Vega-Embed assumes Vega-Lite
    return {VEGALITE_MIME: spec, "text/plain": f"<{type(chart).__name__}>"}


def show(chart: alt.TopLevelMixin) -> None:
    """Display a chart in the notebook so that the report template can embed it offline."""
    from IPython.display import display

    display(chart_bundle(chart), raw=True)


def show_html(text: str, summary: dict[str, Any] | None = None) -> None:
    """Display ready-escaped HTML; ``summary`` rides along in the output metadata for the command."""
    from IPython.display import HTML, display

    display(HTML(text), metadata={SUMMARY_KEY: summary} if summary else None)


def headline_html(daily: DailyData, city_name: str) -> str:
    """The top of the board: today's CityScore large, its status, and the other periods."""
    from .display import escape as _e
    from .display import status_class, status_html
    from .render import round_half_even

    day = daily.city("day")
    others = " · ".join(
        f"{_e(p.capitalize())} <b>{_e(round_half_even(daily.city(p)['score']))}</b>"
        for p in ("week", "month", "quarter")
        if not daily.citywide[daily.citywide["period"].astype(str) == p].empty
    )
    share = day["share_below_one"]
    share_text = "—" if share != share else f"{share:.0%}"
    return (
        '<header class="headline">'
        f'<div class="city">{_e(city_name)} · CityScore for {_e(daily.as_of.strftime("%A, %B %d, %Y"))}</div>'
        f'<div class="big {status_class(day["status"])}">{_e(round_half_even(day["score"]))}</div>'
        f'<div class="status">{status_html(day["status"])} · {_e(day["note"])}</div>'
        f'<div class="periods">{others}</div>'
        f'<div class="share">Share of scored metrics below 1 today: <b>{_e(share_text)}</b> '
        f"({int(day['below_one'])} of {int(day['scored'])})</div>"
        "</header>"
    )


def leaders_html(daily: DailyData) -> str:
    """Exceeding and needs-follow-up lists side by side."""
    from .display import table_html

    columns = {"metric": "Metric", "score": "Week score", "status": "Status"}
    return (
        '<div class="pair">'
        + table_html(
            daily.exceeding, columns, caption="Exceeding", empty="no metric has a week score"
        )
        + table_html(
            daily.follow_up,
            columns,
            caption="Needs follow-up",
            empty="no other metric has a week score",
        )
        + "</div>"
    )


def freshness_html(daily: DailyData, max_rows: int = 20) -> str:
    """Stale metrics and metrics with missing days (the worst ``max_rows`` of each)."""
    from .display import table_html

    fresh = daily.freshness
    stale = fresh[fresh["stale"]].sort_values("days_since", ascending=False)
    gaps = fresh[(fresh["missing_days"] > 0) & ~fresh["stale"]].sort_values(
        "missing_days", ascending=False
    )
    return (
        '<div class="pair">'
        + table_html(
            stale,
            {"metric": "Metric", "last_date": "Latest data", "days_since": "Days old"},
            caption="Stale data",
            empty="every metric has recent data",
            max_rows=max_rows,
        )
        + table_html(
            gaps,
            {"metric": "Metric", "missing_days": "Missing days (last 90)"},
            caption="Missing days",
            empty="no missing days in the last 90",
            max_rows=max_rows,
        )
        + "</div>"
    )


# --- the command half -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date", metavar="D", default="", help="report date (default: the latest date with data)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPORTS_DIR,
        metavar="DIR",
        help="reports folder (default reports/)",
    )
    parser.add_argument(
        "--city", metavar="NAME", help="city name shown in the report (default: the notebook's)"
    )


def run(kit: Kit, args: argparse.Namespace) -> int:
    """Execute, convert and publish; a failure names the cell and keeps the failed notebook."""
    out = Path(args.out)
    parameters: dict[str, Any] = {"report_date": args.date or ""}
    if args.city:
        parameters["city_name"] = args.city
    db = args.db or os.environ.get(DB_ENV)
    secrets = _password(database_url(db))
    try:
        path = publish(out, parameters, db=db, secrets=secrets)
    except ReportError as exc:
        print(f"cityscore: report failed: {exc}", file=sys.stderr)
        return 1
    summary = json.loads((path.parent / "summary.json").read_text(encoding="utf-8"))
    print(f"CityScore {summary['as_of']}: {summary['cityscore']} ({summary['status']})")
    print(f"wrote {path}")
    print(f"updated {out / 'latest.html'} and {out / 'index.html'}")
    return 0


def _password(url: str) -> list[str]:
    """The URL's password as written (maybe %-encoded) and decoded: text that must never be written.

    Passwords shorter than MIN_SECRET are not searched for: replacing every "ab" would garble the
    report, and such a password protects nothing anyway.
    """
    from urllib.parse import unquote

    match = re.match(r"^[^:/]+://[^:/@]+:([^@]*)@", url)
    if not match or len(match.group(1)) < MIN_SECRET:
        return []
    return sorted({match.group(1), unquote(match.group(1))}, key=len, reverse=True)


def publish(
    out: Path, parameters: dict[str, Any], *, db: str | None = None, secrets: Sequence[str] = ()
) -> Path:
    """Run the notebook into a private temp folder, then write the report files into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out), tempfile.TemporaryDirectory(prefix="cityscore-report-") as tmp:
        executed = Path(tmp) / "daily_report.ipynb"
        try:
            nb = execute(executed, parameters, db=db)
        except ReportError as exc:
            if not executed.exists():
                raise
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            failed = out / "failed" / f"daily_report-{stamp}.ipynb"
            kept = _scrub_outputs(_read_nb(executed), secrets)
            write_atomic(failed, _nb_text(kept))
            msg = f"{_scrub(str(exc), secrets)}\nthe failed notebook is kept at {failed}; the previous report is unchanged"
            raise ReportError(msg) from None
        nb = _scrub_outputs(nb, secrets)
        summary = _summary(nb)
        day = summary["as_of"]
        folder = out / day
        try:
            page = export_html(nb, title=f"{summary['city_name']} CityScore {day}")
        except Exception as exc:  # a template or exporter problem: still leave every file as it was
            msg = f"the notebook ran but converting it to HTML failed: {type(exc).__name__}: {exc}"
            raise ReportError(_scrub(msg, secrets)) from exc
        notebook = _nb_text(nb)
        target = folder / f"cityscore-{day}.html"
        write_atomic(folder / f"cityscore-{day}.ipynb", notebook)
        write_atomic(folder / "summary.json", json.dumps(summary, indent=1))
        write_atomic(target, page)
        update_archive(out)
        return target


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """One report run at a time per reports folder (a cron job and a person may overlap)."""
    import fcntl

    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# jsonschema (under nbformat and altair) imports rfc3987_syntax when it is installed, only to check
# "iri" formats we never use; building its grammar costs 2-3 s, in this process and again in the
# kernel. Marking it absent (a None entry in sys.modules makes its import raise ImportError, which
# jsonschema handles) keeps a report run near papermill's own start-up time.
SKIP_IMPORTS = ("rfc3987_syntax",)
_SKIP_LINE = f"import sys; [sys.modules.setdefault(m, None) for m in {SKIP_IMPORTS!r}]"


def execute(
    output: Path, parameters: dict[str, Any], *, db: str | None = None
) -> nbformat.NotebookNode:
    """Run the report notebook with papermill; the database reaches the kernel via $CITYSCORE_DB."""
    for module in SKIP_IMPORTS:
        sys.modules.setdefault(module, None)  # type: ignore[arg-type]
    import papermill

    try:
        with environment(DB_ENV, db):
            return papermill.execute_notebook(
                str(NOTEBOOK),
                str(output),
                parameters=parameters,
                progress_bar=False,
                log_output=False,
                # Runs at kernel start-up, before the notebook; never written into it.
                kernel_manager_class=_this_python_kernel(),
                extra_arguments=[
                    f"--IPKernelApp.exec_lines={_SKIP_LINE}",
                    "--IPKernelApp.log_level=ERROR",  # no start-up chatter in cron mail
                ],
            )
    except papermill.PapermillExecutionError as exc:
        line = _failing_line(exc.traceback or []) or (exc.source or "").strip().partition("\n")[0]
        msg = f"cell {exc.cell_index} (In [{exc.exec_count}]) at `{line}` raised {exc.ename}: {exc.evalue}"
        raise ReportError(msg) from None
    except Exception as exc:  # the kernel did not start, the notebook is missing, ...
        msg = f"could not run {NOTEBOOK.name}: {type(exc).__name__}: {exc}"
        raise ReportError(msg) from None


def _this_python_kernel() -> type:
    """A kernel manager that starts the kernel in this very Python, where cityscore is installed.

    The notebook names the kernel "python3", and a "python3" kernel installed for the user (e.g.
    by ``ipython kernel install --user``) may be another Python without cityscore; cron would fail.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import KernelManager

    class ThisPythonKernelManager(KernelManager):
        @property
        def kernel_spec(self) -> KernelSpec:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="Python 3 (cityscore)", language="python")

    return ThisPythonKernelManager


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failing_line(traceback: list[str]) -> str:
    """The notebook line the traceback points at (IPython marks it ``----> 4 code``)."""
    for frame in traceback:
        for text in _ANSI.sub("", frame).splitlines():
            if text.lstrip().startswith("---->"):
                return text.split("---->", 1)[1].strip().partition(" ")[2].strip()
    return ""


def _summary(nb: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            found = output.get("metadata", {}).get(SUMMARY_KEY)
            if found:
                return dict(found)
    msg = f"{NOTEBOOK.name} ran but displayed no headline (no output carries '{SUMMARY_KEY}' metadata)"
    raise ReportError(msg)


def _read_nb(path: Path) -> nbformat.NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


def _nb_text(nb: nbformat.NotebookNode) -> str:
    import nbformat

    return nbformat.writes(nb)


def _scrub(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` (text, or JSON-like lists and dicts of it) with every secret replaced by ``***``."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return type(value)({key: _scrub(item, secrets) for key, item in value.items()})
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    return value


def _scrub_outputs(nb: nbformat.NotebookNode, secrets: Sequence[str]) -> nbformat.NotebookNode:
    """Belt and braces: the password never reaches the kernel, but if an output echoed it, hide it.

    Only outputs are scrubbed (sources hold no secret), so the page's own JavaScript is never touched.
    """
    if secrets:
        for cell in nb.cells:
            if "outputs" in cell:
                cell.outputs = _scrub(cell.outputs, secrets)
    return nb


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


def javascript_bundle() -> str:
    """Vega + Vega-Lite + Vega-Embed as one script, cached on disk per vl-convert version (~1 s saved)."""
    import vl_convert

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cityscore"
    path = cache / f"vl-convert-{vl_convert.__version__}-bundle.js"
    if path.exists():
        return path.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle()
    # A literal "</script" or "<!--" would end or confuse the inline script; the bundle has none
    # today, and escaping keeps it so if a future version does.
    bundle = bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    with contextlib.suppress(OSError):
        write_atomic(path, bundle)
    return bundle


def export_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as one HTML page: outputs only, the Vega bundle inlined once."""
    from nbconvert import TemplateExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

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
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDE_TAG}), enabled=True)
    bundle = javascript_bundle()
    resources = {
        "cityscore": {
            "title": title,
            "bundle": bundle,
            "draw": DRAW_CHARTS,
            "csp": content_security_policy([bundle, DRAW_CHARTS]),
            "vegalite_mime": VEGALITE_MIME,
        }
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# Draws every chart of the page from its escaped JSON spec; an error shows in place of the chart.
DRAW_CHARTS = """
document.querySelectorAll("figure.chart-box").forEach(function (box) {
  var spec = JSON.parse(box.querySelector("script.chart-spec").textContent);
  vegaEmbed(box.querySelector("div.chart"), spec, {renderer: "svg", actions: false}).catch(function (err) {
    console.error("chart failed to draw:", err);
    box.querySelector("div.chart").textContent = "This chart could not be drawn: " + err;
  });
});
"""


def content_security_policy(scripts: list[str]) -> str:
    """A policy that lets only our own inline scripts run and forbids every network load.

    Escaping is the defence against injected markup; this is the second wall: an injected inline
    handler or script would not match a hash, and nothing may be fetched. Vega compiles its
    expressions with ``Function`` (hence 'unsafe-eval'); Vega-Embed adds inline styles.
    """
    import base64
    import hashlib

    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in scripts
    )
    return (
        f"default-src 'none'; script-src {hashes} 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- the archive ----------------------------------------------------------------------------------

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def archive(out: Path) -> list[dict[str, Any]]:
    """Every published report in ``out`` (newest first), from each date folder's summary.json."""
    entries = []
    for folder in sorted(out.iterdir(), reverse=True) if out.exists() else []:
        summary = folder / "summary.json"
        if (
            _DAY.match(folder.name)
            and summary.exists()
            and (folder / f"cityscore-{folder.name}.html").exists()
        ):
            entries.append(json.loads(summary.read_text(encoding="utf-8")))
    return entries


def sparkline_svg(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """A tiny inline SVG line (no script, no external file) of the recent CityScores, with 1.0 dashed."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return ""
    low, high = min([*points, 1.0]), max([*points, 1.0])
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return round(height - 2 - (v - low) / span * (height - 4), 1)

    step = width / (len(values) - 1)
    coords = " ".join(f"{round(i * step, 1)},{y(v)}" for i, v in enumerate(values) if v is not None)
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<line x1="0" x2="{width}" y1="{y(1.0)}" y2="{y(1.0)}" stroke="#999" stroke-dasharray="3 2"/>'
        f'<polyline fill="none" stroke="#0f3b2a" stroke-width="1.5" points="{coords}"/></svg>'
    )


def index_html(entries: list[dict[str, Any]]) -> str:
    """The archive page: every report with its CityScore, status and a sparkline."""
    from .display import escape as _e
    from .display import status_class as _status_class

    rows = "".join(
        "<tr>"
        f'<td><a href="{_e(e["as_of"])}/cityscore-{_e(e["as_of"])}.html">{_e(e["as_of"])}</a></td>'
        f"<td>{_e(e['city_name'])}</td>"
        f'<td class="score {_status_class(e["status"])}">{_e(e["cityscore"])}</td>'
        f"<td>{_e(e['status'])}</td>"
        f"<td>{sparkline_svg(e.get('spark', []))}</td>"
        "</tr>"
        for e in entries
    )
    latest = (
        '<p><a href="latest.html">Latest report</a></p>' if entries else "<p>No reports yet.</p>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>CityScore reports</title>'
        f"<style>{INDEX_CSS}</style></head><body><h1>CityScore reports</h1>{latest}"
        "<table><thead><tr><th>Date</th><th>City</th><th>CityScore</th><th>Status</th>"
        f"<th>Last {SPARK_DAYS} days</th></tr></thead><tbody>{rows}</tbody></table></body></html>\n"
    )


INDEX_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2b24}"
    "table{border-collapse:collapse}td,th{padding:.35rem .8rem;border-bottom:1px solid #ddd;text-align:left}"
    ".score{font-weight:bold;font-variant-numeric:tabular-nums}.meeting{color:#2e7d32}.near{color:#9a6b00}"
    ".below{color:#c62828}"
)


def update_archive(out: Path) -> None:
    """Rewrite index.html and latest.html (the newest date's report) from what is on disk."""
    entries = archive(out)
    if entries:
        newest = entries[0]["as_of"]
        page = (out / newest / f"cityscore-{newest}.html").read_text(encoding="utf-8")
        write_atomic(out / "latest.html", page)
    write_atomic(out / "index.html", index_html(entries))
