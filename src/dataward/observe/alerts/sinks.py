"""One attempt to hand a notice to one sink: a JSON-lines file, a webhook, an SMTP server.

A sink either returns (delivered) or raises `DeliveryProblem`, which says what went wrong
in words safe to print and whether trying again could help; deliver.py decides about
retries. Secrets are read from the environment at the moment of sending, and every sink
can list them (`secrets()`) so that no problem text carries one out.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from dataward import __version__
from dataward.observe.alerts.config import (
    JsonlSinkConfig,
    RetryPolicy,
    SinkConfig,
    SmtpSinkConfig,
    WebhookSinkConfig,
    url_problem,
)
from dataward.observe.alerts.message import Notice, email_message, json_body, slack_body

_EXCERPT = 200  # characters of a refusing server's answer worth keeping


class DeliveryProblem(Exception):
    """A failed attempt: `problem` is safe to print; `retryable` says whether the same
    attempt a little later may succeed (a timeout, a 503) or not (a 404, a bad password)."""

    def __init__(self, problem: str, *, retryable: bool) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retryable = retryable


class Sink(Protocol):
    name: str
    retry: RetryPolicy

    def unavailable(self) -> str | None:
        """Why no attempt can be made at all (a variable unset), else None."""

    def send(self, notice: Notice) -> None: ...

    def secrets(self) -> list[str]:
        """Texts that must never appear in a problem, an event or a ledger row."""

    def close(self) -> None: ...


def open_sink(config: SinkConfig) -> Sink:
    if isinstance(config, JsonlSinkConfig):
        return JsonlSink(config)
    if isinstance(config, WebhookSinkConfig):
        return WebhookSink(config)
    return SmtpSink(config)


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):  # the URL before its own path
        text = text.replace(secret, "***")
    return text


def _env(name: str) -> str | None:
    """A variable's value; set-but-empty counts as unset (how a shell or CI disables one)."""
    return os.environ.get(name) or None


def _unset(name: str) -> str:
    return f"not configured: variable {name} is unset"


class JsonlSink:
    def __init__(self, config: JsonlSinkConfig) -> None:
        self.config, self.name, self.retry = config, config.name, config.retry

    def unavailable(self) -> str | None:
        return None

    def secrets(self) -> list[str]:
        return []

    def close(self) -> None:
        pass

    def send(self, notice: Notice) -> None:
        line = json.dumps(json_body(notice), ensure_ascii=False) + "\n"
        path = self.config.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode: concurrent runs never interleave lines.
            with path.open("a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            raise DeliveryProblem(
                f"cannot write {path}: {exc.strerror or exc}", retryable=False
            ) from None


class WebhookSink:
    def __init__(self, config: WebhookSinkConfig) -> None:
        self.config, self.name, self.retry = config, config.name, config.retry
        # One client for every attempt and notice of a batch: a new one per request
        # builds a TLS context each time (tens of milliseconds) and reconnects.
        self._client: httpx.Client | None = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def unavailable(self) -> str | None:
        url = _env(self.config.url_env)
        if url is None:
            return _unset(self.config.url_env)
        reason = url_problem(url)
        return f"not configured: variable {self.config.url_env} {reason}" if reason else None

    def secrets(self) -> list[str]:
        url = _env(self.config.url_env)
        if url is None:
            return []
        parts = urlsplit(url)
        # An error message may quote only part of the URL: its path, query or password.
        pieces = [url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.query]
        pieces.append(parts.password or "")
        return [p for p in pieces if len(p.strip("/")) >= 4]

    def send(self, notice: Notice) -> None:
        url = _env(self.config.url_env)
        assert url is not None  # unavailable() said so
        body = slack_body(notice) if self.config.format == "slack" else json_body(notice)
        with _httpx_quiet_about(self.secrets()):
            try:
                response = self._http().post(url, json=body)
            except httpx.TimeoutException:
                raise DeliveryProblem(
                    f"no answer within {self.config.timeout_seconds:g} s", retryable=True
                ) from None
            except httpx.HTTPError as exc:
                raise DeliveryProblem(
                    f"cannot connect: {type(exc).__name__}: {exc}", retryable=True
                ) from None
        _check_status(response)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.config.timeout_seconds,
                headers={"User-Agent": f"dataward/{__version__}"},
            )
        return self._client


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    said = " ".join(response.text.split())[:_EXCERPT]
    problem = f"HTTP {status}" + (f": {said}" if said else "")
    if 300 <= status < 400:
        raise DeliveryProblem(
            f"{problem} (a redirect: redirects are not followed)", retryable=False
        )
    # 429 and 5xx say "not now"; any other 4xx says this request will never be accepted.
    raise DeliveryProblem(problem, retryable=status == 429 or status >= 500)


class _DropRecordsMentioning(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not any(secret in text for secret in self.secrets)


@contextmanager
def _httpx_quiet_about(secrets: list[str]) -> Iterator[None]:
    """httpx logs every request with its full URL at INFO (`HTTP Request: POST https://...`);
    an application that turns on INFO logging would print the webhook's token."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    guard = _DropRecordsMentioning(secrets)
    for logger in loggers:
        logger.addFilter(guard)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(guard)


class SmtpSink:
    def __init__(self, config: SmtpSinkConfig) -> None:
        self.config, self.name, self.retry = config, config.name, config.retry

    def unavailable(self) -> str | None:
        for name in (self.config.username_env, self.config.password_env):
            if name is not None and _env(name) is None:
                return _unset(name)
        return None

    def secrets(self) -> list[str]:
        password = _env(self.config.password_env) if self.config.password_env else None
        return [password] if password else []

    def close(self) -> None:
        pass  # a connection lasts one message: a relay may drop one held between notices

    def send(self, notice: Notice) -> None:
        c = self.config
        message = email_message(notice, c.sender, c.to)
        try:
            with smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds) as smtp:
                if c.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if c.username_env and c.password_env:
                    smtp.login(_env(c.username_env) or "", _env(c.password_env) or "")
                refused = smtp.send_message(message, from_addr=c.sender, to_addrs=list(c.to))
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients, everyone=True) from None
        except smtplib.SMTPResponseException as exc:
            # SMTP's own rule: 4xx is a transient failure, 5xx a permanent one.
            said = _decode(exc.smtp_error)
            raise DeliveryProblem(
                f"SMTP {exc.smtp_code}: {said}", retryable=400 <= exc.smtp_code < 500
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryProblem(
                f"the server does not support it: {exc}", retryable=False
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryProblem(
                f"the server's TLS certificate is not trusted: {exc.verify_message}",
                retryable=False,
            ) from None
        except TimeoutError:
            raise DeliveryProblem(
                f"no answer within {c.timeout_seconds:g} s", retryable=True
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryProblem(
                f"cannot talk to {c.host}:{c.port}: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        if refused:
            # Some recipients have it already: trying again would send them a second copy.
            raise _refused(refused, everyone=False)


def _refused(recipients: dict[str, tuple[int, bytes]], *, everyone: bool) -> DeliveryProblem:
    said = "; ".join(f"{who}: {code} {_decode(text)}" for who, (code, text) in recipients.items())
    transient = everyone and all(400 <= code < 500 for code, _ in recipients.values())
    scope = "every recipient" if everyone else "some recipients (the others have it)"
    return DeliveryProblem(f"refused for {scope}: {said}", retryable=transient)


def _decode(text: bytes | str) -> str:
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(raw.split())[:_EXCERPT]
