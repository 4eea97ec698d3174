"""The anomaly detectors on synthetic histories whose anomalies are known: what is flagged,
what is not, and the numbers docs/anomalies.md shows."""

# ruff: noqa: RUF001 -- the en dash in the expected lines is what an alert prints.

from __future__ import annotations

import math
import random
import re
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataward.errors import UsageError
from dataward.observe.detect import (
    DAY_OVER_DAY,
    INSUFFICIENT_HISTORY,
    NOT_FINITE,
    ROBUST,
    ROBUST_WEEKLY,
    DetectorSettings,
    Point,
    Verdict,
    daily_totals,
    day_over_day,
    robust,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "anomalies.md"
MONDAY = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday: day i of a series is weekday i % 7
DEFAULT = DetectorSettings()


def daily(values: list[float], start: datetime = MONDAY) -> list[Point]:
    return [Point(start + timedelta(days=i), v) for i, v in enumerate(values)]


def noisy(n: int, level: float, rng: random.Random, spread: float = 0.03) -> list[float]:
    return [level * (1 + rng.gauss(0, spread)) for _ in range(n)]


# --- the worked examples of docs/anomalies.md ---------------------------------------------

WORKED_HISTORY = [1000, 1020, 980, 1010, 990, 1005, 995, 1015, 985, 1000]


def test_worked_example_robust():
    verdict = robust(daily([*WORKED_HISTORY, 412]), DEFAULT, label="rows_extracted")
    assert verdict.method == ROBUST
    assert verdict.center == 1000
    assert verdict.expected_low == pytest.approx(948.11, abs=0.005)
    assert verdict.expected_high == pytest.approx(1051.89, abs=0.005)
    assert verdict.score == pytest.approx(-39.66, abs=0.005)
    assert verdict.is_anomaly
    assert verdict.explanation == (
        "rows_extracted 412 is below the expected 948–1,052 (median 1,000 of the last 10 points)"
    )
    within = robust(daily([*WORKED_HISTORY, 1040]), DEFAULT, label="rows_extracted")
    assert not within.is_anomaly
    assert within.explanation.startswith("rows_extracted 1,040 is within the expected 948–1,052")


def test_worked_example_day_over_day():
    days = daily([1000, 780])
    verdict = day_over_day(days, DEFAULT, label="rows_extracted")
    assert verdict.method == DAY_OVER_DAY
    assert verdict.is_anomaly
    assert (verdict.expected_low, verdict.expected_high) == (800, None)
    assert verdict.explanation == (
        "rows_extracted 780 on 2024-01-02 is 22.0% below 1,000 on 2024-01-01; "
        "more than the 20% drop allowed"
    )


def test_worked_example_flat_null_rate():
    verdict = robust(daily([0.0] * 10 + [0.5]), DEFAULT, label="null_rate of email")
    assert verdict.is_anomaly
    assert verdict.expected_low == 0
    assert verdict.expected_high == pytest.approx(0.0035)
    assert verdict.explanation == (
        "null_rate of email 0.5 is above the expected 0–0.0035 (median 0 of the last 10 points)"
    )


def test_the_doc_shows_the_numbers_the_tests_check():
    """The page cannot drift from the code: every worked-example line appears in it."""
    text = DOC.read_text()
    for shown in (
        "rows_extracted 412 is below the expected 948–1,052 (median 1,000 of the last 10 points)",
        "rows_extracted 780 on 2024-01-02 is 22.0% below 1,000 on 2024-01-01; "
        "more than the 20% drop allowed",
        "null_rate of email 0.5 is above the expected 0–0.0035 (median 0 of the last 10 points)",
        "948.11",
        "1051.89",
        "-39.66",
        "14.826",
    ):
        assert shown in text, shown
    for constant in ("0.6745", "0.01", "0.001", "3.5", "28", "0.20"):
        assert constant in text
    with pytest.raises(UsageError) as caught:
        DetectorSettings.from_toml({"window": 0}, "dataward.toml")
    assert str(caught.value) in text
    toml_block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert toml_block is not None
    assert (
        DetectorSettings.from_toml(tomllib.loads(toml_block.group(1))["observe"], "dataward.toml")
        == DetectorSettings()
    )


def test_the_python_example_of_the_doc_prints_what_it_shows(capsys):
    text = DOC.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    shown = re.search(r"prints\n\n```\n(.*?)```", text, re.DOTALL)
    assert code is not None and shown is not None
    exec(compile(code.group(1), str(DOC), "exec"), {})
    assert capsys.readouterr().out == shown.group(1)


# --- MAD = 0: the floor -------------------------------------------------------------------


def test_flat_rows_then_one_more_is_not_an_anomaly():
    verdict = robust(daily([1000] * 20 + [1001]), DEFAULT)
    assert not verdict.is_anomaly
    assert verdict.expected_low == pytest.approx(965)
    assert verdict.expected_high == pytest.approx(1035)
    assert robust(daily([1000] * 20 + [1040]), DEFAULT).is_anomaly


def test_flat_zero_null_rate_tolerates_only_a_tiny_wobble():
    assert not robust(daily([0.0] * 20 + [0.003]), DEFAULT).is_anomaly
    assert robust(daily([0.0] * 20 + [0.004]), DEFAULT).is_anomaly
    assert robust(daily([0.0] * 20 + [0.5]), DEFAULT).is_anomaly
    assert not robust(daily([0.0] * 21), DEFAULT).is_anomaly


# --- too little history -------------------------------------------------------------------


def test_a_history_of_one_run_says_so_and_does_not_flag():
    verdict = robust([Point(MONDAY, 1000)], DEFAULT, label="rows_extracted")
    assert verdict.method == INSUFFICIENT_HISTORY
    assert not verdict.is_anomaly
    assert (verdict.expected_low, verdict.expected_high) == (None, None)
    assert verdict.explanation == (
        "rows_extracted has 1 point of history, 0 before the one judged; "
        "7 earlier points are needed before an anomaly can be computed"
    )
    one_day = day_over_day([Point(MONDAY, 1000)], DEFAULT, label="rows_extracted")
    assert one_day.method == INSUFFICIENT_HISTORY
    assert not one_day.is_anomaly
    assert "2 days are needed" in one_day.explanation


def test_no_history_at_all():
    assert robust([], DEFAULT).method == INSUFFICIENT_HISTORY
    assert day_over_day([], DEFAULT).method == INSUFFICIENT_HISTORY


def test_min_history_is_the_number_of_earlier_points():
    six = robust(daily([1000] * 6 + [10]), DEFAULT)
    assert six.method == INSUFFICIENT_HISTORY
    assert not six.is_anomaly
    assert "6 before the one judged; 7 earlier points are needed" in six.explanation
    assert robust(daily([1000] * 7 + [10]), DEFAULT).is_anomaly


def test_window_limits_the_training_points():
    # An old level far away, then 10 recent points: a window of 10 sees only the recent ones.
    values = [5000] * 30 + WORKED_HISTORY + [1000]
    narrow = robust(daily(values), DetectorSettings(window=10, seasonality="none"))
    assert narrow.center == 1000
    assert "of the last 10 points" in narrow.explanation
    wide = robust(daily(values), DetectorSettings(window=40, seasonality="none"))
    assert wide.center == 5000
    assert wide.is_anomaly


# --- spikes, drops and direction ----------------------------------------------------------


@pytest.mark.parametrize("seasonality", ["none", "auto"])
@pytest.mark.parametrize(
    ("factor", "direction", "flagged"),
    [
        (3.0, "both", True),
        (0.3, "both", True),
        (3.0, "up", True),
        (0.3, "up", False),
        (3.0, "down", False),
        (0.3, "down", True),
        (1.0, "both", False),
    ],
)
def test_spike_and_drop_after_stable_noisy_history(seasonality, factor, direction, flagged):
    rng = random.Random(7)
    values = noisy(40, 1000, rng)
    values.append(values[-1] * factor)
    verdict = robust(daily(values), DetectorSettings(direction=direction, seasonality=seasonality))
    assert verdict.is_anomaly is flagged
    assert verdict.method == (ROBUST if seasonality == "none" else ROBUST_WEEKLY)
    if direction == "up":
        assert verdict.expected_low is None
        assert verdict.expected_high is not None
    if direction == "down":
        assert verdict.expected_high is None
        assert verdict.expected_low is not None
    if flagged:
        side = "above" if factor > 1 else "below"
        assert f"is {side} the expected" in verdict.explanation


@pytest.mark.parametrize("seasonality", ["auto", "none"])
def test_slow_trend_on_its_line_is_not_an_anomaly(seasonality):
    values = [1000 * 1.01**i for i in range(60)]
    verdict = robust(daily(values), DetectorSettings(seasonality=seasonality))
    assert not verdict.is_anomaly
    assert verdict.value == pytest.approx(values[-1])
    # The last point is 15% above the training median, well inside the band the trend spreads.
    assert verdict.center is not None and values[-1] / verdict.center > 1.1
    assert verdict.score == pytest.approx(1.25 if seasonality == "auto" else 1.51, abs=0.005)


def test_a_noisy_trend_is_not_flagged_but_a_halving_on_it_is():
    rng = random.Random(3)
    values = [1000 * 1.003**i * (1 + rng.gauss(0, 0.02)) for i in range(60)]
    assert not robust(daily(values), DEFAULT).is_anomaly
    values[-1] *= 0.5
    verdict = robust(daily(values), DEFAULT)
    assert verdict.method == ROBUST_WEEKLY
    assert verdict.is_anomaly


def test_a_steep_trend_widens_the_weekly_band():
    """Known trade-off (docs/anomalies.md): same-weekday points lie 1 to 4 weeks back, so at
    1% a day the weekly band is wide; without seasonality the same halving is flagged."""
    rng = random.Random(3)
    values = [1000 * 1.01**i * (1 + rng.gauss(0, 0.02)) for i in range(60)]
    values[-1] *= 0.5
    assert not robust(daily(values), DEFAULT).is_anomaly
    assert robust(daily(values), DetectorSettings(seasonality="none")).is_anomaly


# --- weekly seasonality -------------------------------------------------------------------


def weekly_business(days: int, rng: random.Random) -> list[float]:
    """~1000 rows on weekdays, ~200 on weekends, starting on a Monday."""
    return [
        1000 * (1 + rng.gauss(0, 0.03)) if i % 7 < 5 else 200 * (1 + rng.gauss(0, 0.05))
        for i in range(days)
    ]


SATURDAY_OF_WEEK_8 = 7 * 7 + 5
TUESDAY_OF_WEEK_8 = 7 * 7 + 1


def test_a_normal_saturday_is_not_flagged_with_weekly_seasonality():
    values = weekly_business(SATURDAY_OF_WEEK_8 + 1, random.Random(11))
    series = daily(values)
    assert series[-1].at.strftime("%A") == "Saturday"
    seasonal = robust(series, DEFAULT, label="rows")
    assert seasonal.method == ROBUST_WEEKLY
    assert not seasonal.is_anomaly
    assert "of the last 4 Saturdays" in seasonal.explanation
    # Without seasonality the weekend is far outside the weekday-dominated band.
    plain = robust(series, DetectorSettings(seasonality="none"), label="rows")
    assert plain.method == ROBUST
    assert plain.is_anomaly


def test_a_weekday_level_on_saturday_is_flagged():
    values = weekly_business(SATURDAY_OF_WEEK_8 + 1, random.Random(11))
    values[-1] = 1000
    verdict = robust(daily(values), DEFAULT)
    assert verdict.method == ROBUST_WEEKLY
    assert verdict.is_anomaly
    assert "is above the expected" in verdict.explanation


def test_a_weekend_level_on_tuesday_is_flagged():
    values = weekly_business(TUESDAY_OF_WEEK_8 + 1, random.Random(11))
    values[-1] = 200
    verdict = robust(daily(values), DEFAULT)
    assert verdict.method == ROBUST_WEEKLY
    assert verdict.is_anomaly
    assert "of the last 4 Tuesdays" in verdict.explanation


def test_weekly_asked_for_without_enough_weeks_falls_back_and_says_so():
    values = weekly_business(15, random.Random(5))  # two weeks and a Monday: 2 earlier Mondays
    verdict = robust(daily(values), DetectorSettings(seasonality="weekly"))
    assert verdict.method == ROBUST
    assert (
        "weekly seasonality needs 3 earlier Mondays in the window, found 2: "
        "compared with all points" in verdict.explanation
    )
    auto = robust(daily(values), DEFAULT)
    assert auto.method == ROBUST
    assert "weekly seasonality" not in auto.explanation


def test_several_runs_on_the_same_day_are_not_weeks_of_history():
    """Hourly runs: 28 points are one day and a bit; the same weekday today is not a pattern."""
    start = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
    rng = random.Random(2)
    hourly = [Point(start + timedelta(hours=h), v) for h, v in enumerate(noisy(40, 50, rng))]
    verdict = robust(hourly, DEFAULT)
    assert verdict.method == ROBUST


def test_false_alarms_are_rare_on_a_year_of_normal_days():
    """Judge every day of a year of noise the way the nightly check would: the pooled weekly
    spread keeps false alarms near the non-seasonal rate (a same-weekday-only MAD over 4
    Saturdays flags about one normal day in seven)."""
    for values in (noisy(365, 1000, random.Random(21)), weekly_business(365, random.Random(22))):
        series = daily(values)
        flagged = [i for i in range(30, len(series)) if robust(series[: i + 1], DEFAULT).is_anomaly]
        assert len(flagged) <= 8, flagged  # of 335 normal days


# --- non-finite values --------------------------------------------------------------------


def test_non_finite_history_values_are_ignored_and_counted():
    values: list[float] = [*WORKED_HISTORY[:5], math.nan, *WORKED_HISTORY[5:], math.inf, 412]
    verdict = robust(daily(values), DEFAULT, label="rows_extracted")
    assert verdict.is_anomaly
    assert verdict.center == 1000
    assert verdict.explanation == (
        "rows_extracted 412 is below the expected 948–1,052 (median 1,000 of the last 10 points; "
        "2 non-finite values in the history ignored)"
    )


def test_a_non_finite_point_judged_is_not_compared():
    verdict = robust(daily([*WORKED_HISTORY, math.nan]), DEFAULT, label="rows")
    assert verdict.method == NOT_FINITE
    assert not verdict.is_anomaly
    assert verdict.value is None
    assert "is nan, not a number" in verdict.explanation
    assert day_over_day(daily([1000, -math.inf]), DEFAULT).method == NOT_FINITE


def test_day_over_day_skips_a_non_finite_day():
    verdict = day_over_day(daily([1000, math.nan, 700]), DEFAULT, label="rows")
    assert verdict.is_anomaly
    assert verdict.center == 1000
    assert "1 non-finite value in the history ignored" in verdict.explanation
    assert "none on the 1 day between" in verdict.explanation


# --- day over day -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "flagged"),
    [(799, True), (800, False), (950, False), (5000, False), (0, True)],
)
def test_day_over_day_drop_of_more_than_twenty_percent(today, flagged):
    verdict = day_over_day(daily([1000, today]), DEFAULT)
    assert verdict.is_anomaly is flagged
    assert verdict.expected_low == 800


