"""The explorer scores with the city's status bands and cap (cityscore.toml), as the report does."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

from cityscore import ConfigError, Kit
from cityscore.apps import serve
from cityscore.apps.explorer.change import change_description
from cityscore.apps.explorer.choices import ALL, Selection
from cityscore.apps.explorer.key_scores import key_numbers
from cityscore.apps.explorer.metric import history_description
from cityscore.apps.explorer.widget import Explorer, explore
from cityscore.core.bands import DEFAULT_BANDS, Bands
from cityscore.core.vocabulary import CITYWIDE
from cityscore.engine.summary import category_scores
from cityscore.pages.render import score_text

from .conftest import DEMO_END

AS_OF = pd.Timestamp(DEMO_END)
# In the demo city on DEMO_END these move week statuses both ways (a 1.003 meeting becomes near, a
# 0.91 near becomes below) and the cap lowers the CityScore (Homicides scores 3.1 uncapped).
BANDS = Bands(meeting=1.01, near=0.95)
CAP = 1.2
TOML = f"[scores]\nmeeting = {BANDS.meeting}\nnear = {BANDS.near}\ncap = {CAP}\n"


def city_folder(folder: Path, toml: str = TOML) -> Path:
    """A city folder holding only its cityscore.toml; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cityscore.toml"
    path.write_text(toml, encoding="utf-8")
    return path


@pytest.fixture
def in_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder is a city folder whose cityscore.toml sets the bands and the cap."""
    monkeypatch.delenv("CITYSCORE_CONFIG", raising=False)
    city_folder(tmp_path / "city")
    monkeypatch.chdir(tmp_path / "city")
    return tmp_path / "city"


def week(scores: pd.DataFrame, day: pd.Timestamp = AS_OF) -> pd.DataFrame:
    """Week rows on ``day``, indexed by metric: score and status as text (no score: "none")."""
    rows = scores[(scores["as_of"] == day) & (scores["period"] == "week")]
    rows = rows.assign(metric=rows["metric"].astype(str)).set_index("metric")
    return pd.DataFrame({"score": rows["score"], "status": rows["status"].astype(object)}).fillna(
        {"status": "none"}
    )


def category_week(scores: pd.DataFrame, kit: Kit, bands: Bands) -> pd.DataFrame:
    """Each category's week score and status on AS_OF, indexed by category."""
    cats = category_scores(scores, kit.metrics(), bands)
    return cats[cats["period"] == "week"].set_index("category")


def board_of(explorer: Explorer) -> pd.DataFrame:
    return week(explorer.frames["scoreboard"].assign(as_of=AS_OF, period="week"))


def assert_same(mine: pd.DataFrame, theirs: pd.DataFrame) -> None:
    theirs = theirs.loc[mine.index]
    assert mine["status"].tolist() == theirs["status"].tolist()
    assert mine["score"].to_numpy() == pytest.approx(theirs["score"].to_numpy(), nan_ok=True)


def test_the_explorer_scores_with_the_city_folders_bands_and_cap(demo_kit: Kit, in_city):
    explorer = Explorer(demo_kit, as_of=DEMO_END)
    assert explorer.error is None
    assert (explorer.bands, explorer.cap) == (BANDS, CAP)
    city = week(demo_kit.scores(AS_OF, bands=BANDS, cap=CAP))
    plain = week(demo_kit.scores(AS_OF))
    board = board_of(explorer)
    assert len(board) == 21  # the CityScore and the demo's 20 metrics
    assert_same(board, city)
    # The settings really change what is shown: statuses both ways, and the CityScore.
    changed = board["status"] != plain.loc[board.index, "status"]
    assert {"near", "below"} <= set(board.loc[changed, "status"])
    assert board.loc[CITYWIDE, "score"] < plain.loc[CITYWIDE, "score"] - 0.01
    # The headline and the captions write the CityScore as the report does, with these bands.
    shown = score_text(board.loc[CITYWIDE, "score"], BANDS)
    assert f"(week) on {DEMO_END}: {shown}</b>" in explorer.message.value
    assert f"CityScore (week) {shown}." in explorer.board_chart.value
    legend = explorer.widget.children[0].value
    assert "(score 1.01 or more)" in legend and "(0.95 or more)" in legend
    assert "capped at 1.2" in legend


