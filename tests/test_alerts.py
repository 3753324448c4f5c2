"""Alert rules on hand-made score frames, the alert state in a real database (told once when it
starts, once when it clears), the report's "Open alerts" section and the ``[alerts]`` settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from cityscore import ConfigError, Kit
from cityscore.core.settings import load_settings
from cityscore.engine.alerts import Alert, AlertRules, changes, evaluate, recipients
from cityscore.pages.report_alerts import alerts_html

DAY = dt.date(2026, 10, 31)
METRICS = pd.DataFrame(
    {"name": ["EMS", "Potholes", "Library"], "category": ["Safety", "Streets", "Culture"]}
)


def frame(rows: list[tuple[int, str, str, float | None, str]]) -> pd.DataFrame:
    """Score rows ``(days before DAY, metric, period, score, status)`` in the score frame's columns."""
    return pd.DataFrame(
        [
            {
                "as_of": pd.Timestamp(DAY) - pd.Timedelta(days=back),
                "metric": metric,
                "period": period,
                "value": None,
                "target": None,
                "score": score,
                "status": status,
                "note": "",
            }
            for back, metric, period, score, status in rows
        ]
    )


def day_scores(metric: str, scores: list[float | None]) -> list[tuple]:
    """Day rows of ``metric``, the last score on DAY, one a day before it."""
    n = len(scores)
    return [(n - 1 - i, metric, "day", s, "below" if s is not None and s < 1 else "meeting")
            for i, s in enumerate(scores)]  # fmt: skip


def test_below_target_for_n_reporting_days_opens_on_the_nth_day():
    rows = frame(day_scores("EMS", [1.2, 0.9, 0.8, 0.7]) + day_scores("Potholes", [0.9, 1.0, 0.9]))
    alerts = evaluate(rows, METRICS, DAY, AlertRules(below_days=3, below_weeks=0, cityscore_drop=0))
    assert [(a.rule, a.subject, a.category) for a in alerts] == [("below_target", "EMS", "Safety")]
    (ems,) = alerts
    # Below 1 on days -2, -1 and 0: the rule first held on the third of them, the report date.
    assert ems.started == DAY and ems.state == "open"
    assert "3 reporting days" in ems.message and "0.70" in ems.message
    # Five days below with a rule of three: it first held two days before the report date.
    longer = frame(day_scores("EMS", [0.9, 0.9, 0.9, 0.8, 0.7]))
    (alert,) = evaluate(longer, METRICS, DAY, AlertRules(below_days=3, below_weeks=0))
    assert alert.started == DAY - dt.timedelta(days=2) and "5 reporting days" in alert.message


def test_reporting_days_skip_days_without_a_score():
    rows = frame(day_scores("EMS", [0.9, None, 0.8, None, 0.7]))
    (alert,) = evaluate(rows, METRICS, DAY, AlertRules(below_days=3, below_weeks=0))
    assert alert.started == DAY and "3 reporting days" in alert.message
    assert evaluate(rows, METRICS, DAY, AlertRules(below_days=4, below_weeks=0)) == []


def test_below_target_for_n_weeks_reads_the_week_score_every_seven_days():
    weeks = [(0, "Library", "week", 0.9, "near"), (7, "Library", "week", 0.8, "below")]
    weeks += [(14, "Library", "week", 1.1, "meeting")]
    # Days between the weekly points do not count, even when above 1.
    weeks += [(3, "Library", "week", 1.5, "meeting"), (10, "Library", "week", 1.5, "meeting")]
    rows = frame(weeks)
    (alert,) = evaluate(rows, METRICS, DAY, AlertRules(below_days=0, below_weeks=2))
    assert alert.subject == "Library" and alert.category == "Culture"
    assert "2 weeks" in alert.message and alert.started == DAY
    assert evaluate(rows, METRICS, DAY, AlertRules(below_days=0, below_weeks=3)) == []