def test_day_over_day_across_a_gap_compares_with_the_latest_earlier_day():
    days = [Point(MONDAY, 900), Point(MONDAY + timedelta(days=1), 1000)]
    days.append(Point(MONDAY + timedelta(days=4), 700))
    verdict = day_over_day(days, DEFAULT, label="rows")
    assert verdict.is_anomaly
    assert verdict.center == 1000
    assert verdict.explanation == (
        "rows 700 on 2024-01-05 is 30.0% below 1,000 on 2024-01-02, the latest earlier day "
        "with data (none on the 2 days between); more than the 20% drop allowed"
    )


def test_day_over_day_settings():
    days = daily([1000, 700])
    assert not day_over_day(days, DetectorSettings(max_daily_drop=0.5)).is_anomaly
    up = day_over_day(days, DetectorSettings(direction="up"))
    assert not up.is_anomaly
    assert "drops are not anomalies (direction = up)" in up.explanation
    assert day_over_day(days, DetectorSettings(direction="down")).is_anomaly


def test_day_over_day_from_zero():
    verdict = day_over_day(daily([0, 500]), DEFAULT, label="rows")
    assert not verdict.is_anomaly
    assert verdict.score is None
    assert verdict.explanation == (
        "rows 500 on 2024-01-02 against 0 on 2024-01-01; no drop is possible from 0"
    )


