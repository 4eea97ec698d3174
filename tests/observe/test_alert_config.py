"""[alerts] in dataward.toml: what parses into which sinks, and every bad input with its key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dataward.errors import ExitCode, UsageError
from dataward.observe.alerts import (
    AlertSettings,
    JsonlSinkConfig,
    RetryPolicy,
    SmtpSinkConfig,
    WebhookSinkConfig,
    parse_alert_settings,
)
from dataward.project.config import load_project

DATAWARD = Path(sys.executable).parent / "dataward"
FULL = """\
[alerts]
retries = 2
backoff_seconds = 0.5

[[alerts.sinks]]
type = "jsonl"
path = "logs/alerts.jsonl"

[[alerts.sinks]]
type = "webhook"
url_env = "DW_TEST_SLACK"
format = "slack"
retries = 5
timeout_seconds = 3

[[alerts.sinks]]
type = "smtp"
name = "oncall mail"
host = "127.0.0.1"
port = 2525
from = "dataward@example.com"
to = ["oncall@example.com", "data@example.com"]
username_env = "DW_TEST_SMTP_USER"
password_env = "DW_TEST_SMTP_PASSWORD"
starttls = true
"""


def parse(tmp_path: Path, text: str) -> AlertSettings:
    config = tmp_path / "dataward.toml"
    config.write_text(text)
    return parse_alert_settings(tomllib.loads(text).get("alerts", {}), config, tmp_path)


def refused(tmp_path: Path, text: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        parse(tmp_path, text)
    assert caught.value.location.file == str(tmp_path / "dataward.toml")
    return caught.value


def test_every_sink_type_parses_with_its_keys_and_the_global_retry_defaults(tmp_path):
    jsonl, slack, mail = parse(tmp_path, FULL).sinks
    assert jsonl == JsonlSinkConfig(
        name="jsonl:logs/alerts.jsonl",
        origin="alerts.sinks[0]",
        path=tmp_path / "logs" / "alerts.jsonl",
    )
    assert jsonl.retry.retries == 0  # a local file is not retried
    assert slack == WebhookSinkConfig(
        name="webhook:DW_TEST_SLACK",
        origin="alerts.sinks[1]",
        url_env="DW_TEST_SLACK",
        format="slack",
        timeout_seconds=3.0,
        retry=RetryPolicy(retries=5, backoff_seconds=0.5),  # own retries, global backoff
    )
    assert isinstance(mail, SmtpSinkConfig)
    assert (mail.name, mail.host, mail.port, mail.sender) == (
        "oncall mail",
        "127.0.0.1",
        2525,
        "dataward@example.com",
    )
    assert mail.to == ("oncall@example.com", "data@example.com")
    assert (mail.username_env, mail.password_env, mail.starttls) == (
        "DW_TEST_SMTP_USER",
        "DW_TEST_SMTP_PASSWORD",
        True,
    )
    assert mail.retry == RetryPolicy(retries=2, backoff_seconds=0.5)
    assert mail.timeout_seconds == 10.0


def test_backoff_doubles_after_each_failed_attempt():
    assert [RetryPolicy(3, 0.5).delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


def test_no_alerts_table_means_no_sinks(tmp_path):
    assert parse(tmp_path, "[project]\nname = 'x'\n").sinks == ()


def test_the_older_webhook_url_env_is_one_generic_webhook_sink(tmp_path):
    settings = parse(tmp_path, '[alerts]\nwebhook_url_env = "DW_TEST_HOOK"\n')
    (sink,) = settings.sinks
    assert isinstance(sink, WebhookSinkConfig)
    assert (sink.url_env, sink.format, sink.origin) == (
        "DW_TEST_HOOK",
        "generic",
        "alerts.webhook_url_env",
    )
    assert settings.webhook_url_env == "DW_TEST_HOOK"


def test_the_same_variable_in_both_spellings_is_one_sink(tmp_path):
    text = '[alerts]\nwebhook_url_env = "H"\n[[alerts.sinks]]\ntype = "webhook"\nurl_env = "H"\n'
    assert len(parse(tmp_path, text).sinks) == 1


def test_load_project_reads_the_sinks_and_keeps_webhook_url_env(tmp_path):
    (tmp_path / "dataward.toml").write_text(
        '[project]\nname = "p"\n[alerts]\nwebhook_url_env = "DW_TEST_HOOK"\n'
        '[[alerts.sinks]]\ntype = "jsonl"\npath = "alerts.jsonl"\n'
    )
    project = load_project(tmp_path)
    assert project.webhook_url_env == "DW_TEST_HOOK"
    assert [s.name for s in project.alerts.sinks] == ["jsonl:alerts.jsonl", "webhook:DW_TEST_HOOK"]


SINK = '[[alerts.sinks]]\ntype = "jsonl"\npath = "a.jsonl"\n'


@pytest.mark.parametrize(
    ("text", "path", "says"),
    [
        (SINK + '[[alerts.sinks]]\ntype = "pager"\n', "alerts.sinks[1].type", "unknown sink type"),
        (SINK + '[[alerts.sinks]]\ntype = "webhook"\n', "alerts.sinks[1].url_env", "missing key"),
        ('[[alerts.sinks]]\npath = "a.jsonl"\n', "alerts.sinks[0].type", "missing key 'type'"),
        (SINK + '[[alerts.sinks]]\ntype = "webhook"\nurl_env = "H"\nformat = "teams"\n',
         "alerts.sinks[1].format", "generic, slack"),
        ('[[alerts.sinks]]\ntype = "jsonl"\npath = "a"\ncolour = 1\n',
         "alerts.sinks[0].colour", "unknown key 'colour'"),
        ('[alerts]\nretry = 3\n', "alerts.retry", "unknown key 'retry'"),
        ('[alerts]\nretries = -1\n', "alerts.retries", "whole number from 0 to 10"),
        ('[alerts]\nretries = true\n', "alerts.retries", "whole number"),
        ('[alerts]\nbackoff_seconds = "1s"\n', "alerts.backoff_seconds", "number of seconds"),
        ('[[alerts.sinks]]\ntype = "webhook"\nurl_env = "H"\ntimeout_seconds = 0\n',
         "alerts.sinks[0].timeout_seconds", "more than 0"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nport = "25"\nfrom = "a@b"\nto = ["c@d"]\n',
         "alerts.sinks[0].port", "whole number from 1 to 65535"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = "c@d"\n',
         "alerts.sinks[0].to", "non-empty list"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["c@d", "oops"]\n',
         "alerts.sinks[0].to[1]", "e-mail address"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nto = ["c@d"]\n',
         "alerts.sinks[0].from", "missing key 'from'"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["c@d"]\n'
         'username_env = "U"\n', "alerts.sinks[0].password_env", "both"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["c@d"]\n'
         'starttls = "yes"\n', "alerts.sinks[0].starttls", "true or false"),
        ('[alerts.sinks]\ntype = "jsonl"\n', "alerts.sinks", "[[alerts.sinks]]"),
        (SINK + SINK, "alerts.sinks[1].name", "two sinks are named 'jsonl:a.jsonl'"),
        ('[[alerts.sinks]]\ntype = "stderr"\n', "alerts.sinks[0].type", "always written"),
    ],
)  # fmt: skip
def test_a_bad_alerts_table_names_the_file_and_the_key(tmp_path, text, path, says):
    error = refused(tmp_path, text)
    assert error.location.path == path
    assert says in error.message


def test_a_jsonl_path_that_is_a_directory_is_refused(tmp_path):
    (tmp_path / "logs").mkdir()
    error = refused(tmp_path, '[[alerts.sinks]]\ntype = "jsonl"\npath = "logs"\n')
    assert error.location.path == "alerts.sinks[0].path" and "directory" in error.message


SECRET_URL = "https://hooks.example.com/services/T000/B000/s3cr3tT0ken"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (f'[[alerts.sinks]]\ntype = "webhook"\nurl = "{SECRET_URL}"\n', "alerts.sinks[0].url"),
        (f'[[alerts.sinks]]\ntype = "webhook"\nurl_env = "{SECRET_URL}"\n',
         "alerts.sinks[0].url_env"),
        (f'[alerts]\nwebhook_url_env = "{SECRET_URL}"\n', "alerts.webhook_url_env"),
        ('[[alerts.sinks]]\ntype = "smtp"\nhost = "h"\nfrom = "a@b"\nto = ["c@d"]\n'
         'password = "s3cr3tT0ken"\n', "alerts.sinks[0].password"),
    ],
)  # fmt: skip
def test_a_secret_written_into_the_file_is_refused_without_repeating_it(tmp_path, text, path):
    error = refused(tmp_path, text)
    assert error.location.path == path
    assert "environment variable" in error.message
    assert "s3cr3tT0ken" not in str(error)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("hooks.example.com/services/s3cr3tT0ken", "http:// or https://"),
        ("ftp://hooks.example.com/s3cr3tT0ken", "http:// or https://"),
        ("https://hooks.example.com/s3cr3tT0ken\n", "whitespace"),
        ("https:///s3cr3tT0ken", "host"),
        ("https://hooks.example.com:99999/s3cr3tT0ken", "cannot be parsed"),
    ],
)
def test_a_malformed_webhook_url_in_the_environment_is_refused_at_start(
    tmp_path, monkeypatch, value, reason
):
    settings = parse(tmp_path, SINK + '[[alerts.sinks]]\ntype = "webhook"\nurl_env = "DW_T_URL"\n')
    monkeypatch.setenv("DW_T_URL", value)
    with pytest.raises(UsageError) as caught:
        settings.check_environment()
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert error.location.path == "alerts.sinks[1].url_env"
    assert "DW_T_URL" in error.message and reason in error.message
    assert "s3cr3tT0ken" not in str(error) and "hooks.example.com" not in str(error)


def test_an_unset_or_empty_webhook_variable_is_not_an_error_at_start(tmp_path, monkeypatch):
    settings = parse(tmp_path, '[[alerts.sinks]]\ntype = "webhook"\nurl_env = "DW_T_URL"\n')
    monkeypatch.delenv("DW_T_URL", raising=False)
    settings.check_environment()
    monkeypatch.setenv("DW_T_URL", "")
    settings.check_environment()
    monkeypatch.setenv("DW_T_URL", SECRET_URL)
    settings.check_environment()


def test_load_project_refuses_a_malformed_webhook_url(tmp_path, monkeypatch):
    (tmp_path / "dataward.toml").write_text('[alerts]\nwebhook_url_env = "DW_T_URL"\n')
    monkeypatch.setenv("DW_T_URL", "not a url s3cr3tT0ken")
    with pytest.raises(UsageError) as caught:
        load_project(tmp_path)
    assert caught.value.location.path == "alerts.webhook_url_env"


@pytest.mark.e2e
def test_the_cli_exits_2_at_start_naming_the_variable_not_its_value(tmp_path):
    (tmp_path / "dataward.toml").write_text(
        '[project]\nname = "p"\n[[alerts.sinks]]\ntype = "webhook"\nurl_env = "DW_T_URL"\n'
    )
    result = subprocess.run(
        [str(DATAWARD), "run", "--project", str(tmp_path)],
        env={"PATH": "/usr/bin:/bin", "DW_T_URL": "hooks.example.com/s3cr3tT0ken"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "DW_T_URL" in output and "alerts.sinks[0].url_env" in output
    assert "s3cr3tT0ken" not in output
