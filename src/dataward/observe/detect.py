"""Anomaly detectors: pure functions that judge the last point of a metric's history.

Two detectors, no database and no clock: `day_over_day` (the seed's rule: a day's total
dropped more than 20% from the day before) and `robust` (the last point against the median
and MAD of up to `window` earlier points, against the same weekday only when the series has
enough weeks of history). Each returns a `Verdict`: the band the value was expected in,
whether it is an anomaly, and one line a person reads in an alert. docs/anomalies.md states
every formula; the constants it names are defined here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

from dataward.errors import Location, UsageError

DAY_OVER_DAY = "day_over_day"
ROBUST = "robust"
ROBUST_WEEKLY = "robust_weekly"
INSUFFICIENT_HISTORY = "insufficient_history"
NOT_FINITE = "not_finite"  # the point judged is NaN or infinite: there is nothing to compare

# MAD / MAD_TO_SIGMA estimates the standard deviation of normal data (Iglewicz and Hoaglin's
# modified z-score is 0.6745 * (x - median) / MAD).
MAD_TO_SIGMA = 0.6745
# The scale never falls below these, so a flat history (MAD = 0) neither divides by zero nor
# flags every wobble: 1% of the centre (1,000 rows then 1,001 is normal) and an absolute
# 0.001 (a null rate that was always 0.0 then 0.5 is flagged, 0.003 is not).
SCALE_FLOOR_RELATIVE = 0.01
SCALE_FLOOR_ABSOLUTE = 0.001
# Weekly seasonality needs this many earlier weeks with a point on the judged point's weekday;
# fewer and a weekday's median is one or two values, not a pattern.
WEEKLY_MIN_WEEKS = 3

DIRECTIONS = ("both", "up", "down")
SEASONALITIES = ("auto", "none", "weekly")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Point:
    at: datetime  # tz-aware; read in UTC (days and weekdays are UTC days)
    value: float

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            # A naive time has no UTC day: guessing the zone would move points across days.
            raise ValueError(f"Point.at must be timezone-aware, got naive {self.at.isoformat()}")
        # Counts arrive as int, Decimal or numpy scalars; verdicts carry plain floats.
        object.__setattr__(self, "value", float(self.value))

    @property
    def day(self) -> date:
        return self.at.astimezone(UTC).date()


@dataclass(frozen=True)
class DetectorSettings:
    sensitivity: float = 3.5  # robust z threshold: |x - centre| / scale above this is an anomaly
    window: int = 28  # how many past (finite) points train the detector
    min_history: int = 7  # fewer past points than this: no verdict, and the verdict says so
    direction: str = "both"  # both | up | down: which side of the band is an anomaly
    seasonality: str = "auto"  # auto | none | weekly; auto = weekly when there are enough weeks
    max_daily_drop: float = 0.20  # day_over_day: a drop of more than this fraction is an anomaly

    def __post_init__(self) -> None:
        problems = _range_problems(asdict(self))
        if problems:
            key, problem = problems[0]
            raise ValueError(f"{key}: {problem}")

    @classmethod
    def from_toml(
        cls,
        table: Any,
        file: str,
        path: str = "observe",
        *,
        other_keys: Collection[str] = (),
    ) -> DetectorSettings:
        """Settings from the `[observe]` table of dataward.toml. `other_keys` are keys of the
        same table that another part of dataward reads (they are let through, not checked)."""
        if not isinstance(table, dict):
            raise UsageError(f"[{path}] must be a table", Location(file=file, path=path))
        known = {name for name, _ in _TOML_KEYS}
        for key in table:
            if key not in known and key not in other_keys:
                raise UsageError(
                    f"unknown key {key!r} (expected one of {', '.join(sorted(known))})",
                    Location(file=file, path=f"{path}.{key}"),
                )
        values = {
            name: read(name, table[name], Location(file=file, path=f"{path}.{name}"))
            for name, read in _TOML_KEYS
            if name in table
        }
        # Ranges are checked here too, so the error names the file and the key.
        problems = _range_problems({**asdict(cls()), **values})
        if problems:
            key, problem = problems[0]
            raise UsageError(problem, Location(file=file, path=f"{path}.{key}"))
        return cls(**values)


@dataclass(frozen=True)
class Verdict:
    method: str  # day_over_day | robust | robust_weekly | insufficient_history | not_finite
    value: float | None  # the point judged
    expected_low: float | None  # the band (None = open side)
    expected_high: float | None
    is_anomaly: bool
    explanation: str  # one line for an alert
    center: float | None = None  # what the value was compared with (median, or the day before)
    score: float | None = None  # robust: (value - center) / scale; day_over_day: relative change


def daily_totals(points: Sequence[Point]) -> list[Point]:
    """The sum of each UTC calendar day, `at` = midnight UTC of that day, oldest first. A day
    with a NaN or infinite value has a non-finite total: that day is unknown, not smaller."""
    by_day: dict[date, list[float]] = {}
    for point in points:
        by_day.setdefault(point.day, []).append(point.value)
    return [
        Point(datetime.combine(day, time(), tzinfo=UTC), _total(values))
        for day, values in sorted(by_day.items())
    ]


def day_over_day(
    days: Sequence[Point], settings: DetectorSettings, *, label: str = "value"
) -> Verdict:
    """The last day against the latest earlier day with a finite value (the day before, or
    across a gap, said in the explanation): an anomaly when it dropped by more than
    `max_daily_drop` of it. direction = "up" means drops are not anomalies: never flagged."""
    ordered = sorted(days, key=lambda p: p.at)
    if not ordered:
        return _insufficient(f"{label} has no days of history; 2 are needed to compare")
    judged = ordered[-1]
    if not math.isfinite(judged.value):
        return _not_finite(label, judged)
    before = [p for p in ordered[:-1] if p.day < judged.day]
    earlier = [p for p in before if math.isfinite(p.value)]
    ignored = _ignored_note(len(before) - len(earlier))
    if not earlier:
        return _insufficient(
            f"{label} has 1 day of history; 2 days are needed before a day-over-day drop "
            f"can be computed{ignored}",
            judged.value,
        )
    previous = earlier[-1]
    low = previous.value - settings.max_daily_drop * abs(previous.value)
    change = (judged.value - previous.value) / abs(previous.value) if previous.value else None
    flagged = settings.direction != "up" and judged.value < low
    return Verdict(
        method=DAY_OVER_DAY,
        value=judged.value,
        expected_low=low,
        expected_high=None,
        is_anomaly=flagged,
        explanation=_day_over_day_line(label, judged, previous, change, flagged, settings)
        + ignored,
        center=previous.value,
        score=change,
    )


def robust(series: Sequence[Point], settings: DetectorSettings, *, label: str = "value") -> Verdict:
    """The last point (latest `at`) against up to `window` finite points before it: its
    distance from their median, in units of their MAD-based scale (floored), must stay within
    `sensitivity`. With weekly seasonality the median is of the same weekday only."""
    ordered = sorted(series, key=lambda p: p.at)
    if not ordered:
        return _insufficient(f"{label} has no history; {settings.min_history} points needed")
    judged = ordered[-1]
    if not math.isfinite(judged.value):
        return _not_finite(label, judged)
    past = [p for p in ordered[:-1] if math.isfinite(p.value)]
    ignored = _ignored_note(len(ordered) - 1 - len(past))
    training = past[-settings.window :]
    if len(training) < settings.min_history:
        return _insufficient(
            f"{label} has {_count(len(ordered), 'point')} of history, {len(training)} before "
            f"the one judged; {settings.min_history} earlier points are needed before an "
            f"anomaly can be computed{ignored}",
            judged.value,
        )
    fit = _fit(training, judged, settings)
    return _judge(judged.value, training, fit, settings, label, ignored)


# --- fitting: what the judged point is compared with --------------------------------------


@dataclass(frozen=True)
class _Fit:
    method: str
    center: float
    spread: float  # the MAD-based estimate of the standard deviation, before the floor
    basis: str  # "median 1,075 of the last 28 points"
    note: str = ""  # why weekly seasonality was not used, when it was asked for


def _fit(training: list[Point], judged: Point, settings: DetectorSettings) -> _Fit:
    plain = _plain_fit(training)
    if settings.seasonality == "none":
        return plain
    weekly, why_not = _weekly_fit(training, judged, settings)
    if weekly is not None:
        return weekly
    if settings.seasonality == "weekly":
        # Asked for explicitly: say why it was not used. auto says it through `method`.
        return _Fit(plain.method, plain.center, plain.spread, plain.basis, f"; {why_not}")
    return plain


def _plain_fit(training: list[Point]) -> _Fit:
    values = [p.value for p in training]
    center = statistics.median(values)
    mad = statistics.median(abs(v - center) for v in values)
    basis = f"median {_fmt(center)} of the last {_count(len(values), 'point')}"
    return _Fit(ROBUST, center, mad / MAD_TO_SIGMA, basis)


def _weekly_fit(
    training: list[Point], judged: Point, settings: DetectorSettings
) -> tuple[_Fit | None, str]:
    """Centre: the median of the training points on the judged weekday. Spread: leave-one-out
    residuals (each point against the median of the other points on its weekday), pooled
    over every weekday, and never below the judged weekday's own. Pooling is what keeps false
    alarms rare: the MAD of the 4 Saturdays of a 28-day window alone is so unstable that a
    normal Saturday would be flagged about one time in seven."""
    weekday = judged.at.astimezone(UTC).weekday()
    groups: dict[int, list[float]] = {}
    for point in training:
        groups.setdefault(point.at.astimezone(UTC).weekday(), []).append(point.value)
    name = _WEEKDAYS[weekday]
    same = groups.get(weekday, [])
    weeks = len({p.day for p in training if p.at.astimezone(UTC).weekday() == weekday})
    weeks -= any(p.day == judged.day for p in training)  # today's earlier runs are not a week
    if weeks < WEEKLY_MIN_WEEKS:
        return None, (
            f"weekly seasonality needs {WEEKLY_MIN_WEEKS} earlier {name}s in the window, "
            f"found {weeks}: compared with all points"
        )
    pooled_groups = [g for g in groups.values() if len(g) >= WEEKLY_MIN_WEEKS]
    count = sum(len(g) for g in pooled_groups)
    if count < settings.min_history:
        return None, (
            f"weekly seasonality needs {settings.min_history} points on weekdays with "
            f"{WEEKLY_MIN_WEEKS} or more points, found {count}: compared with all points"
        )
    center = statistics.median(same)
    # Counts vary in proportion to their level (a 200-row Sunday wobbles less than a
    # 1,000-row Monday), so positive series pool relative residuals, scaled to this weekday.
    relative = all(v > 0 for v in (v for g in pooled_groups for v in g))
    pooled = statistics.median(r for g in pooled_groups for r in _loo_residuals(g, relative))
    if relative:
        pooled *= abs(center)
    own = statistics.median(_loo_residuals(same, relative=False))
    spread = max(pooled, own) / MAD_TO_SIGMA
    basis = f"median {_fmt(center)} of the last {_count(len(same), name)}"
    return _Fit(ROBUST_WEEKLY, center, spread, basis), ""


def _loo_residuals(group: list[float], relative: bool) -> list[float]:
    """|v - median of the others| for each v, divided by that median when `relative`."""
    ordered = sorted(group)
    found = []
    for i, v in enumerate(ordered):
        others = _median_without(ordered, i)
        found.append(abs(v - others) / abs(others) if relative else abs(v - others))
    return found


def _median_without(ordered: list[float], index: int) -> float:
    """The median of `ordered` (sorted) with the element at `index` removed, in O(1)."""
    n = len(ordered) - 1

    def at(j: int) -> float:
        return ordered[j] if j < index else ordered[j + 1]

    if n % 2:
        return at(n // 2)
    return (at(n // 2 - 1) + at(n // 2)) / 2


# --- judging: the band, the verdict, the sentence -----------------------------------------


def _judge(
    value: float,
    training: list[Point],
    fit: _Fit,
    settings: DetectorSettings,
    label: str,
    ignored: str,
) -> Verdict:
    scale = _scale(fit)
    low: float | None = fit.center - settings.sensitivity * scale
    high: float | None = fit.center + settings.sensitivity * scale
    if all(p.value >= 0 for p in training):
        # Counts and rates cannot go below zero: a band from -50 would read as nonsense.
        low = max(low, 0.0)
    if settings.direction == "up":
        low = None
    elif settings.direction == "down":
        high = None
    below = low is not None and value < low
    above = high is not None and value > high
    if below:
        verb = "is below the expected"
    elif above:
        verb = "is above the expected"
    else:
        verb = "is within the expected"
    line = f"{label} {_fmt(value)} {verb} {_band(low, high)} ({fit.basis}{fit.note}{ignored})"
    return Verdict(
        method=fit.method,
        value=value,
        expected_low=low,
        expected_high=high,
        is_anomaly=below or above,
        explanation=line,
        center=fit.center,
        score=(value - fit.center) / scale,
    )


def _scale(fit: _Fit) -> float:
    return max(fit.spread, SCALE_FLOOR_RELATIVE * abs(fit.center), SCALE_FLOOR_ABSOLUTE)


def _band(low: float | None, high: float | None) -> str:
    if low is None:
        return f"at most {_fmt(high)}"
    if high is None:
        return f"at least {_fmt(low)}"
    # An en dash: a hyphen between two numbers reads as a minus sign.
    return f"{_fmt(low)}\u2013{_fmt(high)}"


def _day_over_day_line(
    label: str,
    judged: Point,
    previous: Point,
    change: float | None,
    flagged: bool,
    settings: DetectorSettings,
) -> str:
    if change is None:
        moved = "against"
    elif change < 0:
        moved = f"is {-change:.1%} below"
    else:
        moved = f"is {change:.1%} above"
    gap = (judged.day - previous.day).days
    when = f"on {previous.day}"
    if gap > 1:
        when += f", the latest earlier day with data (none on the {_count(gap - 1, 'day')} between)"
    allowed = f"{settings.max_daily_drop * 100:g}%"
    if settings.direction == "up":
        verdict = "drops are not anomalies (direction = up)"
    elif change is None:
        verdict = "no drop is possible from 0"
    elif flagged:
        verdict = f"more than the {allowed} drop allowed"
    else:
        verdict = f"within the {allowed} drop allowed"
    return (
        f"{label} {_fmt(judged.value)} on {judged.day} {moved} {_fmt(previous.value)} {when}; "
        f"{verdict}"
    )


def _insufficient(explanation: str, value: float | None = None) -> Verdict:
    return Verdict(INSUFFICIENT_HISTORY, value, None, None, False, explanation)


def _not_finite(label: str, judged: Point) -> Verdict:
    return Verdict(
        NOT_FINITE,
        None,
        None,
        None,
        False,
        f"{label} at {judged.at.astimezone(UTC).isoformat()} is {judged.value}, not a number: "
        "nothing to compare",
    )


def _ignored_note(count: int) -> str:
    if not count:
        return ""
    return f"; {_count(count, 'non-finite value')} in the history ignored"


def _total(values: list[float]) -> float:
    if all(math.isfinite(v) for v in values):
        return math.fsum(values)  # exact, whatever order the runs came in
    return sum(values)  # NaN or ±inf: keep it non-finite so the day is seen as unknown


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _fmt(value: float | None) -> str:
    """Numbers as a person reads them in an alert: 1,075 · 12.3 · 0.0035."""
    if value is None or not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


# --- settings: types from TOML, ranges for every construction -----------------------------


def _range_problems(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, message) for every value out of range, in the order of the table's keys."""
    s = SimpleNamespace(**settings)
    problems: list[tuple[str, str]] = []
    if not (math.isfinite(s.sensitivity) and s.sensitivity > 0):
        problems.append(("sensitivity", f"sensitivity must be a number > 0, got {s.sensitivity}"))
    if s.min_history < 3:
        # The median and MAD of one or two points say nothing about what is normal.
        problems.append(("min_history", f"min_history must be at least 3, got {s.min_history}"))
    if s.window < s.min_history:
        problems.append(
            (
                "window",
                f"window ({s.window}) must be at least min_history ({s.min_history}), "
                "or no anomaly could ever be computed",
            )
        )
    if s.direction not in DIRECTIONS:
        problems.append(
            ("direction", f"direction must be one of {', '.join(DIRECTIONS)}, got {s.direction!r}")
        )
    if s.seasonality not in SEASONALITIES:
        problems.append(
            (
                "seasonality",
                f"seasonality must be one of {', '.join(SEASONALITIES)}, got {s.seasonality!r}",
            )
        )
    if not (math.isfinite(s.max_daily_drop) and 0 <= s.max_daily_drop <= 1):
        problems.append(
            (
                "max_daily_drop",
                f"max_daily_drop must be a fraction between 0 and 1, got {s.max_daily_drop}",
            )
        )
    return problems


def _number(key: str, value: Any, where: Location) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{key} must be a number, got {value!r}", where)
    return float(value)


def _integer(key: str, value: Any, where: Location) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{key} must be a whole number, got {value!r}", where)
    return value


def _text(key: str, value: Any, where: Location) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, got {value!r}", where)
    return value


_TOML_KEYS: tuple[tuple[str, Callable[[str, Any, Location], Any]], ...] = (
    ("sensitivity", _number),
    ("window", _integer),
    ("min_history", _integer),
    ("direction", _text),
    ("seasonality", _text),
    ("max_daily_drop", _number),
)
