"""The course's material: private copies of the course database, the lessons' files and data,
the "city system" lesson 3 queries, and the daily report lesson 5 runs."""

from __future__ import annotations

import atexit
import datetime as dt
import io
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cityscore.core.errors import CityScoreError
from cityscore.core.settings import database_url
from cityscore.core.vocabulary import VALUE_COLUMNS
from cityscore.kit import Kit
from cityscore.store.copy import copy_sqlite

# --- scratch databases and folders ----------------------------------------------------------------


def scratch_kit(empty: bool = False) -> Kit:
    """A private copy of the course database (``$CITYSCORE_DB``, normally the demo city) to write to.

    The copy lives in a fresh temporary folder, so exercises never change the shared database.
    With ``empty=True`` the copy has the schema and no data (lesson 5: your own city).
    """
    folder = scratch_folder("cityscore-training-")
    kit = Kit(f"sqlite:///{folder / 'scratch.db'}")
    if empty:
        kit.init()
        return kit
    source = database_url()
    if source.startswith("sqlite:///") and Path(source[len("sqlite:///") :]).is_file():
        copy_sqlite(Path(source[len("sqlite:///") :]), folder / "scratch.db")
    else:
        kit.load_demo(Kit(source).latest_date())
    return kit


def course_date() -> dt.date:
    """The latest date in the course database: lessons use it instead of today, so they never go stale."""
    return Kit(database_url()).latest_date()


