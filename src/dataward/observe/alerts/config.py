"""What `[alerts]` in dataward.toml asks for: the sinks a notice goes to, and how hard to try.

Every key and type is checked when the project loads, and a mistake names the file and the
key (`alerts.sinks[1].url_env`). Secrets are never in the file: a sink names the
environment variable that holds them. The variables are read when a notice is sent, and
checked once at start (`check_environment`), so a malformed webhook URL is a configuration
error before any run rather than a surprise at the first alert.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dataward.errors import Location, UsageError

SINK_TYPES = ("jsonl", "webhook", "smtp")
WEBHOOK_FORMATS = ("generic", "slack")
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 1.0
DEFAULT_TIMEOUT_SECONDS = 10.0

# Where the older `[alerts] webhook_url_env` spelling puts its webhook sink.
LEGACY_ORIGIN = "alerts.webhook_url_env"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keys that apply to every network sink; set in [alerts] they are the default of each.
_DELIVERY_KEYS = {"retries", "backoff_seconds", "timeout_seconds"}
_ALERTS_KEYS = {"webhook_url_env", "sinks", *_DELIVERY_KEYS}
_SINK_KEYS = {
    "jsonl": {"type", "name", "path"},
    "webhook": {"type", "name", "url_env", "format", *_DELIVERY_KEYS},
    "smtp": {
        "type",
        "name",
        "host",
        "port",
        "from",
        "to",
        "username_env",
        "password_env",
        "starttls",
        *_DELIVERY_KEYS,
    },
}
# A key someone may write by habit, which would put a secret in the file.
_SECRET_KEYS = {
    "url": "a webhook URL is a secret (it usually embeds a token): put it in an environment "
    "variable and name the variable with `url_env`",
    "password": "a password is a secret: put it in an environment variable and name the "
    "variable with `password_env`",
    "username": "name the environment variable holding the user name with `username_env`",
}


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` more attempts after the first, waiting `backoff_seconds`, then twice that,
    four times that... between them."""

    retries: int = DEFAULT_RETRIES
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the `failed_attempts`-th failure (1-based)."""
        return self.backoff_seconds * 2 ** (failed_attempts - 1)


NO_RETRY = RetryPolicy(retries=0, backoff_seconds=0.0)


@dataclass(frozen=True)
class JsonlSinkConfig:
    """Append one JSON line per notice to `path` (absolute; written relative to the project)."""

    name: str
    origin: str  # where it is configured, such as alerts.sinks[0]
    path: Path
    retry: RetryPolicy = NO_RETRY  # a local file that cannot be written will not heal in seconds


@dataclass(frozen=True)
class WebhookSinkConfig:
    """POST each notice as JSON to the URL held by the environment variable `url_env`."""

    name: str
    origin: str
    url_env: str
    format: str = "generic"  # generic | slack
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class SmtpSinkConfig:
    """Send each notice as an e-mail through the SMTP server at host:port."""

    name: str
    origin: str
    host: str
    port: int
    sender: str  # the `from` key
    to: tuple[str, ...]
    username_env: str | None = None
    password_env: str | None = None
    starttls: bool = False
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    retry: RetryPolicy = RetryPolicy()


SinkConfig = JsonlSinkConfig | WebhookSinkConfig | SmtpSinkConfig


@dataclass(frozen=True)
class AlertSettings:
    """The `[alerts]` table: where notices go. With no sinks, a notice is still an event on
    stderr."""

    sinks: tuple[SinkConfig, ...] = ()
    config_path: Path | None = None
    # `[alerts] webhook_url_env`, the older spelling of one generic webhook sink (which
    # `sinks` also holds); kept so callers of Project.webhook_url_env keep working.
    webhook_url_env: str | None = None

    def check_environment(self) -> None:
        """Refuse a webhook variable that is set but does not hold an http(s) URL. An unset
        (or empty) variable is not an error here: the sink reports itself not configured
        when a notice is sent."""
        for sink in self.sinks:
            if not isinstance(sink, WebhookSinkConfig):
                continue
            value = os.environ.get(sink.url_env)
            reason = url_problem(value) if value else None
            if reason:
                key = sink.origin if sink.origin == LEGACY_ORIGIN else f"{sink.origin}.url_env"
                raise UsageError(
                    f"environment variable {sink.url_env} does not hold an http(s) URL: "
                    f"{reason} (its value is not shown: it is a secret)",
                    Location(file=str(self.config_path) if self.config_path else None, path=key),
                )


def url_problem(url: str) -> str | None:
    """Why `url` is not a URL a webhook can be POSTed to, in words that never quote it (it
    is a secret); None when it is one."""
    if url != url.strip() or any(ch.isspace() for ch in url):
        return "it contains whitespace (a pasted line break or space?)"
    scheme, separator, _ = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        return "it does not start with http:// or https://"
    import httpx  # here: every command reads the settings, few send anything

    try:
        parsed = httpx.URL(url)  # what will send it
        urlsplit(url).port  # noqa: B018 - httpx takes a port of 99999; this refuses it
    except (httpx.InvalidURL, ValueError):
        return "it cannot be parsed as a URL (look at the host and the port)"
    if not parsed.host:
        return "it has no host name"
    return None


def parse_alert_settings(
    table: dict[str, Any], config_path: Path, project_root: Path
) -> AlertSettings:
    """The `[alerts]` table of `config_path`; relative paths are taken from `project_root`."""
    top = _Keys(table, config_path, "alerts")
    top.only(_ALERTS_KEYS)
    defaults = _delivery_defaults(top)
    sinks: list[SinkConfig] = []
    raw = table.get("sinks", [])
    if not isinstance(raw, list):
        raise UsageError(
            "sinks is an array of tables: write each sink as [[alerts.sinks]]", top.where("sinks")
        )
    for index, body in enumerate(raw):
        origin = f"alerts.sinks[{index}]"
        if not isinstance(body, dict):
            raise UsageError(
                "each sink is a table: write it as [[alerts.sinks]]",
                Location(file=str(config_path), path=origin),
            )
        sinks.append(_sink(_Keys(body, config_path, origin), defaults, project_root))
    legacy = top.env_name("webhook_url_env", required=False)
    # The same variable in both spellings is one sink, not two posts to one URL.
    if legacy and not any(isinstance(s, WebhookSinkConfig) and s.url_env == legacy for s in sinks):
        sinks.append(
            WebhookSinkConfig(
                name=f"webhook:{legacy}",
                origin=LEGACY_ORIGIN,
                url_env=legacy,
                timeout_seconds=defaults.timeout_seconds,
                retry=defaults.retry,
            )
        )
    _unique_names(sinks, config_path)
    return AlertSettings(sinks=tuple(sinks), config_path=config_path, webhook_url_env=legacy)


@dataclass(frozen=True)
class _Delivery:
    retry: RetryPolicy
    timeout_seconds: float


def _delivery_defaults(keys: _Keys) -> _Delivery:
    return _Delivery(
        retry=RetryPolicy(
            retries=keys.integer("retries", DEFAULT_RETRIES, minimum=0, maximum=10),
            backoff_seconds=keys.number("backoff_seconds", DEFAULT_BACKOFF_SECONDS, zero_ok=True),
        ),
        timeout_seconds=keys.number("timeout_seconds", DEFAULT_TIMEOUT_SECONDS, zero_ok=False),
    )


def _sink(keys: _Keys, defaults: _Delivery, root: Path) -> SinkConfig:
    kind = keys.string("type")
    if kind not in SINK_TYPES:
        hint = " (stderr events are always written: no sink is needed)" if kind == "stderr" else ""
        raise UsageError(
            f"unknown sink type {kind!r}: use one of {', '.join(SINK_TYPES)}{hint}",
            keys.where("type"),
        )
    keys.only(_SINK_KEYS[kind])
    if kind == "jsonl":
        return _jsonl(keys, root)
    own = _delivery_of_sink(keys, defaults)
    if kind == "webhook":
        return _webhook(keys, own)
    return _smtp(keys, own)


def _delivery_of_sink(keys: _Keys, defaults: _Delivery) -> _Delivery:
    return _Delivery(
        retry=RetryPolicy(
            retries=keys.integer("retries", defaults.retry.retries, minimum=0, maximum=10),
            backoff_seconds=keys.number(
                "backoff_seconds", defaults.retry.backoff_seconds, zero_ok=True
            ),
        ),
        timeout_seconds=keys.number("timeout_seconds", defaults.timeout_seconds, zero_ok=False),
    )


def _jsonl(keys: _Keys, root: Path) -> JsonlSinkConfig:
    written = keys.string("path")
    path = root / written
    if path.is_dir():
        raise UsageError(
            f"{path} is a directory: path names the file to append to", keys.where("path")
        )
    return JsonlSinkConfig(
        name=keys.string("name", f"jsonl:{written}"), origin=keys.prefix, path=path
    )


def _webhook(keys: _Keys, own: _Delivery) -> WebhookSinkConfig:
    url_env = keys.env_name("url_env")
    assert url_env is not None
    fmt = keys.string("format", "generic")
    if fmt not in WEBHOOK_FORMATS:
        raise UsageError(
            f"format is one of {', '.join(WEBHOOK_FORMATS)}, got {fmt!r}", keys.where("format")
        )
    return WebhookSinkConfig(
        name=keys.string("name", f"webhook:{url_env}"),
        origin=keys.prefix,
        url_env=url_env,
        format=fmt,
        timeout_seconds=own.timeout_seconds,
        retry=own.retry,
    )


def _smtp(keys: _Keys, own: _Delivery) -> SmtpSinkConfig:
    host = keys.string("host")
    port = keys.integer("port", 25, minimum=1, maximum=65535)
    username_env = keys.env_name("username_env", required=False)
    password_env = keys.env_name("password_env", required=False)
    if (username_env is None) != (password_env is None):
        missing = "password_env" if password_env is None else "username_env"
        raise UsageError(
            "SMTP login needs both username_env and password_env (or neither)", keys.where(missing)
        )
    return SmtpSinkConfig(
        name=keys.string("name", f"smtp:{host}:{port}"),
        origin=keys.prefix,
        host=host,
        port=port,
        sender=keys.address("from"),
        to=keys.addresses("to"),
        username_env=username_env,
        password_env=password_env,
        starttls=keys.boolean("starttls", False),
        timeout_seconds=own.timeout_seconds,
        retry=own.retry,
    )


def _unique_names(sinks: list[SinkConfig], config_path: Path) -> None:
    seen: dict[str, str] = {}
    for sink in sinks:
        if sink.name in seen:
            raise UsageError(
                f"two sinks are named {sink.name!r} ({seen[sink.name]} and {sink.origin}): "
                "give one of them a `name`",
                Location(file=str(config_path), path=f"{sink.origin}.name"),
            )
        seen[sink.name] = sink.origin


_REQUIRED: Any = object()


class _Keys:
    """One TOML table being read: each accessor checks a key's type and names the key (as
    `prefix.key` in `file`) when it is wrong."""

    def __init__(self, body: dict[str, Any], file: Path, prefix: str) -> None:
        self.body, self.file, self.prefix = body, file, prefix

    def where(self, key: str) -> Location:
        return Location(file=str(self.file), path=f"{self.prefix}.{key}")

    def only(self, allowed: set[str]) -> None:
        for key in self.body:
            if key in allowed:
                continue
            if key in _SECRET_KEYS:
                raise UsageError(_SECRET_KEYS[key], self.where(key))
            raise UsageError(
                f"unknown key {key!r} (expected one of {', '.join(sorted(allowed))})",
                self.where(key),
            )

    def _get(self, key: str, default: Any, what: str) -> Any:
        if key in self.body:
            return self.body[key]
        if default is _REQUIRED:
            raise UsageError(f"missing key {key!r} ({what})", self.where(key))
        return default

    def string(self, key: str, default: Any = _REQUIRED) -> str:
        value = self._get(key, default, "a text is needed here")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{key} must be a non-empty text, got {value!r}", self.where(key))
        return value

    def env_name(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(
            key, _REQUIRED if required else None, "the name of an environment variable"
        )
        if value is None:
            return None
        if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
            # Never echo the value: someone may have pasted the secret itself here.
            raise UsageError(
                f"{key} is the name of an environment variable (such as DATAWARD_ALERT_WEBHOOK), "
                "not the secret itself: put the secret in that variable",
                self.where(key),
            )
        return value

    def integer(self, key: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self._get(key, default, "a whole number")
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise UsageError(
                f"{key} must be a whole number from {minimum} to {maximum}, got {value!r}",
                self.where(key),
            )
        return value

    def number(self, key: str, default: float, *, zero_ok: bool) -> float:
        value = self._get(key, default, "a number of seconds")
        bad = isinstance(value, bool) or not isinstance(value, int | float)
        if bad or value < 0 or (value == 0 and not zero_ok) or value > 3600:
            least = "0" if zero_ok else "more than 0"
            raise UsageError(
                f"{key} must be a number of seconds from {least} to 3600, got {value!r}",
                self.where(key),
            )
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default, "true or false")
        if not isinstance(value, bool):
            raise UsageError(f"{key} is true or false, got {value!r}", self.where(key))
        return value

    def address(self, key: str) -> str:
        value = self.string(key)
        if "@" not in value or any(ch.isspace() for ch in value.strip()):
            raise UsageError(f"{key} must be an e-mail address, got {value!r}", self.where(key))
        return value.strip()

    def addresses(self, key: str) -> tuple[str, ...]:
        value = self._get(
            key, _REQUIRED, 'a list of e-mail addresses, such as ["oncall@example.com"]'
        )
        if not isinstance(value, list) or not value:
            raise UsageError(
                f'{key} is a non-empty list of e-mail addresses, such as ["oncall@example.com"]',
                self.where(key),
            )
        for index, item in enumerate(value):
            if (
                not isinstance(item, str)
                or "@" not in item
                or any(c.isspace() for c in item.strip())
            ):
                raise UsageError(
                    f"{key}[{index}] must be an e-mail address, got {item!r}",
                    self.where(f"{key}[{index}]"),
                )
        return tuple(item.strip() for item in value)
