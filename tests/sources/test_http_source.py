"""HttpSource against a real HTTP server on a local port, serving paginated JSON."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest

from dataward.errors import ExitCode, InfrastructureError, SourceError, UsageError
from dataward.sources import expand_paths, read_batches
from dataward.sources.files import LINE_COLUMN, ROW_COLUMN, SOURCE_COLUMN
from dataward.sources.http import HttpSource

# One response: status, headers, body.
Response = tuple[int, dict[str, str], bytes]
Route = Callable[[dict[str, list[str]], str], Response]

DECIMALS = [
    b'{"id": 1, "price": 10.10, "big": 123456789012345678901234567890, "ok": true,'
    b' "nested": {"a": [1, 2.50]}, "none": null}',
    b'{"id": 2, "extra": "x", "when": "2024-03-01T12:00:00Z"}',
]
ITEMS = [{"id": i, "price": f"{i}.50", "tags": ["a", str(i)]} for i in range(1, 8)]


def json_response(document: object, headers: dict[str, str] | None = None) -> Response:
    return (
        200,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(document).encode(),
    )


def by_next_key(query: dict[str, list[str]], base: str) -> Response:
    """Pages of three under data.items; the next page's URL is relative."""
    page = int(query.get("page", ["1"])[0])
    items = ITEMS[(page - 1) * 3 : page * 3]
    following = f"/next?page={page + 1}" if page * 3 < len(ITEMS) else None
    return json_response({"data": {"items": items}, "meta": {"next": following}})


def by_link_header(query: dict[str, list[str]], base: str) -> Response:
    """Pages of four as bare arrays; the next page's URL in a Link header, absolute."""
    page = int(query.get("page", ["1"])[0])
    items = ITEMS[(page - 1) * 4 : page * 4]
    headers = {}
    if page * 4 < len(ITEMS):
        headers["Link"] = f'<{base}/link?page={page + 1}>; rel="next", <{base}/link>; rel="first"'
    return json_response(items, headers)


def until_empty(query: dict[str, list[str]], base: str) -> Response:
    """Always offers a next page; the third one has no records, which ends the reading."""
    page = int(query.get("page", ["1"])[0])
    items = [{"id": page}] if page < 3 else []
    return json_response({"items": items, "next": f"/until-empty?page={page + 1}"})


def looping(query: dict[str, list[str]], base: str) -> Response:
    return json_response({"items": [{"id": 1}], "next": "/looping"})


def endless(query: dict[str, list[str]], base: str) -> Response:
    page = int(query.get("page", ["1"])[0])
    return json_response({"items": [{"id": page}], "next": f"/endless?page={page + 1}"})


def status(code: int) -> Route:
    return lambda query, base: (code, {}, b'{"error": "no"}')


def raw(body: bytes) -> Route:
    return lambda query, base: (200, {"Content-Type": "application/json"}, body)