def test_day_over_day_ignores_earlier_points_of_the_same_day():
    days = [Point(MONDAY, 1000), Point(MONDAY + timedelta(days=1), 100)]
    days.append(Point(MONDAY + timedelta(days=1, hours=2), 700))
    verdict = day_over_day(days, DEFAULT)
    assert verdict.center == 1000
    assert verdict.value == 700


# --- daily totals -------------------------------------------------------------------------


def test_daily_totals_sum_each_utc_day():
    new_york = timezone(timedelta(hours=-5))
    points = [
        Point(datetime(2024, 1, 2, 9, tzinfo=UTC), 30),
        Point(datetime(2024, 1, 1, 1, tzinfo=UTC), 10),
        Point(datetime(2024, 1, 1, 23, 59, tzinfo=UTC), 5),
        # 20:30 in New York on 1 January is 01:30 UTC on 2 January.
        Point(datetime(2024, 1, 1, 20, 30, tzinfo=new_york), 7),
        Point(datetime(2024, 1, 4, 12, tzinfo=UTC), 0.1),
        Point(datetime(2024, 1, 4, 13, tzinfo=UTC), 0.2),
    ]
    totals = daily_totals(points)
    assert [(p.at, p.value) for p in totals] == [
        (datetime(2024, 1, 1, tzinfo=UTC), 15.0),
        (datetime(2024, 1, 2, tzinfo=UTC), 37.0),
        (datetime(2024, 1, 4, tzinfo=UTC), math.fsum([0.1, 0.2])),
    ]
    assert all(p.at.tzinfo is UTC for p in totals)
    assert daily_totals([]) == []