def test_cityscore_drop_since_last_week():
    def city(before: float, now: float) -> pd.DataFrame:
        return frame(
            [(7, "CityScore", "day", before, "meeting"), (0, "CityScore", "day", now, "near")]
        )

    (alert,) = evaluate(city(1.0, 0.85), METRICS, DAY, AlertRules(cityscore_drop=0.1))
    assert (alert.rule, alert.subject, alert.category) == ("cityscore_drop", "CityScore", None)
    assert "1.00 to 0.85" in alert.message and "down 0.15" in alert.message
    assert evaluate(city(1.0, 0.95), METRICS, DAY, AlertRules(cityscore_drop=0.1)) == []
    assert evaluate(city(1.0, 0.5), METRICS, DAY, AlertRules(cityscore_drop=0)) == []


def test_stale_metrics_and_failing_sources_alert_and_a_stale_metric_is_not_below_target():
    rows = frame(
        [(back, "EMS", "day", 0.5, "stale") for back in range(6)]
        + day_scores("Potholes", [0.5] * 6)
    )
    alerts = evaluate(
        rows,
        METRICS,
        DAY,
        AlertRules(below_days=3, below_weeks=0),
        failed_sources={"city311": "cannot connect"},
        stale_metrics=["Library"],
    )
    found = {(a.rule, a.subject) for a in alerts}
    assert found == {
        ("source_failing", "city311"),
        ("stale", "EMS"),
        ("stale", "Library"),
        ("below_target", "Potholes"),
    }
    source = next(a for a in alerts if a.rule == "source_failing")
    assert source.category is None and "cannot connect" in source.message
    off = AlertRules(below_days=3, below_weeks=0, stale=False, source_failing=False)
    assert {(a.rule, a.subject) for a in evaluate(rows, METRICS, DAY, off)} == {
        ("below_target", "EMS"),
        ("below_target", "Potholes"),
    }


def test_alert_rules_refuse_bad_values():
    with pytest.raises(ConfigError, match="below_days must be a whole number"):
        AlertRules(below_days=-1)
    with pytest.raises(ConfigError, match="cityscore_drop must be a number >= 0"):
        AlertRules(cityscore_drop=-0.5)


def test_changes_start_keep_and_clear_alerts_by_rule_and_subject():
    old = Alert("below_target", "EMS", "Safety", DAY - dt.timedelta(days=3), "old text", "open")
    gone = Alert("stale", "Library", "Culture", DAY - dt.timedelta(days=1), "stale", "open")
    now_ems = Alert("below_target", "EMS", "Safety", DAY, "new text", "open")
    new = Alert("cityscore_drop", "CityScore", None, DAY, "fell", "open")
    started, still, cleared = changes([now_ems, new], [old, gone], DAY)
    assert started == [new]
    assert still == [Alert("below_target", "EMS", "Safety", old.started, "new text", "open")]
    assert [(a.subject, a.state) for a in cleared] == [("Library", "cleared")]


def test_recipients_by_category():
    alert = Alert("stale", "EMS", "Safety", DAY, "x", "open")
    assert recipients(alert, {"Safety": ["a@x.org"], "Streets": ["b@x.org"]}) == ["a@x.org"]
    assert recipients(Alert("cityscore_drop", "CityScore", None, DAY, "x", "open"), {}) == []


# --- the state in the database -------------------------------------------------------------------


def test_each_alert_is_told_once_when_it_starts_and_once_when_it_clears(kit: Kit):
    a = Alert("below_target", "EMS", "Safety", DAY, "EMS below", "open")
    b = Alert("stale", "Library", "Culture", DAY, "Library stale", "open")
    kit.record_alerts([a, b], DAY)
    assert [x.subject for x in kit.open_alerts()] == ["EMS", "Library"]
    assert {(x.subject, x.state) for x in kit.unsent_alerts()} == {
        ("EMS", "open"),
        ("Library", "open"),
    }
    kit.mark_alerts_sent(kit.unsent_alerts())
    kit.record_alerts([a, b], DAY)  # a second run the same day
    assert kit.unsent_alerts() == []
    later = DAY + dt.timedelta(days=1)
    kit.record_alerts([a], later)  # Library cleared
    (cleared,) = kit.unsent_alerts()
    assert (cleared.subject, cleared.state, cleared.started) == ("Library", "cleared", DAY)
    assert [x.subject for x in kit.open_alerts()] == ["EMS"]
    kit.mark_alerts_sent([cleared])
    assert kit.unsent_alerts() == []
    kit.record_alerts([a, b], later)  # it comes back: a new alert, told again
    (again,) = kit.unsent_alerts()
    assert (again.subject, again.state) == ("Library", "open")


