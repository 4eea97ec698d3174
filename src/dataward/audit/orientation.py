"""What a senior engineer looks at first in a new repository: the stack (from its
manifests), where the database is configured, where the migrations, schema files and
pipeline code are. Printed before the findings, so a reader knows what was audited.

Configuration is read for what it says about the database, never to use it: a password
or a DSN's secret is replaced before anything is kept (secrets.redact_dsn), so it can
reach no output, log or file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dataward.audit.secrets import redact_dsn
from dataward.audit.walk import RepoFiles, read_text

# Libraries that say what kind of data stack this is, by manifest ecosystem.
_LIBRARIES = {
    "python": (
        "apache-airflow", "airflow", "dagster", "prefect", "dlt", "pandas", "polars",
        "sqlalchemy", "psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "django",
        "alembic", "dbt-core", "dbt-postgres", "great-expectations", "pandera", "pyspark",
        "duckdb", "dataward",
    ),
    "node": ("prisma", "@prisma/client", "pg", "knex", "sequelize", "typeorm", "drizzle-orm"),
    "php": ("laravel/framework", "doctrine/dbal", "doctrine/orm"),
    "ruby": ("rails", "activerecord", "pg", "sequel"),
    "go": (
        "github.com/jackc/pgx", "github.com/lib/pq", "github.com/golang-migrate/migrate",
        "github.com/pressly/goose", "gorm.io/gorm", "github.com/jmoiron/sqlx",
    ),
}  # fmt: skip
_MANIFESTS = {
    "pyproject.toml": "python",
    "Pipfile": "python",
    "setup.py": "python",
    "package.json": "node",
    "composer.json": "php",
    "Gemfile": "ruby",
    "go.mod": "go",
}
_REQUIREMENTS = re.compile(r"^requirements.*\.(txt|in)$")
# Python pipeline code: an import of one of these makes a file pipeline code.
_PIPELINE_IMPORTS = {
    "airflow", "dagster", "prefect", "dlt", "pandas", "polars", "sqlalchemy", "psycopg",
    "psycopg2", "asyncpg", "duckdb", "pyspark",
}  # fmt: skip
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w]*)", re.MULTILINE)
_WRITE_CALLS = re.compile(r"\.(to_sql|write_database)\(")
_ENV_KEY = re.compile(
    r"^\s*(?:export\s+)?(?P<key>(?:[A-Z][A-Z0-9_]*)?(?:DATABASE|DB|PG|POSTGRES|DSN|"
    r"SQLALCHEMY)[A-Z0-9_]*)\s*=\s*(?P<value>.*?)\s*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Found:
    path: str  # relative
    what: str  # one line, secrets removed


@dataclass
class Orientation:
    root: str
    files: int = 0
    stack: list[Found] = field(default_factory=list)
    databases: list[Found] = field(default_factory=list)
    migrations: list[Found] = field(default_factory=list)
    schemas: list[Found] = field(default_factory=list)
    pipelines: list[Found] = field(default_factory=list)
    dbt: list[Found] = field(default_factory=list)
    live: list[str] = field(default_factory=list)
    skipped: list[Found] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        def rows(found: list[Found]) -> list[dict[str, str]]:
            return [{"path": f.path, "what": f.what} for f in found]

        return {
            "root": self.root,
            "files": self.files,
            "stack": rows(self.stack),
            "databases": rows(self.databases),
            "migrations": rows(self.migrations),
            "schemas": rows(self.schemas),
            "pipelines": rows(self.pipelines),
            "dbt": rows(self.dbt),
            "live": list(self.live),
            "skipped": rows(self.skipped),
        }


def detect_stack(repo: RepoFiles) -> list[Found]:
    found: list[Found] = []
    for path in repo.files:
        ecosystem = _MANIFESTS.get(path.name) or (
            "python" if _REQUIREMENTS.match(path.name) else None
        )
        if ecosystem is None:
            continue
        text = (read_text(path) or "").lower()
        named = [lib for lib in _LIBRARIES[ecosystem] if _mentions(text, lib)]
        libraries = ", ".join(named) if named else "no data libraries"
        found.append(Found(repo.relative(path), f"{ecosystem}: {libraries}"))
    return found


def _mentions(text: str, library: str) -> bool:
    return re.search(rf"(?<![\w/.-]){re.escape(library)}(?![\w-])", text) is not None


def detect_databases(repo: RepoFiles) -> list[Found]:
    found: list[Found] = []
    for path in repo.files:
        name = path.name
        reader = None
        if name == ".env" or name.startswith(".env."):
            reader = _env
        elif name == "database.yml":
            reader = _database_yml
        elif name == "database.php" and path.parent.name == "config":
            reader = _laravel
        elif name == "settings.py" or (path.parent.name == "settings" and path.suffix == ".py"):
            reader = _django
        elif name == "alembic.ini":
            reader = _alembic_ini
        elif name == "schema.prisma":
            reader = _prisma
        elif name == "profiles.yml":
            reader = _dbt_profiles
        if reader is None:
            continue
        text = read_text(path)
        if text is None:
            continue
        what = reader(text)
        if what:
            found.append(Found(repo.relative(path), redact_dsn(what)))
    return found


def _env(text: str) -> str:
    pairs = [f"{m['key']}={_unquote(m['value'])}" for m in _ENV_KEY.finditer(text)]
    return "; ".join(redact_dsn(p) for p in pairs)


def _unquote(value: str) -> str:
    value = value.split(" #")[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _database_yml(text: str) -> str:
    adapters = sorted(set(re.findall(r"adapter:\s*(\w+)", text)))
    hosts = sorted(set(re.findall(r"host:\s*([^\s#]+)", text)))
    urls = re.findall(r"url:\s*([^\s#]+)", text)
    parts = [f"Rails database.yml: adapter {', '.join(adapters) or 'unknown'}"]
    if hosts:
        parts.append(f"host {', '.join(hosts)}")
    parts += [f"url {redact_dsn(u)}" for u in urls]
    return "; ".join(parts)


def _laravel(text: str) -> str:
    default = re.search(r"'default'\s*=>\s*env\(\s*'DB_CONNECTION'\s*,\s*'(\w+)'", text)
    drivers = sorted(set(re.findall(r"'driver'\s*=>\s*'(\w+)'", text)))
    chosen = default[1] if default else "from DB_CONNECTION"
    return f"Laravel config: default connection {chosen}; drivers {', '.join(drivers)}"


def _django(text: str) -> str:
    if "DATABASES" not in text:
        return ""
    engines = sorted(set(re.findall(r"django\.db\.backends\.(\w+)", text)))
    return f"Django DATABASES: {', '.join(engines) or 'engine not literal'}"


def _alembic_ini(text: str) -> str:
    url = re.search(r"^\s*sqlalchemy\.url\s*=\s*(.*)$", text, re.MULTILINE)
    return f"alembic.ini: sqlalchemy.url = {redact_dsn(url[1].strip())}" if url else "alembic.ini"


def _prisma(text: str) -> str:
    provider = re.search(r"datasource\s+\w+\s*\{[^}]*provider\s*=\s*\"(\w+)\"", text, re.S)
    url = re.search(r"datasource\s+\w+\s*\{[^}]*url\s*=\s*([^\n]+)", text, re.S)
    shown = redact_dsn(url[1].strip()) if url else "unset"
    return f"Prisma datasource: {provider[1] if provider else 'unknown'}, url {shown}"


def _dbt_profiles(text: str) -> str:
    kinds = sorted(set(re.findall(r"type:\s*(\w+)", text)))
    hosts = sorted(set(re.findall(r"host:\s*([^\s#]+)", text)))
    shown = f"dbt profiles: {', '.join(kinds) or 'unknown'}"
    return shown + (f" on {', '.join(hosts)}" if hosts else "")


def is_pipeline_code(text: str) -> list[str]:
    """What makes a Python file pipeline code: the data libraries it imports, or a
    DataFrame write to a database."""
    imported = sorted({m for m in _IMPORT.findall(text) if m in _PIPELINE_IMPORTS})
    if _WRITE_CALLS.search(text):
        imported.append("writes a DataFrame to a database")
    return imported