def test_every_view_is_capped_and_banded(demo_kit: Kit, in_city):
    """The metric's year, the change and the lists: no score above the cap, statuses by the bands."""
    explorer = Explorer(demo_kit, as_of=DEMO_END)
    uncapped = demo_kit.scores(start=AS_OF - pd.Timedelta(days=364), end=AS_OF)
    assert uncapped.loc[uncapped["metric"] == "Homicides", "score"].max() > CAP
    explorer.metric.value = "Homicides"
    history = explorer.frames["history"]
    assert history["score"].max() == pytest.approx(CAP)
    week_before = AS_OF - pd.Timedelta(days=7)
    before = week(demo_kit.scores(week_before, bands=BANDS, cap=CAP), week_before)["score"]
    change = explorer.frames["change"].set_index("metric")
    assert change["before"].to_numpy() == pytest.approx(
        before.loc[change.index].to_numpy(), nan_ok=True
    )
    assert change["now"].max() == pytest.approx(CAP)
    leaders = explorer.frames["leaders"].set_index("metric")
    expected = week(demo_kit.scores(AS_OF, bands=BANDS, cap=CAP))
    assert_same(leaders[["score", "status"]], expected)
    # A category's score (the board's first row): of the capped scores, its status by the bands.
    mine = category_week(demo_kit.scores(AS_OF, bands=BANDS, cap=CAP), demo_kit, BANDS)
    plain = category_week(demo_kit.scores(AS_OF), demo_kit, DEFAULT_BANDS)
    for category in ("Public Safety", "Economic Development"):
        explorer.category.value = category
        head = explorer.frames["scoreboard"].iloc[0]
        assert head["metric"] == f"{category} (category score)"
        assert (head["score"], head["status"]) == (
            pytest.approx(mine.loc[category, "score"]),
            mine.loc[category, "status"],
        )
        assert head["status"] != plain.loc[category, "status"]