def test_an_alert_that_starts_and_clears_before_any_notice_is_told_as_cleared(kit: Kit):
    a = Alert("stale", "EMS", "Safety", DAY, "EMS stale", "open")
    kit.record_alerts([a], DAY)
    kit.record_alerts([], DAY)
    assert [(x.subject, x.state) for x in kit.unsent_alerts()] == [("EMS", "cleared")]


def test_an_open_alert_keeps_its_start_and_takes_todays_message(kit: Kit):
    kit.record_alerts([Alert("stale", "EMS", "Safety", DAY, "first", "open")], DAY)
    kit.record_alerts(
        [Alert("stale", "EMS", "Safety", DAY + dt.timedelta(1), "second", "open")], DAY
    )
    (alert,) = kit.open_alerts()
    assert alert.started == DAY and alert.message == "second"


# --- the report section --------------------------------------------------------------------------


def test_the_report_lists_open_alerts_escaped():
    alerts = [
        Alert("stale", "<script>x</script>", "Safety", DAY, "a & b <i>", "open"),
        Alert("stale", "Gone", "Safety", DAY, "cleared one", "cleared"),
    ]
    html = alerts_html(alerts)
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "a &amp; b &lt;i&gt;" in html and "2026-10-31" in html
    assert "Gone" not in html  # only open alerts are listed
    assert "no alert is open" in alerts_html([])


# --- settings ------------------------------------------------------------------------------------


def write_config(folder: Path, text: str) -> Path:
    path = folder / "cityscore.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_alert_and_daily_settings_are_read_with_their_defaults(tmp_path: Path):
    plain = load_settings(write_config(tmp_path, 'city = "X"\n'))
    assert plain.alerts.rules() == vars(AlertRules())
    assert plain.daily.publish is None and plain.daily.wait == 600
    path = write_config(
        tmp_path,
        "[alerts]\nbelow_days = 3\ncityscore_drop = 0.05\nstale = false\n"
        '[alerts.recipients]\n"Public Safety" = ["safety@example.org"]\n'
        '[daily]\npublish = "www"\nwait = 5\nsource_timeout = 2.5\n',
    )
    settings = load_settings(path)
    assert settings.alerts.below_days == 3 and settings.alerts.cityscore_drop == 0.05
    assert settings.alerts.stale is False and settings.alerts.below_weeks == 2
    assert settings.alerts.recipients == {"Public Safety": ("safety@example.org",)}
    assert settings.daily.publish == tmp_path / "www"
    assert (settings.daily.wait, settings.daily.source_timeout) == (5.0, 2.5)
    assert AlertRules(**settings.alerts.rules()).below_days == 3  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[alerts]\nbelow_dayz = 3\n", "unknown key 'alerts.below_dayz'"),
        ("[alerts]\nbelow_days = -2\n", "below_days must be a whole number >= 0"),
        ("[alerts]\nstale = 1\n", "'alerts.stale' must be like stale = true"),
        ('[alerts.recipients]\nSafety = "a@x.org"\n', "must be a list of addresses"),
        ('[alerts.recipients]\nSafety = ["not an address"]\n', "is not a mail address"),
        ("[daily]\nsource_timeout = 0\n", "source_timeout must be a number of seconds above 0"),
        ('[daily]\npublish = ""\n', "publish must name a folder"),
    ],
)
def test_bad_alert_and_daily_settings_give_one_clear_line(tmp_path: Path, text: str, expected: str):
    with pytest.raises(ConfigError) as info:
        load_settings(write_config(tmp_path, text))
    message = str(info.value)
    assert expected in message and "\n" not in message
