"""The HTML report: `ReportData` as one self-contained page of Vega-Lite charts.

altair builds each chart's Vega-Lite spec; the page carries one inlined copy of the
Vega, Vega-Lite and vega-embed scripts (vl-convert's bundle, ~1 MB) that draws them all,
so the file opens with no network. Every text the page takes from the ledger or the
audit (table names, reasons, messages) is escaped: HTML text by `html.escape`, chart data
inside JSON whose `<`, `>` and `&` are written as \\u escapes so no value can end the
script element; Vega itself draws them as SVG text, never as markup.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt

from dataward.observe.report_data import (
    AUDIT_COMMAND,
    MAX_RUNS,
    REJECT_RUNS,
    ReportData,
)
from dataward.observe.store import NULL_RATE, ROWS_EXTRACTED, ROWS_LOADED, Anomaly, Metric

if TYPE_CHECKING:
    from dataward.observe.freshness import Freshness

WIDTH = 760
MAX_REASONS = 30  # bars in the rejects chart; the rest are summed in a note
MAX_FINDINGS = 200
MAX_ANOMALY_ROWS = 50
MAX_FAILURES = 10
STATUS_COLORS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "aborted": "#757575",
    "running": "#1565c0",
}
VOLUME_LABELS = {ROWS_LOADED: "rows loaded", ROWS_EXTRACTED: "rows extracted"}
FRESHNESS_COLORS = {"within SLA": "#2e7d32", "over SLA": "#c62828", "no SLA": "#90a4ae"}
ANOMALY_COLOR = "#d50000"
BAND_COLOR = "#ffb300"
CHART_CLASS = "dataward-chart"
MIN_TIME_SPAN = timedelta(hours=1)  # the narrowest time axis drawn
# Vega's multi-format time labels, on a 24-hour clock (its default mixes "01:10" and "02 PM").
TIME_LABELS = {
    "year": "%Y",
    "quarter": "%b %Y",
    "month": "%b %Y",
    "week": "%b %d",
    "date": "%b %d",
    "hours": "%H:%M",
    "minutes": "%H:%M",
    "seconds": "%H:%M:%S",
    "milliseconds": "%H:%M:%S.%L",
}
LINE_LEGEND = alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=300)
NEWEST_ROW, LAST_SUCCESS = "newest row", "last successful run"  # the two freshness ages


def render_report(data: ReportData) -> str:
    """The whole page, as text."""
    specs = chart_specs(data)
    sections = _sections(data, set(specs)) if data.has_history else [_no_history()]
    if data.audit is not None or data.has_history:
        sections.append(_audit_section(data))
    return _PAGE.format(
        title=html.escape(f"dataward report: {data.project}"),
        style=_STYLE,
        header=_header(data),
        body="\n".join(sections),
        bundle=_vega_bundle(),
        specs=_script_json(specs),
        driver=_DRIVER,
    )


def chart_specs(data: ReportData) -> dict[str, dict[str, Any]]:
    """Each chart the page draws, by the id of its container: the Vega-Lite specs."""
    if not data.has_history:
        return {}
    charts: dict[str, alt.TopLevelMixin | None] = {
        "chart-runs": runs_chart(data),
        "chart-volume": volume_chart(data.metrics, data.anomalies),
        "chart-rejects": rejects_chart(data),
        "chart-null-rates": null_rate_chart(data.metrics, data.anomalies),
        "chart-freshness": freshness_chart(data.freshness),
    }
    return {key: _finish(chart).to_dict() for key, chart in charts.items() if chart is not None}


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename, so a
    reader (or a failed report) never sees half a page."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); a report is made to be shared.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- charts


def runs_chart(data: ReportData) -> alt.TopLevelMixin | None:
    rows = [
        {
            "run": r.run_id,
            "pipeline": r.pipeline,
            "table": r.target_table,
            "status": r.status if r.kind == "load" else f"{r.status} ({r.kind})",
            "status_key": r.status,
            "started": _iso(r.started_at),
            "when": _when(r.started_at),
            "seconds": _finite(
                ((r.finished_at or data.generated_at) - r.started_at).total_seconds()
            ),
            "extracted": r.counts.extracted,
            "rejected": r.counts.rejected,
            "loaded": r.counts.inserted + r.counts.updated,
            "reason": r.reason or "",
        }
        for r in data.runs
    ]
    if not rows:
        return None
    base = alt.Chart(alt.Data(values=rows))
    x = _time_axis("started", "started (UTC)", [r.started_at for r in data.runs])
    y = alt.Y("seconds:Q", title="duration (s)")
    trail = base.mark_line(color="#cfd8dc", strokeWidth=1).encode(x=x, y=y, detail="pipeline:N")
    points = base.mark_point(filled=True, size=70, opacity=0.9).encode(
        x=x,
        y=y,
        color=alt.Color(
            "status_key:N",
            title="status",
            scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
        ),
        shape=alt.Shape("pipeline:N", title="pipeline"),
        tooltip=[
            alt.Tooltip("run:N"),
            alt.Tooltip("pipeline:N"),
            alt.Tooltip("status:N"),
            alt.Tooltip("when:N", title="started (UTC)"),
            alt.Tooltip("seconds:Q", title="duration (s)", format=".1f"),
            alt.Tooltip("extracted:Q", format=","),
            alt.Tooltip("rejected:Q", format=","),
            alt.Tooltip("loaded:Q", format=","),
            alt.Tooltip("reason:N"),
        ],
    )
    return alt.layer(trail, points).properties(
        width=WIDTH, height=220, title="Runs over time: duration, coloured by status"
    )


def volume_chart(
    metrics: Sequence[Metric], anomalies: Sequence[Anomaly]
) -> alt.TopLevelMixin | None:
    """Per table: rows loaded and extracted per run; each volume anomaly as the band it
    was expected in (a wide translucent rule) and its value (a red diamond)."""
    series = _by_table(m for m in metrics if m.metric in VOLUME_LABELS)
    marked = _by_table(a for a in anomalies if a.metric in VOLUME_LABELS)
    charts = []
    for table, points in sorted(series.items()):
        spotted = marked.get(table, [])
        domain = [m.measured_at for m in points] + [a.observed_at for a in spotted]
        rows = [
            {
                "at": _iso(m.measured_at),
                "when": _when(m.measured_at),
                "series": VOLUME_LABELS[m.metric],
                "rows": _finite(m.value),
                "run": m.run_id,
            }
            for m in points
        ]
        line = (
            alt.Chart(alt.Data(values=rows))
            .mark_line(point=True)
            .encode(
                x=_time_axis("at", domain=domain),
                y=alt.Y("rows:Q", title="rows"),
                color=alt.Color(
                    "series:N",
                    title="per run",
                    legend=LINE_LEGEND,
                    scale=alt.Scale(
                        domain=list(VOLUME_LABELS.values()), range=["#1565c0", "#64b5f6"]
                    ),
                ),
                # Loaded and extracted are often nearly equal: a dash keeps both visible.
                strokeDash=alt.StrokeDash(
                    "series:N",
                    title="per run",
                    legend=LINE_LEGEND,
                    scale=alt.Scale(domain=list(VOLUME_LABELS.values()), range=[[1, 0], [5, 3]]),
                ),
                tooltip=[
                    alt.Tooltip("series:N", title="metric"),
                    alt.Tooltip("rows:Q", format=","),
                    alt.Tooltip("when:N", title="measured (UTC)"),
                    alt.Tooltip("run:N"),
                ],
            )
        )
        layers = [*_anomaly_layers(spotted, VOLUME_LABELS.get, domain), line]
        charts.append(alt.layer(*layers).properties(width=WIDTH, height=180, title=table))
    if not charts:
        return None
    return alt.vconcat(*charts).properties(title="Rows per run, per table, with the anomaly band")


def null_rate_chart(
    metrics: Sequence[Metric], anomalies: Sequence[Anomaly]
) -> alt.TopLevelMixin | None:
    """Per table: the null rate of each column that was ever null, per run."""
    series = _by_table(m for m in metrics if m.metric == NULL_RATE)
    marked = _by_table(a for a in anomalies if a.metric == NULL_RATE)
    charts = []
    for table, points in sorted(series.items()):
        ever_null = {m.subject for m in points if m.value > 0}
        rows = [
            {
                "at": _iso(m.measured_at),
                "when": _when(m.measured_at),
                "column": m.subject,
                "rate": _finite(m.value),
                "run": m.run_id,
            }
            for m in points
            if m.subject in ever_null
        ]
        if not rows:
            continue
        spotted = [a for a in marked.get(table, []) if a.subject in ever_null]
        domain = [m.measured_at for m in points] + [a.observed_at for a in spotted]
        line = (
            alt.Chart(alt.Data(values=rows))
            .mark_line(point=True)
            .encode(
                x=_time_axis("at", domain=domain),
                y=alt.Y("rate:Q", title="null rate", axis=alt.Axis(format="%")),
                color=alt.Color("column:N", title="column"),
                tooltip=[
                    alt.Tooltip("column:N"),
                    alt.Tooltip("rate:Q", title="null rate", format=".2%"),
                    alt.Tooltip("when:N", title="measured (UTC)"),
                    alt.Tooltip("run:N"),
                ],
            )
        )
        layers = [*_anomaly_layers(spotted, lambda _metric: "null rate", domain), line]
        charts.append(alt.layer(*layers).properties(width=WIDTH, height=160, title=table))
    if not charts:
        return None
    return alt.vconcat(*charts).properties(title="Null rate per column, per run")


def rejects_chart(data: ReportData) -> alt.TopLevelMixin | None:
    shown = data.rejects[:MAX_REASONS]
    if not shown:
        return None
    rows = [
        {
            "table": c.target_table,
            "check": c.check,
            "column": c.column,
            "reason": f"{c.target_table}: {c.check}" + (f" ({c.column})" if c.column else ""),
            "rows": c.rows,
        }
        for c in shown
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=360)),
            x=alt.X("rows:Q", title="rejected rows"),
            color=alt.Color("table:N", title="table"),
            tooltip=[
                alt.Tooltip("table:N"),
                alt.Tooltip("check:N"),
                alt.Tooltip("column:N"),
                alt.Tooltip("rows:Q", format=","),
            ],
        )
        .properties(
            width=WIDTH - 360,
            height=max(60, 22 * len(rows)),
            title="Rejected rows by reason (check and column)",
        )
    )


def freshness_chart(freshness: Sequence[Freshness]) -> alt.TopLevelMixin | None:
    """Per pipeline: the newest row's age and the last successful run's age as bars, the
    SLA as a black tick across them; a bar is red when its age is over the SLA."""
    ages = [age for f in freshness for age in (f.newest_row_age, f.last_success_age, f.sla) if age]
    if not ages:
        return None
    unit, seconds = _age_unit(max(ages))
    bars, slas = [], []
    for f in freshness:
        label = f.table if f.pipeline == f.table else f"{f.table} ({f.pipeline})"
        if f.sla is not None:
            slas.append(
                {
                    "label": label,
                    "sla": f.sla.total_seconds() / seconds,
                    "sla_text": _age_text(f.sla),
                }
            )
        measured = ((NEWEST_ROW, f.newest_row_age), (LAST_SUCCESS, f.last_success_age))
        for basis, age in measured:
            if age is None or (basis == NEWEST_ROW and f.time_column is None):
                continue
            verdict = "no SLA" if f.sla is None else "over SLA" if age > f.sla else "within SLA"
            bars.append(
                {
                    "label": label,
                    "basis": basis,
                    "column": f.time_column if basis == NEWEST_ROW else "",
                    "age": _finite(age.total_seconds() / seconds),
                    "age_text": _age_text(age),
                    "verdict": verdict,
                    "sla_text": _age_text(f.sla) if f.sla else "none",
                    "future_rows": f.future_rows,
                }
            )
    if not bars:
        return None
    y = alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=300))
    bar = (
        alt.Chart(alt.Data(values=bars))
        .mark_bar()
        .encode(
            y=y,
            yOffset=alt.YOffset("basis:N", title="age of", sort=[NEWEST_ROW, LAST_SUCCESS]),
            x=alt.X("age:Q", title=f"age ({unit})"),
            color=alt.Color(
                "verdict:N",
                title="freshness",
                scale=alt.Scale(
                    domain=list(FRESHNESS_COLORS), range=list(FRESHNESS_COLORS.values())
                ),
            ),
            # Ordinal with a fixed order: Vega-Lite warns on opacity over a nominal field.
            opacity=alt.Opacity(
                "basis:O",
                title="age of",
                scale=alt.Scale(domain=[NEWEST_ROW, LAST_SUCCESS], range=[1.0, 0.55]),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="table"),
                alt.Tooltip("basis:N", title="age of"),
                alt.Tooltip("column:N", title="time column"),
                alt.Tooltip("age_text:N", title="age"),
                alt.Tooltip("sla_text:N", title="SLA"),
                alt.Tooltip("future_rows:Q", title="rows dated in the future", format=","),
            ],
        )
    )
    layers: list[alt.Chart] = [bar]
    if slas:
        layers.append(
            alt.Chart(alt.Data(values=slas))
            .mark_tick(color="#212121", thickness=3, size=30)
            .encode(
                y=y,
                x=alt.X("sla:Q"),
                tooltip=[
                    alt.Tooltip("label:N", title="table"),
                    alt.Tooltip("sla_text:N", title="SLA"),
                ],
            )
        )
    return alt.layer(*layers).properties(
        width=WIDTH - 300,
        height=alt.Step(18),
        title="Freshness: ages against the SLA (black tick)",
    )


def _anomaly_layers(
    anomalies: Sequence[Anomaly], series_of: Callable[[str], str | None], domain: list[datetime]
) -> list[alt.Chart]:
    if not anomalies:
        return []
    rows = [
        {
            "at": _iso(a.observed_at),
            "when": _when(a.observed_at),
            "value": _finite(a.value),
            "low": _finite(a.expected_low),
            "high": _finite(a.expected_high),
            "expected": _expected(a),
            "series": series_of(a.metric) or a.metric,
            "subject": a.subject,
            "detector": a.detector,
            "status": a.status,
            "message": a.message,
        }
        for a in anomalies
    ]
    tooltip = [
        alt.Tooltip("message:N", title="anomaly"),
        alt.Tooltip("series:N", title="metric"),
        alt.Tooltip("subject:N"),
        alt.Tooltip("value:Q", format=",.4~g"),
        alt.Tooltip("expected:N"),
        alt.Tooltip("detector:N"),
        alt.Tooltip("status:N"),
        alt.Tooltip("when:N", title="observed (UTC)"),
    ]
    layers = []
    banded = [r for r in rows if r["low"] is not None and r["high"] is not None]
    if banded:
        layers.append(
            alt.Chart(alt.Data(values=banded))
            .mark_rule(color=BAND_COLOR, strokeWidth=10, opacity=0.45)
            .encode(
                x=_time_axis("at", domain=domain),
                y=alt.Y("low:Q"),
                y2=alt.Y2("high:Q"),
                tooltip=tooltip,
            )
        )
    valued = [r for r in rows if r["value"] is not None]
    if valued:
        layers.append(
            alt.Chart(alt.Data(values=valued))
            .mark_point(shape="diamond", size=160, filled=True, color=ANOMALY_COLOR)
            .encode(x=_time_axis("at", domain=domain), y=alt.Y("value:Q"), tooltip=tooltip)
        )
    return layers


def _finish(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure_title(anchor="start", fontSize=14)
        .configure_axis(labelFontSize=11, titleFontSize=12)
        .configure_legend(labelFontSize=11, titleFontSize=12)
        .configure_view(stroke="#eceff1")
    )


def _time_axis(field: str, title: str = "measured (UTC)", domain: Sequence[datetime] = ()) -> alt.X:
    """A UTC time axis. About one label per 100 px: Vega's default packs 12-hour ticks
    into two weeks, and hiding the overlapping labels then keeps only the "12 PM" ones."""
    scale = alt.Scale(type="utc")
    if domain and max(domain) - min(domain) < MIN_TIME_SPAN:
        # One run (or a burst) spans nothing: Vega would label milliseconds (".090").
        middle = min(domain) + (max(domain) - min(domain)) / 2
        ends = (middle - MIN_TIME_SPAN / 2, middle + MIN_TIME_SPAN / 2)
        scale = alt.Scale(type="utc", domain=[int(end.timestamp() * 1000) for end in ends])
    axis = alt.Axis(tickCount=8, format=TIME_LABELS)
    return alt.X(f"{field}:T", title=title, scale=scale, axis=axis)


def _by_table(items: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.target_table].append(item)
    return grouped


def _age_unit(longest: timedelta) -> tuple[str, float]:
    """The unit the longest age reads best in, and its length in seconds."""
    if longest < timedelta(minutes=2):
        return "seconds", 1.0
    if longest < timedelta(hours=2):
        return "minutes", 60.0
    if longest < timedelta(days=3):
        return "hours", 3600.0
    return "days", 86400.0


def _age_text(age: timedelta) -> str:
    from dataward.observe.freshness import describe_age

    return describe_age(age)


def _expected(a: Anomaly) -> str:
    low = "-inf" if a.expected_low is None else f"{a.expected_low:,.4g}"
    high = "inf" if a.expected_high is None else f"{a.expected_high:,.4g}"
    return f"{low} .. {high}"


def _finite(value: float | timedelta | None) -> float | None:
    # JSON has no NaN or infinity: such a value is drawn as missing, not as a broken page.
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


# ---------------------------------------------------------------- the page


def _header(data: ReportData) -> str:
    e = html.escape
    return (
        f"<h1>dataward report: {e(data.project)}</h1>\n"
        f'<p class="meta">warehouse {e(data.warehouse)} · made {e(_when(data.generated_at))} UTC'
        " · all times in UTC</p>\n"
        f'<p class="summary" id="summary">{e(data.summary())}</p>'
    )


def _no_history() -> str:
    return (
        '<section id="no-history"><h2>No history yet</h2>'
        "<p>The warehouse has no dataward runs yet, so there is nothing to chart. Run a "
        "pipeline (<code>dataward run</code>) and make the report again.</p></section>"
    )


def _sections(data: ReportData, specs: set[str]) -> list[str]:
    def chart(key: str, empty: str) -> str:
        if key in specs:
            return f'<div class="{CHART_CLASS}" id="{key}"></div>'
        return f'<p class="empty">{html.escape(empty)}</p>'

    covered = (
        f"the latest {len(data.runs)} of {data.total_runs} runs"
        if data.total_runs > len(data.runs)
        else "the only run"
        if len(data.runs) == 1
        else f"all {len(data.runs)} runs"
    )
    scope = data.reject_scope
    reject_note = (
        f"Counted over the rejects of the latest {scope.runs} run(s) that rejected rows "
        f"(at most {REJECT_RUNS}): {scope.rows_read:,} of {scope.rows_total:,} rejected rows read."
    )
    hidden = data.rejects[MAX_REASONS:]
    if hidden:
        reject_note += (
            f" {len(hidden)} smaller reason(s) not drawn ({sum(c.rows for c in hidden):,} rows)."
        )
    return [
        _section(
            "runs",
            "Runs over time",
            f"Each point is a run ({covered}; at most {MAX_RUNS} are drawn): when it "
            "started and how long it took. Hover for its counts and reason.",
            chart("chart-runs", "no runs"),
            _failures_table(data),
        ),
        _section(
            "volume",
            "Rows per run",
            "Rows loaded (inserted + updated) and extracted per successful run. An anomaly "
            "is a red diamond at its value, with the band it was expected in as an amber bar.",
            chart(
                "chart-volume",
                "no row counts recorded yet (metrics are written by runs of this dataward version)",
            ),
        ),
        _section(
            "rejects",
            "Rejects by reason",
            reject_note if scope.runs else "No run of the ones shown rejected rows.",
            chart("chart-rejects", "no rejects"),
        ),
        _section(
            "null-rates",
            "Null rate per column",
            "Share of each delivery's rows that were null, per column; columns that were "
            "never null are left out.",
            chart(
                "chart-null-rates",
                "no column was ever null in the runs shown"
                if any(m.metric == NULL_RATE for m in data.metrics)
                else "no null rates recorded yet (metrics are written by runs of this dataward "
                "version)",
            ),
        ),
        _section(
            "freshness",
            "Freshness against the SLA",
            "Age of the newest row (by the contract's SLA column) and of the last successful "
            "run, against the contract's slaProperties latency.",
            chart("chart-freshness", "no freshness to show (no pipeline has loaded yet)"),
            _freshness_notes(data.freshness),
        ),
        _section("anomalies", "Anomalies", "", _anomalies_table(data.anomalies)),
    ]


def _section(key: str, title: str, note: str, *parts: str) -> str:
    lead = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (
        f'<section id="{key}"><h2>{html.escape(title)}</h2>{lead}' + "".join(parts) + "</section>"
    )


def _failures_table(data: ReportData) -> str:
    failed = [r for r in data.runs if r.status in ("failed", "aborted")][:MAX_FAILURES]
    if not failed:
        return ""
    rows = [[r.run_id, r.pipeline, r.status, _when(r.started_at), r.reason or ""] for r in failed]
    return "<h3>Latest failed runs</h3>" + _table(
        ["run", "pipeline", "status", "started (UTC)", "reason"], rows
    )


def _freshness_notes(freshness: Sequence[Freshness]) -> str:
    notes = []
    for f in freshness:
        if f.last_success_at is None:
            notes.append(f"{f.pipeline}: no successful run yet")
        elif f.time_column and f.newest_row_at is None:
            notes.append(f"{f.table}: no row has a {f.time_column} yet")
        if f.future_rows:
            notes.append(
                f"{f.table}: {f.future_rows:,} row(s) dated in the future (not counted as fresh)"
            )
        if f.sla is None:
            notes.append(f"{f.pipeline}: the contract sets no freshness SLA")
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"


def _anomalies_table(anomalies: Sequence[Anomaly]) -> str:
    if not anomalies:
        return '<p class="empty">no anomalies detected in the period shown</p>'
    ordered = sorted(anomalies, key=lambda a: (a.status != "open", -a.detected_at.timestamp()))
    rows = [
        [
            a.status,
            a.severity,
            a.target_table,
            f"{a.metric}({a.subject})" if a.subject else a.metric,
            a.detector,
            _when(a.observed_at),
            a.message,
        ]
        for a in ordered[:MAX_ANOMALY_ROWS]
    ]
    more = len(ordered) - len(rows)
    tail = f'<p class="note">and {more} older ones</p>' if more > 0 else ""
    return (
        _table(
            ["status", "severity", "table", "metric", "detector", "observed (UTC)", "message"],
            rows,
        )
        + tail
    )


def _audit_section(data: ReportData) -> str:
    audit = data.audit
    if audit is None:
        return _section(
            "audit",
            "Latest audit findings",
            "",
            '<p class="empty">No audit attached. Write one with '
            f"<code>{html.escape(AUDIT_COMMAND)}</code> and make the report with "
            "<code>--audit audit.json</code>.</p>",
        )
    counts = audit.counts()
    note = (
        f"From {audit.file}"
        + (f" (audit of {audit.root})" if audit.root not in ("", ".") else "")
        + ": "
        f"{counts['high']} high, {counts['medium']} medium, {counts['low']} low."
    )
    if not audit.findings:
        return _section("audit", "Latest audit findings", note, '<p class="empty">no findings</p>')
    rows = [[f.severity, f.rule, f.location, f.message, f.fix] for f in audit.findings]
    shown = rows[:MAX_FINDINGS]
    tail = (
        f'<p class="note">and {len(rows) - len(shown)} more in {html.escape(audit.file)}</p>'
        if len(rows) > len(shown)
        else ""
    )
    table = _table(["severity", "rule", "location", "message", "fix"], shown, severity_column=0)
    return _section("audit", "Latest audit findings", note, table, tail)


def _table(heads: Sequence[str], rows: Sequence[Sequence[str]], severity_column: int = -1) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in heads)
    body = []
    for row in rows:
        marked = f' class="severity-{e(row[severity_column])}"' if severity_column >= 0 else ""
        body.append(f"<tr{marked}>" + "".join(f"<td>{e(str(cell))}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _script_json(value: Any) -> str:
    # Inside <script>, `</script>` in a value would end the element: escape the brackets.
    text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _vega_bundle() -> str:
    import vl_convert

    # The bundle's Vega-Lite must be the one altair writes specs for (v6.4.1 -> v6_4).
    version = "_".join(alt.SCHEMA_VERSION.split(".")[:2])
    bundle = vl_convert.javascript_bundle(vl_version=version)
    if "</script" in bundle.lower():  # would end the inline element early
        raise RuntimeError("the vega bundle contains </script>: it cannot be inlined")
    return bundle


_DRIVER = """
(function () {
  const specs = JSON.parse(document.getElementById("dataward-specs").textContent);
  for (const [id, spec] of Object.entries(specs)) {
    const el = document.getElementById(id);
    vegaEmbed(el, spec, {mode: "vega-lite", actions: false, renderer: "svg"})
      .then(function () { el.dataset.rendered = "true"; })
      .catch(function (error) {
        el.textContent = "This chart could not be drawn: " + error.message;
        console.error(error);
      });
  }
})();
"""

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121;
       margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; border-bottom: 1px solid #eceff1; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
.meta, .note { color: #546e7a; font-size: 13px; margin: 4px 0 12px; }
.summary { font-size: 15px; background: #f5f7f8; padding: 8px 12px; border-radius: 4px; }
.empty { color: #78909c; font-style: italic; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff1;
         vertical-align: top; }
th { background: #f5f7f8; }
tr.severity-high td:first-child { color: #c62828; font-weight: 600; }
tr.severity-medium td:first-child { color: #ef6c00; font-weight: 600; }
tr.severity-low td:first-child { color: #546e7a; }
ul.notes { font-size: 13px; color: #546e7a; }
code { background: #f5f7f8; padding: 1px 4px; border-radius: 3px; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{style}</style>
<script>{bundle}</script>
</head>
<body>
{header}
{body}
<script type="application/json" id="dataward-specs">{specs}</script>
<script>{driver}</script>
</body>
</html>
"""