def test_a_day_with_a_non_finite_run_is_unknown():
    points = [Point(MONDAY, 10), Point(MONDAY + timedelta(hours=1), math.nan)]
    assert math.isnan(daily_totals(points)[0].value)
    points = [Point(MONDAY, math.inf), Point(MONDAY + timedelta(hours=1), -math.inf)]
    assert math.isnan(daily_totals(points)[0].value)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        Point(datetime(2024, 1, 1), 1.0)


# --- properties ---------------------------------------------------------------------------

values = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=150, deadline=None)
@given(st.lists(values, max_size=40), st.randoms(use_true_random=False))
def test_any_history_gives_a_verdict_and_order_does_not_matter(history, rng):
    series = daily(history)
    for judge in (robust, day_over_day):
        verdict = judge(series, DEFAULT)
        assert isinstance(verdict, Verdict)
        assert verdict.explanation
        if verdict.method in (INSUFFICIENT_HISTORY, NOT_FINITE):
            assert not verdict.is_anomaly
        shuffled = list(series)
        rng.shuffle(shuffled)
        assert _same(judge(shuffled, DEFAULT), verdict)


def _same(a: Verdict, b: Verdict) -> bool:
    return repr(a) == repr(b)  # repr: NaN == NaN here, unlike ==


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e9), min_size=8, max_size=40))
def test_the_band_contains_the_centre_and_flags_exactly_outside(history):
    verdict = robust(daily(history), DetectorSettings(seasonality="none"))
    assert verdict.expected_low is not None and verdict.expected_high is not None
    assert verdict.center is not None and verdict.value is not None
    assert verdict.expected_low <= verdict.center <= verdict.expected_high
    outside = not verdict.expected_low <= verdict.value <= verdict.expected_high
    assert verdict.is_anomaly is outside


