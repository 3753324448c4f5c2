"""The explorer's *Scoreboard* and *Exceeding / follow-up* tabs: their frames and the board chart.

The board for one date and period (the CityScore or the category's score first), the leader lists,
and the board chart as a figure with its description and data.
"""

from __future__ import annotations

import pandas as pd

from cityscore.apps.explorer.choices import (
    ALL,
    BOARD_ORDERS,
    Selection,
    category_metrics,
    check_choice,
    matching_metrics,
)
from cityscore.apps.explorer.markup import SCORED, chart_figure, live_message_html
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE, PERIODS
from cityscore.engine.summary import category_scores, leaders, metric_rows
from cityscore.frames.dates import DateLike, as_date
from cityscore.pages import charts
from cityscore.pages.render import score_text, value_target_text

VALUE_TARGET = "value and target"

# "value and target": the period's value and target in the metric's unit, beside its score.
BOARD_COLUMNS = [
    "metric",
    "category",
    "score",
    "status",
    VALUE_TARGET,
    "value",
    "target",
    "note",
]
# The board chart draws this many metrics (a readable page at 2,000 metrics); the table lists all.
BOARD_CHART_ROWS = 30


def scoreboard_view(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    period: str,
    category: str = ALL,
    search: str = "",
    order: str = "lowest",
    bands: Bands = DEFAULT_BANDS,
) -> pd.DataFrame:
    """The scoreboard for one date and period: the CityScore (or the category's score) first, then
    each metric (of ``category`` whose name contains ``search``) from the lowest score up, since that
    is where an analyst looks first; ``order="highest"`` puts the highest first. No score sorts last.
    A category's score gets its status from ``bands`` (the scores' statuses come from the engine).
    """
    check_choice("period", period, list(PERIODS))
    check_choice("order", order, list(BOARD_ORDERS))
    as_of = as_date(as_of)
    names = matching_metrics(metrics, category, search)
    day = scores[(scores["as_of"] == as_of) & (scores["period"] == period)]
    rows = metric_rows(day).assign(metric=lambda f: f["metric"].astype(str))
    rows = rows[rows["metric"].isin(names)].merge(
        metrics[["name", "category"]].rename(columns={"name": "metric"}), on="metric"
    )
    rows = with_value_target(rows, metrics)
    rows = rows.sort_values(
        ["score", "metric"], ascending=[order == "lowest", True], na_position="last"
    )
    head = _headline_row(day, metrics, period, category, bands)
    out = pd.concat([head, rows[BOARD_COLUMNS]], ignore_index=True)
    return out.astype({"status": object, "note": object})


