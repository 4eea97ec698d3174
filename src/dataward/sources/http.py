"""Records from a paginated JSON API as Polars batches.

Each page is one JSON document; its records (an array, found by a dotted path) become
rows exactly as NDJSON records do: every value kept as text for the contract's strict
casts, decimals with all their digits, a key named twice in one object refused, NaN and
Infinity refused. The next page's URL comes from a dotted path in the page or, without
one, from a `Link: <...>; rel="next"` header; reading stops when there is none or a page
has no records, and fails (never stops quietly) past `max_pages`.

Each row carries `_dw_source` (the URL that was requested for its page, without user
name or password), `_dw_source_row` (its 1-based number across all pages) and a null
`_dw_source_line`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import polars as pl

from dataward.errors import InfrastructureError, Location, SourceError, UsageError
from dataward.sources.files import (
    LINE_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    DuplicateKeyError,
    load_json,
    records_as_text,
)

# Worth another try: the server was not there yet, or said so itself.
_TRANSIENT_STATUSES = {429, 502, 503, 504}
_MAX_RETRY_AFTER_SECONDS = 60.0


def display_url(url: str | httpx.URL) -> str:
    """The URL without its user name and password: safe to print and to store in rows."""
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return "<invalid URL>"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else str(parsed)


@dataclass(frozen=True)
class _Page:
    number: int
    url: str  # as displayed
    records: list[dict]


class HttpSource:
    """A JSON API's records, page after page, in bounded batches; the input fingerprint
    after the last page."""

    def __init__(
        self,
        url: str,
        records: str | None = None,
        next: str | None = None,  # shadows the builtin: it is the name a pipeline file uses
        headers: dict[str, str] | None = None,
        timeout: float = 30,
        max_pages: int = 10_000,
        *,
        batch_rows: int = 250_000,
        retries: int = 3,
        backoff_seconds: float = 0.5,
    ) -> None:
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL as exc:
            raise UsageError(f"not a valid URL: {exc}") from None
        if scheme not in ("http", "https"):
            raise UsageError(f"an HTTP source URL starts with http:// or https://, not {scheme!r}")
        for label, value in (("max_pages", max_pages), ("batch_rows", batch_rows)):
            if value < 1:
                raise UsageError(f"{label} must be at least 1, got {value}")
        self._url = url
        self._records_path = _path(records)
        self._next_path = _path(next)
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._max_pages = max_pages
        self._batch_rows = batch_rows
        self._retries = max(retries, 0)
        self._backoff_seconds = backoff_seconds
        self._fingerprint: str | None = None
        self.name = display_url(url)

    @property
    def fingerprint(self) -> str:
        """sha256 (hex) of the page bodies received, in order, each preceded by its length
        (8 bytes, big-endian) so that where one page ends is part of what is hashed."""
        if self._fingerprint is None:
            raise UsageError(
                "the input fingerprint is known only after every page has been read",
                Location(file=self.name),
            )
        return self._fingerprint

    def batches(self) -> Iterator[pl.DataFrame]:
        self._fingerprint = None
        digest = hashlib.sha256()
        records: list[dict] = []
        sources: list[str] = []
        rows = 0
        for page in self._pages(digest):
            for record in page.records:
                records.append(record)
                sources.append(page.url)
                if len(records) == self._batch_rows:
                    yield _frame(records, sources, rows)
                    rows += len(records)
                    records, sources = [], []
        if records:
            yield _frame(records, sources, rows)
        self._fingerprint = digest.hexdigest()

    # ------------------------------------------------------------ pages

    def _pages(self, digest: hashlib._Hash) -> Iterator[_Page]:
        url: str = self._url
        requested: set[str] = set()
        rows_before = 0
        with httpx.Client(
            headers=self._headers, timeout=self._timeout, follow_redirects=True
        ) as client:
            for number in range(1, self._max_pages + 1):
                requested.add(url)
                shown = display_url(url)
                response = self._get(client, url, shown, number)
                body = response.content
                digest.update(len(body).to_bytes(8, "big"))
                digest.update(body)
                document = _parse(body, shown, number, self._records_path)
                records = _records(document, self._records_path, shown, number, rows_before)
                yield _Page(number, shown, records)
                rows_before += len(records)
                if not records:
                    return
                following = self._next_url(document, response, shown, number)
                if following is None:
                    return
                if following in requested:
                    raise SourceError(
                        f"page {number} points back to a page already read "
                        f"({display_url(following)}): the pagination loops",
                        Location(file=shown),
                    )
                url = following
            raise SourceError(
                f"there are more than {self._max_pages} pages; raise max_pages to read them all",
                Location(file=self.name),
            )

    def _next_url(
        self, document: object, response: httpx.Response, shown: str, number: int
    ) -> str | None:
        if self._next_path is None:
            link = response.links.get("next", {}).get("url")
        else:
            link = _lookup(document, self._next_path)
            if link is not None and not isinstance(link, str):
                raise SourceError(
                    f"page {number}: {'.'.join(self._next_path)!r} should be the next page's "
                    f"URL, found {_kind(link)}",
                    Location(file=shown),
                )
        if not link:  # absent, null or "": the last page
            return None
        # Relative links resolve against where the page really came from (after redirects).
        return str(response.url.join(link))

    # ------------------------------------------------------------ requests

    def _get(self, client: httpx.Client, url: str, shown: str, number: int) -> httpx.Response:
        where = Location(file=shown)
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = client.get(url)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if last:
                    tries = f"{attempt + 1} times" if attempt else "once"
                    raise InfrastructureError(
                        f"cannot connect (tried {tries}): {_reason(exc)}", where
                    ) from None
                self._wait(attempt, None)
                continue
            except httpx.TimeoutException:
                raise InfrastructureError(
                    f"no answer within {self._timeout} s for page {number}", where
                ) from None
            except httpx.UnsupportedProtocol:
                raise SourceError(f"page {number}: not an http(s) URL", where) from None
            except httpx.TransportError as exc:
                raise InfrastructureError(
                    f"the connection failed on page {number}: {_reason(exc)}", where
                ) from None
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                raise SourceError(f"page {number}: {_reason(exc)}", where) from None
            if response.status_code in _TRANSIENT_STATUSES and not last:
                self._wait(attempt, response)
                continue
            if response.status_code >= 400:
                raise SourceError(
                    f"HTTP {response.status_code} {response.reason_phrase} for page {number}"
                    + (f" (after {attempt + 1} tries)" if attempt else ""),
                    where,
                )
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self._backoff_seconds * 2**attempt
        if response is not None:
            # A server that says when to come back knows better than the backoff.
            retry_after = response.headers.get("retry-after", "")
            if retry_after.isdigit():
                delay = max(delay, min(float(retry_after), _MAX_RETRY_AFTER_SECONDS))
        time.sleep(delay)


# ---------------------------------------------------------------- JSON


def _path(dotted: str | None) -> tuple[str, ...] | None:
    if dotted is None:
        return None
    parts = tuple(dotted.split("."))
    if not all(parts):
        raise UsageError(f"{dotted!r} is not a dotted path such as data.items")
    return parts


def _lookup(document: object, path: tuple[str, ...]) -> object:
    """The value at a dotted path, or None where the path ends early."""
    value = document
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _parse(body: bytes, shown: str, number: int, records_path: tuple[str, ...] | None) -> object:
    try:
        text = body.decode("utf-8-sig")  # JSON over the wire is UTF-8 (RFC 8259)
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"page {number} is not UTF-8 (byte {exc.start + 1}): not a JSON document",
            Location(file=shown),
        ) from None
    try:
        return load_json(text)
    except DuplicateKeyError as exc:
        record = _record_with_duplicate(text, records_path)
        which = f"record {record} of page {number}" if record else f"page {number}"
        raise SourceError(
            f"{which}: key {exc.args[0]!r} appears twice in one object: which value is meant?",
            Location(file=shown),
        ) from None
    except json.JSONDecodeError as exc:
        # NaN and Infinity are refused by a hook that knows no position in the page.
        at_page = exc.doc is text
        raise SourceError(
            f"page {number} is not valid JSON: {exc.msg}",
            Location(
                file=shown,
                line=exc.lineno if at_page else None,
                column=exc.colno if at_page else None,
            ),
        ) from None


def _records(
    document: object,
    path: tuple[str, ...] | None,
    shown: str,
    number: int,
    rows_before: int,
) -> list[dict]:
    found = document if path is None else _lookup(document, path)
    if not isinstance(found, list):
        if path is None:
            what = f"page {number} should be an array of records, found {_kind(found)}"
        elif found is None:
            keys = ", ".join(list(document)[:10]) if isinstance(document, dict) else ""
            what = f"page {number} has no {'.'.join(path)!r}" + (
                f" (it has: {keys})" if keys else ""
            )
        else:
            what = f"page {number}: {'.'.join(path)!r} should be an array, found {_kind(found)}"
        raise SourceError(what, Location(file=shown))
    for index, record in enumerate(found, start=1):
        if not isinstance(record, dict):
            raise SourceError(
                f"record {index} of page {number} should be a JSON object, found {_kind(record)}",
                Location(file=shown, row=rows_before + index),
            )
    return found


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _Duplicated(dict):
    """An object that named a key twice (kept only to say which record holds it)."""


def _record_with_duplicate(text: str, records_path: tuple[str, ...] | None) -> int | None:
    """The 1-based index of the record holding the twice-named key, read again with a
    parser that marks such objects instead of stopping at them (only on this error)."""

    def mark(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        return _Duplicated(pairs) if len(set(keys)) < len(keys) else dict(pairs)

    document = json.loads(text, parse_float=Decimal, object_pairs_hook=mark)
    found = document if records_path is None else _lookup(document, records_path)
    if not isinstance(found, list):
        return None
    for index, record in enumerate(found, start=1):
        if _holds_duplicate(record):
            return index
    return None


def _holds_duplicate(value: object) -> bool:
    if isinstance(value, _Duplicated):
        return True
    if isinstance(value, dict):
        return any(_holds_duplicate(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_duplicate(item) for item in value)
    return False


def _frame(records: list[dict], sources: list[str], rows_before: int) -> pl.DataFrame:
    height = len(records)
    locations = pl.DataFrame(
        {
            SOURCE_COLUMN: pl.Series(sources, dtype=pl.String),
            ROW_COLUMN: pl.int_range(
                rows_before + 1, rows_before + height + 1, dtype=pl.Int64, eager=True
            ),
            LINE_COLUMN: pl.Series([None] * height, dtype=pl.Int64),
        }
    )
    values = records_as_text(records)
    # Records that are all `{}` give a frame with no column, and so no height, to join.
    return pl.concat([values, locations], how="horizontal") if values.width else locations


def _reason(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
