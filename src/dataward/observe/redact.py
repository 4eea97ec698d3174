"""Credentials out of text that leaves dataward: alerts, lineage events, stored messages.

A reason or an error may quote a URL it was given (an HTTP source with `?api_key=...`, a
DSN with a password); what is sent or stored keeps the scheme, host and path only.
"""

from __future__ import annotations

import re

_URL_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?'\"]*)\?[^\s'\")]+", re.IGNORECASE)


def redact_urls(text: str) -> str:
    """Any URL in the text without its user info and query string."""
    return _URL_QUERY.sub(r"\1?***", _URL_USERINFO.sub(r"\1***@", text))