def with_value_target(rows: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (score rows) with a ``value and target`` text column: "252 tons, target 315"."""
    units = metrics.set_index(metrics["name"].astype(str))["unit"] if "unit" in metrics else {}
    texts = [
        value_target_text(v, t, units.get(m, ""))
        for m, v, t in zip(rows["metric"].astype(str), rows["value"], rows["target"], strict=True)
    ]
    return rows.assign(**{VALUE_TARGET: pd.Series(texts, index=rows.index, dtype=object)})


def _headline_row(
    day: pd.DataFrame, metrics: pd.DataFrame, period: str, category: str, bands: Bands
) -> pd.DataFrame:
    """The CityScore row of ``day`` (one date, one period), or the category's weighted score."""
    if category == ALL:
        city = day[day["metric"] == CITYWIDE].assign(
            metric=CITYWIDE, category="", **{VALUE_TARGET: ""}
        )
        return city[BOARD_COLUMNS].astype({"status": object, "note": object})
    cats = category_scores(day, metrics, bands)
    cat = cats[(cats["category"] == category) & (cats["period"] == period)]
    row = {
        "metric": f"{category} (category score)",
        "category": category,
        "value": None,
        "target": None,
        VALUE_TARGET: "",
    }
    if len(cat):
        first = cat.iloc[0]
        row |= {"score": first["score"], "status": first["status"]}
        row["note"] = f"{int(first['scored'])} of {int(first['metrics'])} metrics scored"
    else:
        row |= {"score": None, "status": None, "note": "no metric in this category has a row"}
    return pd.DataFrame([row], columns=BOARD_COLUMNS).astype(
        {"value": float, "target": float, "score": float}
    )


def leader_lists(
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    as_of: DateLike,
    period: str,
    category: str = ALL,
    n: int = 5,
) -> pd.DataFrame:
    """Exceeding and needs-follow-up metrics in one frame, with a ``list`` column saying which."""
    names = category_metrics(metrics, category)
    rows = scores[scores["metric"].isin([*names, CITYWIDE])]
    top, bottom = leaders(rows, as_of, period=period, n=n)
    both = pd.concat(
        [top.assign(list="exceeding"), bottom.assign(list="needs follow-up")], ignore_index=True
    )
    columns = ["list", "metric", "score", "status", VALUE_TARGET, "value", "target"]
    return with_value_target(both, metrics)[columns].astype({"status": object})


def board_chart_rows(board: pd.DataFrame, limit: int = BOARD_CHART_ROWS) -> list[str]:
    """The metrics the board chart draws: the first ``limit`` of the scoreboard (after its headline)."""
    return board["metric"].iloc[1:].head(limit).astype(str).tolist()


def board_chart_data(scores: pd.DataFrame, as_of: DateLike, names: list[str]) -> pd.DataFrame:
    """The drawn metrics' score and status for every period on ``as_of``: one row per metric."""
    day = scores[(scores["as_of"] == as_date(as_of)) & scores["metric"].isin(names)]
    day = day.assign(metric=day["metric"].astype(str), period=day["period"].astype(str))
    wide = day.pivot_table(
        index="metric", columns="period", values="score", aggfunc="first", dropna=False
    )
    status = day.pivot_table(index="metric", columns="period", values="status", aggfunc="first")
    out = pd.DataFrame({"metric": names})
    for period in PERIODS:
        out[period] = out["metric"].map(wide[period]) if period in wide else float("nan")
        if period in status:
            out[f"{period} status"] = out["metric"].map(status[period]).astype(object)
        else:
            out[f"{period} status"] = None
    return out


def board_description(
    board: pd.DataFrame, s: Selection, drawn: int, matching: int, bands: Bands = DEFAULT_BANDS
) -> str:
    """What the board chart shows: the headline score, the status counts, and which metrics."""
    head = board.iloc[0] if len(board) else None
    rows = board.iloc[1:]
    counts = rows["status"].value_counts()
    scored = ", ".join(f"{int(counts.get(k, 0))} {k}" for k in SCORED)
    unscored = int(rows["status"].isna().sum())
    which = "lowest" if s.board == "lowest" else "highest"
    headline = (
        f"{head['metric']} ({s.period}) {score_text(head['score'], bands)}. "
        if head is not None
        else ""
    )
    return (
        f"Scoreboard for {s.as_of.date()}, {s.category.lower() if s.category == ALL else s.category}"
        f"{f', names containing “{s.search.strip()}”' if s.search.strip() else ''}: {headline}"
        f"Of {matching} metrics, {s.period} status: {scored}, {unscored} without a score. "
        f"The chart shows the {drawn} with the {which} {s.period} scores, every period side by side"
        f"{'' if drawn == matching else '; search or pick a category to see others'}."
    )


def board_figure(
    board: pd.DataFrame,
    scores: pd.DataFrame,
    metrics: pd.DataFrame,
    s: Selection,
    bands: Bands = DEFAULT_BANDS,
) -> str:
    """The board chart of ``board`` (``scoreboard_view``) as a figure: its first metrics, every
    period side by side, with the description and the data behind it."""
    names = board_chart_rows(board)
    if not names:
        return live_message_html("No metric to draw on the board for this selection.")
    shown = metrics[metrics["name"].astype(str).isin(names)]
    day = scores[scores["as_of"] == s.as_of]
    where = f" — {s.area}" if s.area else ""
    return chart_figure(
        charts.scoreboard_chart(day[day["metric"].isin(names)], shown, s.as_of, bands),
        f"Scoreboard chart{where}, {s.as_of.date()}",
        board_description(board, s, len(names), len(board) - 1, bands),
        board_chart_data(scores, s.as_of, names),
        bands,
    )
