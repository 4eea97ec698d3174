"""What an alert says: one `Notice` (an incident opened or resolved) rendered for each sink.

Every rendering starts from the same one-line `summary`, so the stderr event, the JSON
line, the webhook, the Slack message and the e-mail subject read alike, and `json_body`
carries every field of the incident for machines.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from dataward.observe.store import Anomaly

EVENTS = ("opened", "resolved")
BODY_KIND = "dataward.alert"
BODY_VERSION = 1  # bumped when a field of json_body changes meaning or goes away
_SUMMARY_LIMIT = 300  # an e-mail subject or a phone notification shows no more


@dataclass(frozen=True)
class Notice:
    """`anomaly` was opened (first seen) or resolved (no longer seen) by a run of `pipeline`."""

    event: str  # opened | resolved
    anomaly: Anomaly
    project: str
    pipeline: str | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"a notice is {' or '.join(EVENTS)}, got {self.event!r}")

    @property
    def key(self) -> str:
        """The incident's key: the same for its opened and its resolved notice."""
        return self.anomaly.key

    @property
    def summary(self) -> str:
        return summary(self)


def summary(notice: Notice) -> str:
    """One line: "[dataward flights] OPENED freshness on flights.flights: newest row is...";
    a resolved notice says how long the incident lasted and what it was."""
    a = notice.anomaly
    head = f"[dataward {notice.project}] {notice.event.upper()} {a.detector} on {a.target_table}"
    message = _one_line(a.message)
    # Messages that name their table for the status listing need not say it twice here.
    message = message.removeprefix(f"{a.target_table}: ")
    if notice.event == "opened":
        line = f"{head}: {message}"
    else:
        lasted = f" after {duration(a.detected_at, a.resolved_at)}" if a.resolved_at else ""
        line = f"{head}{lasted} (was: {message})"
    return line if len(line) <= _SUMMARY_LIMIT else line[: _SUMMARY_LIMIT - 1] + "…"


def json_body(notice: Notice) -> dict[str, Any]:
    """The generic webhook body and the JSON-lines record: every field of the incident."""
    a = notice.anomaly
    return {
        "kind": BODY_KIND,
        "version": BODY_VERSION,
        "event": notice.event,
        "summary": summary(notice),
        "project": notice.project,
        "pipeline": notice.pipeline,
        "run_id": notice.run_id,
        "anomaly": {
            "key": a.key,
            "id": a.anomaly_id,
            "target_table": a.target_table,
            "metric": a.metric,
            "subject": a.subject,
            "detector": a.detector,
            "severity": a.severity,
            "status": a.status,
            "value": _finite(a.value),
            "expected_low": _finite(a.expected_low),
            "expected_high": _finite(a.expected_high),
            "message": a.message,
            "observed_at": _iso(a.observed_at),
            "detected_at": _iso(a.detected_at),
            "resolved_at": _iso(a.resolved_at),
            "run_id": a.run_id,
        },
    }


def slack_body(notice: Notice) -> dict[str, Any]:
    """A Slack incoming-webhook body: `text` (what notifications show) and Block Kit blocks.
    Slack reads &, < and > as markup, so they are escaped."""
    a = notice.anomaly
    icon = ":red_circle:" if notice.event == "opened" else ":large_green_circle:"
    header = f"{icon} {notice.event.upper()}: {a.detector} on {a.target_table}"
    fields = [(name, value) for name, value in _facts(notice) if name not in ("message", "key")]
    context = f"dataward · project {notice.project} · key `{a.key}`"
    return {
        "text": _slack_escape(summary(notice)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": header[:150], "emoji": True}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _slack_escape(a.message)[:3000]},
            },
            # Slack allows at most 10 fields in a section.
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(value)}"[:2000]}
                    for name, value in fields[:10]
                ],
            },
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(context)}]},
        ],
    }


def email_message(notice: Notice, sender: str, to: tuple[str, ...]) -> EmailMessage:
    """A plain-text e-mail whose subject is the summary. The resolved message answers the
    opened one (In-Reply-To), so mail clients show an incident as one thread."""
    message = EmailMessage()
    message["Subject"] = summary(notice)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = _message_id(notice, notice.event, sender)
    if notice.event == "resolved":
        opened = _message_id(notice, "opened", sender)
        message["In-Reply-To"] = opened
        message["References"] = opened
    width = max(len(name) for name, _ in _facts(notice))
    lines = [
        summary(notice),
        "",
        *(f"{name.ljust(width)}  {value}" for name, value in _facts(notice)),
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def duration(start: datetime, end: datetime) -> str:
    """How long from start to end, to the two largest units: "3 d 2 h", "5 min", "12 s"."""
    seconds = max(0, int((end - start).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def _facts(notice: Notice) -> list[tuple[str, str]]:
    """The incident as (label, text) pairs, the ones that have a value, for people to read."""
    a = notice.anomaly
    facts = [
        ("message", _one_line(a.message)),
        ("table", a.target_table),
        ("detector", a.detector),
        ("metric", a.metric + (f" of {a.subject}" if a.subject else "")),
        ("value", _number(a.value)),
        ("expected", _band(a.expected_low, a.expected_high)),
        ("severity", a.severity),
        ("detected", _iso(a.detected_at) or ""),
        ("resolved", _iso(a.resolved_at) or ""),
        ("pipeline", notice.pipeline or ""),
        ("run", notice.run_id or ""),
        ("key", a.key),
    ]
    return [(name, value) for name, value in facts if value]


def _band(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    if low is None:
        return f"at most {_number(high)}"
    if high is None:
        return f"at least {_number(low)}"
    return f"{_number(low)} to {_number(high)}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _finite(value: float | None) -> float | None:
    # JSON has no NaN or Infinity; a body that strict parsers refuse would be lost entirely.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _message_id(notice: Notice, event: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "dataward.invalid"
    return f"<dataward.{notice.anomaly.anomaly_id}.{event}@{domain}>"