# --- settings -----------------------------------------------------------------------------


def test_settings_from_a_real_toml_file(tmp_path):
    config = tmp_path / "dataward.toml"
    config.write_text(
        "[observe]\n"
        "sensitivity = 4\n"
        "window = 56\n"
        "min_history = 14\n"
        'direction = "down"\n'
        'seasonality = "weekly"\n'
        "max_daily_drop = 0.5\n"
    )
    doc = tomllib.loads(config.read_text())
    loaded = DetectorSettings.from_toml(doc["observe"], str(config))
    assert loaded == DetectorSettings(
        sensitivity=4.0,
        window=56,
        min_history=14,
        direction="down",
        seasonality="weekly",
        max_daily_drop=0.5,
    )
    assert isinstance(loaded.sensitivity, float)
    assert DetectorSettings.from_toml({}, str(config)) == DetectorSettings()


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("windw = 28", "observe.windw", "unknown key 'windw' (expected one of direction"),
        ('window = "28"', "observe.window", "window must be a whole number, got '28'"),
        ("window = 28.5", "observe.window", "window must be a whole number, got 28.5"),
        ("window = 0", "observe.window", "window (0) must be at least min_history (7)"),
        ("window = 5\nmin_history = 6", "observe.window", "window (5) must be at least"),
        ("min_history = 2", "observe.min_history", "min_history must be at least 3, got 2"),
        ("sensitivity = true", "observe.sensitivity", "sensitivity must be a number, got True"),
        ("sensitivity = -1", "observe.sensitivity", "sensitivity must be a number > 0"),
        ("sensitivity = nan", "observe.sensitivity", "sensitivity must be a number > 0, got nan"),
        ("sensitivity = inf", "observe.sensitivity", "sensitivity must be a number > 0, got inf"),
        ('direction = "sideways"', "observe.direction", "direction must be one of both, up, down"),
        ("direction = 1", "observe.direction", "direction must be a string, got 1"),
        ('seasonality = "daily"', "observe.seasonality", "one of auto, none, weekly"),
        ("max_daily_drop = 1.5", "observe.max_daily_drop", "between 0 and 1, got 1.5"),
        ("max_daily_drop = -0.1", "observe.max_daily_drop", "between 0 and 1, got -0.1"),
        ("max_daily_drop = [0.2]", "observe.max_daily_drop", "must be a number, got [0.2]"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path, text, key, message):
    config = tmp_path / "dataward.toml"
    config.write_text(f"[observe]\n{text}\n")
    table = tomllib.loads(config.read_text())["observe"]
    with pytest.raises(UsageError) as caught:
        DetectorSettings.from_toml(table, str(config))
    assert caught.value.location.file == str(config)
    assert caught.value.location.path == key
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{config}, {key}: ")


def test_observe_must_be_a_table():
    with pytest.raises(UsageError) as caught:
        DetectorSettings.from_toml("3.5", "dataward.toml")  # type: ignore[arg-type]
    assert str(caught.value) == "dataward.toml, observe: [observe] must be a table"


def test_keys_read_elsewhere_are_let_through():
    table = {"window": 14, "freshness_hours": 6}
    with pytest.raises(UsageError, match="unknown key 'freshness_hours'"):
        DetectorSettings.from_toml(table, "dataward.toml")
    loaded = DetectorSettings.from_toml(table, "dataward.toml", other_keys={"freshness_hours"})
    assert loaded.window == 14


def test_a_nested_path_is_named():
    with pytest.raises(UsageError) as caught:
        DetectorSettings.from_toml({"window": -1}, "p.toml", path="pipelines.orders.observe")
    assert caught.value.location.path == "pipelines.orders.observe.window"


def test_settings_built_in_code_are_checked_too():
    with pytest.raises(ValueError, match="direction must be one of"):
        DetectorSettings(direction="left")
    with pytest.raises(ValueError, match="window"):
        DetectorSettings(window=3)