class Flaky:
    """Answers 503 the first `failures` times, then a page."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, query: dict[str, list[str]], base: str) -> Response:
        self.calls += 1
        if self.calls <= self.failures:
            return 503, {}, b"busy"
        return json_response([{"id": 1}])


def slow(query: dict[str, list[str]], base: str) -> Response:
    time.sleep(1)
    return json_response([])


ROUTES: dict[str, Route] = {
    "/next": by_next_key,
    "/link": by_link_header,
    "/until-empty": until_empty,
    "/looping": looping,
    "/endless": endless,
    "/server-error": status(500),
    "/missing": status(404),
    "/html": raw(b"<html>hello</html>"),
    "/nan": raw(b'[{"id": 1, "score": NaN}]'),
    "/object": raw(b'{"items": {"id": 1}}'),
    "/scalar-record": raw(b'{"items": [{"id": 1}, {"id": 2}, 3]}'),
    "/duplicate": raw(b'{"items": [{"id": 1}, {"id": 2, "note": "a", "note": "b"}]}'),
    "/decimals": raw(b"[" + b",".join(DECIMALS) + b"]"),
    "/slow": slow,
}


class Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route] = ROUTES
    base = ""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        route = self.routes.get(parts.path)
        if route is None:
            code, headers, body = 404, {}, b"not found"
        else:
            code, headers, body = route(parse_qs(parts.query), self.base)
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up waiting (the timeout test).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    Handler.base = base
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def read(source: HttpSource) -> pl.DataFrame:
    return pl.concat(list(source.batches()), how="diagonal")


def source(url: str, **options: object) -> HttpSource:
    return HttpSource(url, backoff_seconds=0, **options)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- pagination


def test_pages_by_next_key(server: str) -> None:
    reader = source(f"{server}/next", records="data.items", next="meta.next")

    frame = read(reader)

    assert frame["id"].to_list() == [str(i) for i in range(1, 8)]
    assert frame[ROW_COLUMN].to_list() == list(range(1, 8))
    assert frame[LINE_COLUMN].null_count() == 7
    assert frame[SOURCE_COLUMN].to_list() == (
        [f"{server}/next"] * 3 + [f"{server}/next?page=2"] * 3 + [f"{server}/next?page=3"]
    )
    assert frame.schema[ROW_COLUMN] == pl.Int64
    assert frame.schema[LINE_COLUMN] == pl.Int64


def test_pages_by_link_header(server: str) -> None:
    frame = read(source(f"{server}/link"))

    assert frame["id"].to_list() == [str(i) for i in range(1, 8)]
    assert frame[SOURCE_COLUMN].to_list() == [f"{server}/link"] * 4 + [f"{server}/link?page=2"] * 3


def test_batches_are_bounded_across_pages(server: str) -> None:
    reader = source(f"{server}/next", records="data.items", next="meta.next", batch_rows=2)

    batches = list(reader.batches())

    assert [b.height for b in batches] == [2, 2, 2, 1]
    assert pl.concat(batches)[ROW_COLUMN].to_list() == list(range(1, 8))


def test_a_page_without_records_ends_the_reading(server: str) -> None:
    frame = read(source(f"{server}/until-empty", records="items", next="next"))
    assert frame["id"].to_list() == ["1", "2"]


def test_values_are_kept_as_text_like_ndjson(server: str, tmp_path: Path) -> None:
    ndjson = tmp_path / "same.ndjson"
    ndjson.write_bytes(b"\n".join(DECIMALS) + b"\n")
    [data] = expand_paths([str(ndjson)])
    from_file = pl.concat(list(read_batches(data)))

    frame = read(source(f"{server}/decimals"))

    data_columns = [c for c in frame.columns if not c.startswith("_dw_")]
    assert frame.select(data_columns).equals(from_file.select(data_columns))
    first, second = frame.rows(named=True)
    assert first["price"] == "10.10"  # every digit written, as a decimal would keep them
    assert first["big"] == "123456789012345678901234567890"
    assert first["ok"] == "true"
    assert first["none"] is None
    assert first["extra"] is None
    assert second["extra"] == "x"
    assert all(dtype == pl.String for dtype in frame.select(data_columns).schema.values())


def test_fingerprint_hashes_the_pages(server: str) -> None:
    by_key = source(f"{server}/next", records="data.items", next="meta.next")
    again = source(f"{server}/next", records="data.items", next="meta.next", batch_rows=2)
    other = source(f"{server}/link")
    with pytest.raises(UsageError, match="only after every page"):
        _ = by_key.fingerprint

    for reader in (by_key, again, other):
        read(reader)

    assert len(by_key.fingerprint) == 64
    assert by_key.fingerprint == again.fingerprint
    assert by_key.fingerprint != other.fingerprint


def test_a_looping_pagination_is_refused(server: str) -> None:
    with pytest.raises(SourceError, match="pagination loops"):
        read(source(f"{server}/looping", records="items", next="next"))


def test_more_pages_than_allowed_is_an_error_not_a_quiet_stop(server: str) -> None:
    with pytest.raises(SourceError, match="more than 5 pages"):
        read(source(f"{server}/endless", records="items", next="next", max_pages=5))


# ---------------------------------------------------------------- failures


def test_server_error_status(server: str) -> None:
    with pytest.raises(SourceError) as err:
        read(source(f"{server}/server-error"))

    assert "HTTP 500" in err.value.message
    assert err.value.location.file == f"{server}/server-error"


def test_transient_status_is_retried(server: str) -> None:
    flaky = Flaky(failures=2)
    Handler.routes = {**ROUTES, "/flaky": flaky}
    try:
        frame = read(source(f"{server}/flaky", retries=3))
        assert frame["id"].to_list() == ["1"]
        assert flaky.calls == 3

        always = Flaky(failures=100)
        Handler.routes = {**ROUTES, "/flaky": always}
        with pytest.raises(SourceError, match=r"HTTP 503 .*after 3 tries"):
            read(source(f"{server}/flaky", retries=2))
        assert always.calls == 3
    finally:
        Handler.routes = ROUTES


def test_non_json_body(server: str) -> None:
    with pytest.raises(SourceError, match="page 1 is not valid JSON") as err:
        read(source(f"{server}/html"))

    assert (err.value.location.file, err.value.location.line) == (f"{server}/html", 1)


def test_nan_is_refused(server: str) -> None:
    with pytest.raises(SourceError, match="NaN is not valid JSON"):
        read(source(f"{server}/nan"))


def test_records_path_missing(server: str) -> None:
    with pytest.raises(SourceError, match=r"page 1 has no 'data.rows' \(it has: data, meta\)"):
        read(source(f"{server}/next", records="data.rows"))


def test_records_path_not_an_array(server: str) -> None:
    with pytest.raises(SourceError, match="'items' should be an array, found an object"):
        read(source(f"{server}/object", records="items"))


def test_page_that_should_be_an_array(server: str) -> None:
    with pytest.raises(SourceError, match="page 1 should be an array of records, found an object"):
        read(source(f"{server}/object"))


def test_record_that_is_not_an_object(server: str) -> None:
    with pytest.raises(SourceError) as err:
        read(source(f"{server}/scalar-record", records="items"))

    assert err.value.message == "record 3 of page 1 should be a JSON object, found a number"
    assert err.value.location.row == 3


def test_duplicate_key_names_the_record(server: str) -> None:
    with pytest.raises(SourceError) as err:
        read(source(f"{server}/duplicate", records="items"))

    assert err.value.message.startswith("record 2 of page 1: key 'note' appears twice")
    assert err.value.location.file == f"{server}/duplicate"


def test_down_server_is_infrastructure(server: str) -> None:
    with pytest.raises(InfrastructureError, match=r"cannot connect \(tried 2 times\)") as err:
        read(source(f"http://127.0.0.1:{closed_port()}/items", retries=1))

    assert err.value.exit_code == ExitCode.INFRASTRUCTURE


def test_timeout_is_infrastructure(server: str) -> None:
    with pytest.raises(InfrastructureError, match=r"no answer within 0\.2 s"):
        read(source(f"{server}/slow", timeout=0.2))


def test_credentials_in_the_url_are_not_shown(server: str) -> None:
    url = server.replace("http://", "http://ann:s3cret@") + "/server-error"
    reader = source(url)

    with pytest.raises(SourceError) as err:
        read(reader)

    assert "s3cret" not in reader.name
    assert "s3cret" not in str(err.value)
    assert err.value.location.file == f"{server}/server-error"


def test_only_http_urls() -> None:
    with pytest.raises(UsageError, match="http:// or https://"):
        HttpSource("ftp://example.com/items.json")
