"""ALERT: a failed run, or a reject rate above its threshold, is announced.

Always as an `alert` event on stderr; and, when dataward.toml names an environment
variable holding a webhook URL, as a JSON POST to it. A webhook that is down never
changes the run's outcome: the failed delivery is itself reported as an event.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from dataward.events import get_logger


def send_alert(body: dict[str, Any], webhook_url_env: str | None, timeout: float = 10.0) -> bool:
    log = get_logger()
    log.error("alert", **body)
    if not webhook_url_env:
        return True
    url = os.environ.get(webhook_url_env)
    if not url:
        log.warning("alert.webhook.unset", variable=webhook_url_env)
        return False
    for attempt in range(3):
        try:
            response = httpx.post(url, json=body, timeout=timeout)
            if response.status_code < 500:
                if response.status_code >= 400:
                    log.warning("alert.webhook.refused", status=response.status_code)
                    return False
                return True
            problem = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        log.warning("alert.webhook.retry", attempt=attempt + 1, problem=problem)
    # The URL is a secret (it often embeds a token): name the variable, never the value.
    log.error("alert.webhook.failed", variable=webhook_url_env, problem=problem)
    return False
