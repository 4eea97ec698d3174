"""Alert sinks: where a notice about an incident goes, and the record of whether it got there.

    settings = parse_alert_settings(table, config_path, project_root)  # [alerts] of dataward.toml
    deliveries = deliver(settings, notices)   # never raises; the stderr event is always written
    record_deliveries(wh, deliveries)         # dataward.alert_deliveries

See docs/alerts.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# (The module is delivery.py, not deliver.py: a submodule named like the function
# `deliver` would shadow it as an attribute of this package.)
# Loaded when asked for: load_project reads [alerts] through .config on every command, and
# must not pay for the warehouse and polars imports that delivery needs.
_HOMES = {
    "AlertSettings": "config",
    "JsonlSinkConfig": "config",
    "RetryPolicy": "config",
    "SinkConfig": "config",
    "SmtpSinkConfig": "config",
    "WebhookSinkConfig": "config",
    "parse_alert_settings": "config",
    "Notice": "message",
    "email_message": "message",
    "json_body": "message",
    "slack_body": "message",
    "summary": "message",
    "Delivery": "delivery",
    "deliver": "delivery",
    "ensure_deliveries_table": "delivery",
    "read_deliveries": "delivery",
    "record_deliveries": "delivery",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
