"""Credentials out of text that leaves dataward: displayed URLs, driver messages, alerts,
lineage events, stored messages.

Imports nothing heavy: the warehouse, the CLI and the alert sinks all need it at start.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

_SECRET_PARAMETERS = {"password", "sslpassword"}
_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?'\"]*)\?[^\s'\")]+", re.IGNORECASE)


def redact_urls(text: str) -> str:
    """Any URL in the text without its user info and query string."""
    return _URL_QUERY.sub(r"\1?***", _URL_USERINFO.sub(r"\1***@", text))


def redact_url(url: str) -> str:
    """The URL without its password (in the user part or the query string), for display.

    `postgresql://user:secret@host:5432/db?sslmode=require&password=x` becomes
    `postgresql://user@host:5432/db?sslmode=require`. Something that is not a URL (a
    key=value DSN, say, which may hold a password) is not shown at all.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme:
        return "<not a URL>"
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    netloc = f"{user}@{hostport}" if at and user else hostport
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(key.lower() in _SECRET_PARAMETERS for key, _ in pairs):
        query = urlencode([(k, v) for k, v in pairs if k.lower() not in _SECRET_PARAMETERS])
    # Put together by hand: urlunsplit would turn duckdb:////abs/path into duckdb://abs/path.
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def secrets_in(url: str) -> list[str]:
    """Every spelling of the URL's secrets, to scrub from messages the driver writes."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]  # cannot tell what is secret in it: never show any of it
    found = [parts.password or ""]
    found += [value for key, value in parse_qsl(parts.query) if key.lower() in _SECRET_PARAMETERS]
    spelled = {spelling for value in found for spelling in (value, unquote(value), quote(value))}
    return sorted((s for s in spelled if s), key=len, reverse=True)