def test_cityscore_config_names_the_file_and_key_numbers_follow_it(
    demo_kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CITYSCORE_CONFIG", str(city_folder(tmp_path / "elsewhere")))
    monkeypatch.chdir(tmp_path)
    explorer = explore(demo_kit, DEMO_END)
    assert (explorer.bands, explorer.cap) == (BANDS, CAP)
    assert_same(board_of(explorer), week(demo_kit.scores(AS_OF, bands=BANDS, cap=CAP)))
    text = key_numbers(demo_kit, DEMO_END, ["Homicides"])
    assert "Homicides: day —, week 1.2000, month 1.2000, quarter 1.2000" in text
    assert text != key_numbers(demo_kit, DEMO_END, ["Homicides"], bands=DEFAULT_BANDS, cap=0)


def test_explicit_bands_and_cap_win_over_the_file(demo_kit: Kit, in_city):
    plain = Explorer(demo_kit, as_of=DEMO_END, bands="1.0,0.9", cap=0)
    assert (plain.bands, plain.cap) == (DEFAULT_BANDS, None)
    assert_same(board_of(plain), week(demo_kit.scores(AS_OF)))
    own = Explorer(demo_kit, as_of=DEMO_END, bands=Bands(1.1, 1.0))  # the cap from the file
    assert (own.bands, own.cap) == (Bands(1.1, 1.0), CAP)
    assert_same(board_of(own), week(demo_kit.scores(AS_OF, bands=Bands(1.1, 1.0), cap=CAP)))


def test_cityscore_serve_hands_the_city_folders_settings_to_the_explorers_kernel(in_city: Path):
    """Voilà runs the notebook's kernel in the notebook's folder: it is told where the file is."""
    env = serve.server_env("sqlite:///city.db")
    assert Path(env["CITYSCORE_CONFIG"]).samefile(in_city / "cityscore.toml")


@pytest.mark.parametrize(
    ("toml", "said"),
    [
        ("[scores]\nnear = 0.9\nmeeting = 1.0\ncap = \n", "is not valid TOML"),
        ("[scores]\nmeeting = 0.9\nnear = 0.95\n", "status bands need 0 < near <= meeting"),
        ("[scores]\ncap = -1\n", "cap must be above 0"),
        ("[scores]\nnaer = 0.95\n", "did you mean 'scores.near'?"),
    ],
)
def test_a_broken_cityscore_toml_is_said_on_the_page_not_raised(
    demo_kit: Kit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, said: str
):
    monkeypatch.delenv("CITYSCORE_CONFIG", raising=False)
    path = city_folder(tmp_path / "broken", toml)
    monkeypatch.chdir(path.parent)
    explorer = explore(demo_kit)
    assert said in explorer.error and str(path) in explorer.error
    assert html.escape(explorer.error) in explorer.message.value
    assert "Cannot open the explorer" in explorer.message.value
    assert explorer.widget.children == (explorer.message,)
    assert explorer._repr_mimebundle_()["text/plain"] == f"CityScore Explorer: {explorer.error}"
    with pytest.raises(ConfigError, match=said.replace("?", r"\?")):
        key_numbers(demo_kit)
    # Bands and cap given, the file still holds the city's calendar and count_stale: still said.
    given = Explorer(demo_kit, bands="1.0,0.9", cap=0).error
    assert given is not None and said in given


@pytest.mark.parametrize(
    ("bands", "cap", "said"),
    [("1.0", None, "--bands takes two numbers"), (None, -2, "cap must be a number above 0")],
)
def test_bad_explicit_bands_or_cap_say_what_to_give(demo_kit: Kit, in_city, bands, cap, said):
    assert said in Explorer(demo_kit, bands=bands, cap=cap).error


def test_the_texts_write_scores_against_the_bands_they_are_given() -> None:
    """0.9496 is below 0.95: with these bands it reads "0.9496", never "0.95" (near)."""
    score = 0.9496
    assert score_text(score, BANDS) == "0.9496" != score_text(score)
    history = pd.DataFrame({"as_of": [AS_OF], "score": [score]})
    assert "Week score: 0.9496 on" in history_description(history, "Potholes", "week", BANDS)
    assert "Week score: 0.95 on" in history_description(history, "Potholes", "week")
    s = Selection(AS_OF, "week", ALL, "Potholes", since_days=7)
    city = pd.DataFrame({"before": [score], "now": [1.0]})
    change = pd.DataFrame({"metric": ["Potholes"], "contribution": [0.05]})
    text = change_description(change, city, s, drawn=1, bands=BANDS)
    assert text.startswith("CityScore (week) 0.9496 on 2026-10-24, 1.00 on 2026-10-31")


def test_the_areas_views_follow_the_bands_and_cap(areas_kit: Kit):
    explorer = Explorer(areas_kit, as_of=DEMO_END, bands=BANDS, cap=CAP)
    by_area = areas_kit.scores(AS_OF, bands=BANDS, cap=CAP, by="area")
    plain = areas_kit.scores(AS_OF, by="area")
    area = explorer.areas[0]
    explorer.area.value = area
    assert_same(board_of(explorer), week(by_area[by_area["area"] == area]))
    explorer.tabs.selected_index = explorer.views.index("compare areas")
    ranking = explorer.frames["areas"].set_index("area")
    city = by_area[(by_area["metric"] == CITYWIDE) & (by_area["area"] != "")]
    expected = week(city.assign(metric=city["area"]))
    assert_same(ranking[["score", "status"]], expected)
    uncapped = plain[(plain["metric"] == CITYWIDE) & (plain["area"] != "")]
    plain_status = week(uncapped.assign(metric=uncapped["area"]))["status"]
    assert (plain_status != expected["status"]).any()  # the bands move some area's status