def scratch_folder(prefix: str = "cityscore-training-files-") -> Path:
    """A fresh temporary folder for files a lesson writes (reports, exports); Python removes it
    when it exits (the kernel's shutdown), so a lesson leaves nothing behind."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


# --- lesson 3: getting data in --------------------------------------------------------------------


_MISTAKES = [
    # (metric, column to spoil, how it is spoiled) — each a slip people make in a spreadsheet
    ("Pothole Repairs On Time", "metric", lambda text: text.replace("Repairs", "Repair")),
    ("EMS Response Time", "value", lambda text: text.replace(".", ",")),
    ("Library Users", "date", lambda text: pd.Timestamp(text).strftime("%d/%m/%Y")),
    ("Park Permits Issued", "value", lambda text: f"{text} permits"),
]


def clean_rows(kit: Kit) -> pd.DataFrame:
    """The rows the lesson-3 file should hold: one new day (after the latest) for a few metrics."""
    day = (kit.latest_date() + dt.timedelta(days=1)).isoformat()
    last = kit.observations(kit.latest_date() - dt.timedelta(days=6), kit.latest_date())
    rows = []
    for metric, *_ in [*_MISTAKES, ("311 Calls Answered On Time", "", None)]:
        recent = last[last["metric"] == metric].iloc[-1]
        rows.append(
            {
                "metric": metric,
                "date": day,
                "value": "" if pd.isna(recent["value"]) else f"{recent['value']:g}",
                "numerator": "" if pd.isna(recent["numerator"]) else f"{recent['numerator']:g}",
                "denominator": ""
                if pd.isna(recent["denominator"])
                else f"{recent['denominator']:g}",
            }
        )
    return pd.DataFrame(rows)


def csv_with_mistakes(kit: Kit) -> str:
    """A values.csv for the day after the latest, with four typical mistakes to fix from the error report."""
    rows = clean_rows(kit)
    for metric, column, spoil in _MISTAKES:
        at = rows.index[rows["metric"] == metric][0]
        rows.loc[at, column] = spoil(rows.loc[at, column])
    return rows.to_csv(index=False, lineterminator="\n")


def city_system(kit: Kit) -> str:
    """A small SQLite "city system" (a work-order table) for the kit's last 30 days; returns its URL.

    It plays the part of a department's database that the lesson queries with SQL.
    """
    folder = scratch_folder("cityscore-city-system-")
    path = folder / "work_orders.db"
    orders = _work_orders(kit.latest_date())
    with sqlite3.connect(path) as con:
        orders.to_sql("work_orders", con, index=False)
    return f"sqlite:///{path}"


def _work_orders(end: dt.date, days: int = 30, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for offset in range(days):
        day = pd.Timestamp(end) - pd.Timedelta(days=days - 1 - offset)
        for kind, n, due_days in (("pothole", 12, 2), ("streetlight", 6, 5)):
            for _ in range(int(rng.poisson(n))):
                late = rng.random() < 0.1  # about one order in ten waits past its due date
                waited = due_days if late else int(rng.integers(0, due_days))
                opened = day - pd.Timedelta(days=waited, hours=int(rng.integers(0, 12)))
                closed = day + pd.Timedelta(hours=int(rng.integers(8, 17)))
                rows.append(
                    {
                        "kind": kind,
                        "opened_at": opened.isoformat(sep=" "),
                        "due_at": (opened + pd.Timedelta(days=due_days)).isoformat(sep=" "),
                        "closed_at": closed.isoformat(sep=" "),
                    }
                )
        if offset == days - 1:  # still open: must not count
            rows.append(
                {
                    "kind": "pothole",
                    "opened_at": day.isoformat(sep=" "),
                    "due_at": None,
                    "closed_at": None,
                }
            )
    frame = pd.DataFrame(rows)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def expected_work_order_values(url: str, kind: str, metric: str) -> pd.DataFrame:
    """What the lesson-3 query should return, computed in pandas: on-time closures per closing day."""
    with sa.create_engine(url).connect() as con:
        orders = pd.read_sql_table("work_orders", con)
    closed = orders[(orders["kind"] == kind) & orders["closed_at"].notna()]
    closed_at, due_at = pd.to_datetime(closed["closed_at"]), pd.to_datetime(closed["due_at"])
    frame = pd.DataFrame(
        {"date": closed_at.dt.strftime("%Y-%m-%d"), "on_time": closed_at <= due_at}
    )
    out = frame.groupby("date")["on_time"].agg(numerator="sum", denominator="size").reset_index()
    out.insert(0, "metric", metric)
    return out.astype({"numerator": float, "denominator": float})


def read_csv_text(text: str) -> pd.DataFrame:
    """A CSV text as a table of strings, to look at a file inside a lesson."""
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


# --- lesson 5: your city --------------------------------------------------------------------------


EXAMPLE_METRICS = """name,definition,category,unit,direction,kind,aggregation,target,baseline,trend,weight
Permits Issued On Time,Building permits issued within 30 days,Economic Development,share of permits,higher,ratio,,0.85,,false,1
Ambulance Response Time,Median minutes from call to arrival,Public Safety,minutes,lower,value,median,8,,false,1
Library Visits,Visitors counted at the library doors,Community & Culture,visitors,higher,value,mean,400,,false,1
Streetlights Fixed On Time,Streetlight outages fixed within 3 days,Basic City Services,share of repairs,higher,ratio,,0.9,,false,1
Days To Pay Invoices,Mean days from invoice to payment,Government Operations,days,lower,value,mean,20,,false,1
"""


def sample_month(kit: Kit, end: dt.date, seed: int = 5) -> str:
    """A values.csv with 30 days of made-up data around each metric's target, standing in for your city's data."""
    rng = np.random.default_rng(seed)
    metrics, targets = (
        kit.metrics(),
        kit.targets().drop_duplicates("metric", keep="last").set_index("metric"),
    )
    days = pd.date_range(end=pd.Timestamp(end), periods=30, freq="D").strftime("%Y-%m-%d")
    rows = []
    for metric in metrics.itertuples(index=False):
        target = float(targets.loc[metric.name, "target"])
        for day in days:
            if metric.kind == "ratio":
                total = int(rng.integers(20, 60))
                share = min(1.0, max(0.0, target * rng.normal(1.0, 0.08)))
                rows.append(
                    {
                        "metric": metric.name,
                        "date": day,
                        "numerator": round(total * share),
                        "denominator": total,
                    }
                )
            else:
                value = max(0.0, target * rng.normal(1.0, 0.12))
                rows.append({"metric": metric.name, "date": day, "value": round(value, 2)})
    frame = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    return frame.to_csv(index=False, lineterminator="\n")


def daily_report(kit: Kit, city_name: str) -> Path:
    """Run ``cityscore report`` for ``kit`` into a scratch folder; the path of the HTML page.

    It runs the command line in a child process, as a scheduled task would, so the report kernel's
    start-up chatter stays out of the lesson; a failure raises ``CityScoreError`` with its message.
    """
    folder = scratch_folder()
    command = [sys.executable, "-m", "cityscore", "--db", kit.url, "report"]
    command += ["--out", str(folder), "--city", city_name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    pages = sorted(folder.glob("*/cityscore-*.html"))
    if done.returncode != 0 or not pages:
        msg = f"the daily report failed: {done.stderr.strip() or done.stdout.strip()}"
        raise CityScoreError(msg)
    return pages[-1]
