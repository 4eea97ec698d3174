"""Secrets out of anything the audit shows: a password in a URL, in a key=value DSN, or
in a configuration key that names one is replaced by *** before the text is kept.

Applied where configuration is read, not where output is written, so there is no path
by which a secret reaches the terminal, a log, JSON, SARIF or TODO.md.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://user:password@host: the password is everything between the first : after
# the scheme's // and the last @ before the host.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s'\"]*:)(?P<secret>[^@\s'\"]*)@")
# password=..., sslpassword=..., in a DSN or a URL's query string
_PARAMETER = re.compile(
    r"(?P<head>\b(?:ssl)?pass(?:word|wd)?\s*=\s*)(?P<secret>'[^']*'|\"[^\"]*\"|[^\s&;]*)",
    re.IGNORECASE,
)
# DB_PASSWORD=..., POSTGRES_PASSWORD: ..., "password": ..., SECRET_KEY=...
_NAMED = re.compile(
    r"(?P<head>\b[\w.-]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY)[\w.-]*['\"]?\s*(?:=>|[:=])\s*)"
    r"(?P<secret>'[^']*'|\"[^\"]*\"|[^\s,;}]+)",
    re.IGNORECASE,
)


def redact_dsn(text: str) -> str:
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    text = _PARAMETER.sub(lambda m: _mask(m), text)
    return _NAMED.sub(lambda m: _mask(m), text)


def _mask(match: re.Match[str]) -> str:
    secret = match["secret"]
    if not secret or secret == MASK or secret.strip("'\"") in ("", MASK):
        return match[0]
    # env("DB_PASSWORD") names where the secret is, it is not the secret
    if re.fullmatch(r"env\(.*|\$\{?\w+\}?|os\.environ.*|ENV\[.*", secret):
        return match[0]
    quote = secret[0] if secret[0] in "'\"" and secret[-1] == secret[0] else ""
    return f"{match['head']}{quote}{MASK}{quote}"
