"""Where the test PostgreSQL server is, and URLs to databases on it."""

from __future__ import annotations

import os
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict

PG_URL_ENV = "DATAWARD_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

SERVER_URL = os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL
server = conninfo_to_dict(SERVER_URL)


def libpq_url(dbname: str, *, redact: bool = False) -> str:
    """A libpq URL to `dbname` on the test server, with the server's credentials."""
    user = quote(str(server.get("user", "postgres")), safe="")
    password = "***" if redact else quote(str(server.get("password", "")), safe="")
    auth = f"{user}:{password}" if server.get("password") else user
    host = str(server.get("host", "127.0.0.1"))
    port = server.get("port", 5432)
    if host.startswith("/"):  # a Unix socket directory goes in the query string
        return f"postgresql://{auth}@:{port}/{quote(dbname)}?host={quote(host, safe='')}"
    return f"postgresql://{auth}@{host}:{port}/{quote(dbname)}"
