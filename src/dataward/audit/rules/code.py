"""Pipeline code: Python read as a syntax tree (never run), and the SQL in its strings.

Each rule is one function over a `CodeFile`: the parsed file plus what the rest of the
audit knows about the tables (their natural keys, from schema files, models, migrations
and the live catalog), which `insert-without-upsert` needs to tell a keyed table from a
log that only ever appends.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from pglast import ast as sql_ast
from pglast.enums import OnConflictAction

from dataward.audit.model import AuditHit
from dataward.audit.python_source import PythonSource, SqlIn, sql_table
from dataward.audit.registry import code
from dataward.migrate.lint.model import ERROR, WARNING
from dataward.migrate.lint.rules.column_types import is_money_name


@dataclass
class CodeFile:
    source: PythonSource
    # table (lower case, as SQL names it, schema-qualified unless public) -> its keys
    keys: Mapping[str, list[tuple[str, ...]]] = field(default_factory=dict)

    def keys_of(self, table: str) -> list[tuple[str, ...]]:
        bare = table.removeprefix("public.")
        return list(self.keys.get(bare, [])) or list(self.keys.get(table.split(".")[-1], []))


def _hit(source: PythonSource, node: ast.AST, message: str, **extra: object) -> AuditHit:
    line = getattr(node, "lineno", None)
    return AuditHit(
        message=message,
        line=line,
        column=getattr(node, "col_offset", 0) + 1,
        evidence=source.line(line),
        **extra,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- exceptions

_BROAD = {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
# A call whose name has one of these parts reports the error somewhere people look.
_REPORTING = {
    "log", "logger", "logging", "structlog", "exception", "error", "critical", "warning",
    "warn", "print_exc", "capture_exception", "capture_message", "sentry_sdk", "notify",
}  # fmt: skip


def _broad(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type
    if kinds is None:
        return True
    names = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    return any(isinstance(n, ast.Name | ast.Attribute) and ast.unparse(n) in _BROAD for n in names)


def _reports(source: PythonSource, body: list[ast.stmt]) -> bool:
    for statement in body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Raise):
                return True
            if isinstance(node, ast.Call):
                parts = set(source.dotted(node.func).replace("()", "").split("."))
                if parts & _REPORTING:
                    return True
                # print(..., file=sys.stderr) is how small scripts report
                if (
                    isinstance(node.func, ast.Name)
                    and node.func.id == "print"
                    and any(k.arg == "file" for k in node.keywords)
                ):
                    return True
    return False


@code.audit(
    id="swallowed-exception",
    severity=ERROR,
    title="`except:` or `except Exception` that neither re-raises nor logs",
    what=(
        "An `except` clause that catches everything (bare `except:`, `except Exception`, "
        "`except BaseException`) and whose body has no `raise` and no call that reports "
        "the error (logging, structlog, `warnings.warn`, Sentry, `traceback.print_exc`, "
        "`print(..., file=...)`). A narrow `except KeyError: pass` is a decision and is "
        "not flagged."
    ),
    why=(
        "The load fails half-way and the job still exits 0: rows are missing and nobody "
        "is told. The next run cannot tell a partial load from a complete one."
    ),
    fix=(
        "Catch the exception you expect, or log it with its traceback and re-raise: "
        "`except Exception: log.exception('load failed'); raise`."
    ),
    bad="try:\n    load(rows)\nexcept Exception:\n    pass\n",
    good="try:\n    load(rows)\nexcept Exception:\n    log.exception('load failed')\n    raise\n",
    language="python",
)
def swallowed_exception(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    if "except" not in source.text:
        return
    for node in source.of_type(ast.ExceptHandler):
        if _broad(node) and not _reports(source, node.body):
            caught = "everything" if node.type is None else ast.unparse(node.type)
            yield _hit(source, node, f"`{source.line(node.lineno)}` catches {caught} silently")


# ---------------------------------------------------------------- time zones

_NAIVE_NOW = {"datetime.datetime.now", "datetime.datetime.today", "datetime.datetime.fromtimestamp"}
_ALWAYS_NAIVE = {"datetime.datetime.utcnow", "datetime.datetime.utcfromtimestamp"}
_NAIVE_METHODS = {name.rsplit(".", 1)[1] for name in _NAIVE_NOW | _ALWAYS_NAIVE}


@code.audit(
    id="naive-datetime",
    severity=WARNING,
    title="`datetime.now()` or `utcnow()` without a time zone",
    what=(
        "`datetime.now()`, `datetime.today()` and `datetime.fromtimestamp(t)` without a "
        "`tz`, and `datetime.utcnow()` / `utcfromtimestamp()` (which always return naive "
        "values), however `datetime` was imported."
    ),
    why=(
        "A naive timestamp is the server's local time or UTC depending on who wrote it; "
        "stored in a timestamp column it shifts by hours when a machine's zone or DST "
        "changes, and freshness and incremental cursors silently skip or repeat rows."
    ),
    fix="`datetime.now(timezone.utc)` (or `datetime.now(ZoneInfo(...))`), stored in timestamptz.",
    bad="from datetime import datetime\nloaded_at = datetime.utcnow()\n",
    good="from datetime import datetime, timezone\nloaded_at = datetime.now(timezone.utc)\n",
    language="python",
)
def naive_datetime(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    if "datetime" not in source.text:
        return
    for call in source.calls():
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in _NAIVE_METHODS:
            continue
        name = source.dotted(call.func)
        zoned = any(k.arg in {"tz", "tzinfo"} for k in call.keywords)
        if name in _ALWAYS_NAIVE:
            yield _hit(source, call, f"`{name.split('.')[-1]}()` returns a naive datetime")
        elif name in _NAIVE_NOW and not zoned:
            arguments = len(call.args)
            if name.endswith("fromtimestamp"):
                zoned = arguments >= 2
            elif name.endswith("now"):
                zoned = arguments >= 1
            if not zoned:
                yield _hit(source, call, f"`{name.split('.')[-1]}()` without a time zone")


# ---------------------------------------------------------------- replace loads


def _keyword(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None


@code.audit(
    id="to-sql-replace",
    severity=ERROR,
    title='`to_sql(if_exists="replace")` or `write_database(if_table_exists="replace")`',
    what=(
        'pandas `DataFrame.to_sql(..., if_exists="replace")` and polars '
        '`write_database(..., if_table_exists="replace")`.'
    ),
    why=(
        "Both drop the table and create a new one from the frame's dtypes: keys, "
        "constraints, indexes, grants and column types are lost, readers see no table or "
        "an empty one meanwhile, and a failure half-way leaves nothing to roll back to."
    ),
    fix=(
        "Load into a staging table and swap or merge in one transaction (`dataward run` "
        "with `writeMode: replace` does an atomic, revertible swap), or upsert on the key."
    ),
    bad='frame.to_sql("orders", engine, if_exists="replace")\n',
    good='frame.to_sql("orders_staging", engine, if_exists="append")  # then MERGE\n',
    language="python",
)
def to_sql_replace(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    if "replace" not in source.text:
        return
    for call in source.calls():
        if not isinstance(call.func, ast.Attribute):
            continue
        if call.func.attr == "to_sql" and _keyword(call, "if_exists") == "replace":
            yield _hit(source, call, 'to_sql(if_exists="replace") drops and recreates the table')
        elif call.func.attr == "write_database" and _keyword(call, "if_table_exists") == "replace":
            yield _hit(source, call, 'write_database(if_table_exists="replace") drops the table')


# ---------------------------------------------------------------- SQL in code


def _inserts(statements: list[SqlIn]) -> Iterator[SqlIn]:
    for statement in statements:
        if isinstance(statement.node, sql_ast.InsertStmt):
            yield statement


def _conflict_handled(node: sql_ast.InsertStmt) -> bool:
    clause = node.onConflictClause
    return clause is not None and clause.action != OnConflictAction.ONCONFLICT_NONE


@code.audit(
    id="insert-without-upsert",
    severity=WARNING,
    title="INSERT without ON CONFLICT into a table that has a natural key",
    what=(
        "An `INSERT` in a Python string, into a table whose primary key or unique "
        "constraint the audit knows (from schema files, models, migrations or the live "
        "catalog), with no `ON CONFLICT` clause. Tables with no known key are not judged."
    ),
    why=(
        "Re-running the job after a partial failure either fails on the key (and the run "
        "stops half-done) or, where the key is not enforced, inserts every row twice."
    ),
    fix="`INSERT ... ON CONFLICT (key) DO UPDATE SET ...` (or DO NOTHING), or MERGE.",
    bad='cur.execute("INSERT INTO orders (id, amount) VALUES (%s, %s)", row)\n',
    good=(
        'cur.execute(\n    "INSERT INTO orders (id, amount) VALUES (%s, %s) "\n'
        '    "ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount", row)\n'
    ),
    language="python",
)
def insert_without_upsert(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    for statement in _inserts(source.sql):
        table = sql_table(statement.node)
        if table is None or _conflict_handled(statement.node):  # type: ignore[arg-type]
            continue
        keys = file.keys_of(table)
        if keys:
            key = ", ".join(keys[0])
            yield AuditHit(
                message=f"INSERT INTO {table} has no ON CONFLICT, and {table} is keyed on ({key})",
                line=statement.line,
                column=statement.column,
                evidence=source.line(statement.line),
                fix=f"INSERT INTO {table} ... ON CONFLICT ({key}) DO UPDATE SET ...",
                anchor=f"insert {table}",
            )


def _emptied(node: sql_ast.Node) -> str | None:
    """The table a TRUNCATE or a DELETE without WHERE empties."""
    if isinstance(node, sql_ast.TruncateStmt) or (
        isinstance(node, sql_ast.DeleteStmt) and node.whereClause is None
    ):
        return sql_table(node)
    return None


def _writes(source: PythonSource) -> Iterator[tuple[str, int]]:
    """(table, line) of each write: INSERT/COPY in SQL, and to_sql/write_database calls."""
    for statement in source.sql:
        if isinstance(statement.node, sql_ast.InsertStmt | sql_ast.CopyStmt):
            table = sql_table(statement.node)
            if table:
                yield table, statement.line
    for call in source.calls():
        if isinstance(call.func, ast.Attribute) and call.func.attr in {"to_sql", "write_database"}:
            first = call.args[0] if call.args else None
            name = _keyword(call, "name") or _keyword(call, "table_name")
            if name is None and isinstance(first, ast.Constant) and isinstance(first.value, str):
                name = first.value
            if name:
                yield name.lower(), call.lineno


@code.audit(
    id="truncate-and-reload",
    severity=ERROR,
    title="TRUNCATE or DELETE FROM a table, then inserts into it",
    what=(
        "In one function (or the module's top level): a `TRUNCATE t` or `DELETE FROM t` "
        "without WHERE, and after it an INSERT, COPY or `to_sql` into the same table."
    ),
    why=(
        "Between the delete and the last insert, readers see an empty or partial table; "
        "if the load fails half-way the old rows are gone and there is nothing to roll "
        "back to. TRUNCATE also takes an ACCESS EXCLUSIVE lock that blocks every reader."
    ),
    fix=(
        "Load into a staging table, then swap it in (or MERGE) in one transaction; "
        "`dataward run` with `writeMode: replace` does this and can revert the run."
    ),
    bad='cur.execute("TRUNCATE orders")\ncur.copy("COPY orders FROM STDIN")\n',
    good='cur.copy("COPY orders_staging FROM STDIN")\ncur.execute(SWAP_IN_ONE_TRANSACTION)\n',
    language="python",
)
def truncate_and_reload(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    emptied = [(s, t) for s in source.sql if (t := _emptied(s.node)) is not None]
    writes = list(_writes(source)) if emptied else []
    for statement, table in emptied:
        reloads = [
            line
            for written, line in writes
            if written == table and line >= statement.line and _same_scope(source, statement, line)
        ]
        if reloads:
            verb = "TRUNCATE" if isinstance(statement.node, sql_ast.TruncateStmt) else "DELETE"
            yield AuditHit(
                message=f"{verb} {table}, then reloaded at line {reloads[0]}",
                line=statement.line,
                column=statement.column,
                evidence=source.line(statement.line),
                anchor=f"{verb} {table}",
            )


def _same_scope(source: PythonSource, statement: SqlIn, line: int) -> bool:
    scope = statement.scope
    if isinstance(scope, ast.Module):
        return True
    end = getattr(scope, "end_lineno", None) or 0
    return scope.lineno <= line <= end  # type: ignore[attr-defined]


# ---------------------------------------------------------------- row by row


def _insert_strings(source: PythonSource) -> dict[str, int]:
    """Names bound to an INSERT string (SQL = "INSERT ..."), with the line."""
    inserts = {(s.line, s.column) for s in _inserts(source.sql)}
    names: dict[str, int] = {}
    for node in source.of_type(ast.Assign):
        if len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and (value.lineno, value.col_offset + 1) in inserts:
                names[target.id] = value.lineno
    return names


@code.audit(
    id="row-by-row-insert",
    severity=WARNING,
    title="An INSERT executed once per row, in a loop",
    what=(
        "`.execute(...)` of an INSERT (the string itself or a name bound to it) inside a "
        "`for` or `while` loop or a comprehension. `executemany`, COPY and batch helpers "
        "are not flagged."
    ),
    why=(
        "One round trip and one statement per row: a million rows take hours instead of "
        "seconds, and a failure in the middle leaves the first part committed or, in one "
        "long transaction, holds locks for all of it."
    ),
    fix=(
        "Send the rows at once: `COPY ... FROM STDIN` (psycopg `cursor.copy`), "
        "`executemany`, or `INSERT ... SELECT FROM unnest(...)`."
    ),
    bad='for row in rows:\n    cur.execute("INSERT INTO events VALUES (%s, %s)", row)\n',
    good='cur.executemany("INSERT INTO events VALUES (%s, %s)", rows)\n',
    language="python",
)
def row_by_row_insert(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    bound = _insert_strings(source)
    literal = {(s.line, s.column) for s in _inserts(source.sql)}
    for call in source.calls():
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "execute"):
            continue
        if not call.args or not source.in_loop(call):
            continue
        first = call.args[0]
        is_insert = (isinstance(first, ast.Name) and first.id in bound) or (
            getattr(first, "lineno", 0),
            getattr(first, "col_offset", -2) + 1,
        ) in literal
        if is_insert:
            yield _hit(source, call, "an INSERT executed once per loop iteration")


# ---------------------------------------------------------------- validation

# Reading from outside: files, HTTP, queues.
_EXTRACTS = {
    "read_csv", "read_json", "read_parquet", "read_excel", "read_ndjson", "scan_csv",
    "scan_parquet", "scan_ndjson", "json.load", "json.loads", "csv.reader",
    "csv.DictReader", "requests.get", "requests.post", "httpx.get", "httpx.post",
    "urlopen",
}  # fmt: skip
_DB_WRITES = {"to_sql", "write_database", "copy_from", "copy_expert", "executemany", "copy"}
_MAY_EXTRACT = re.compile(r"read_|scan_|json\.load|csv\.|requests|httpx|urlopen")
# A step that checks what came in.
_VALIDATES = {"validate", "model_validate", "parse_obj", "check", "verify", "schema"}


def _call_names(source: PythonSource, scope: list[ast.AST]) -> list[tuple[str, ast.Call]]:
    found = []
    for node in scope:
        if isinstance(node, ast.Call):
            found.append((source.dotted(node.func).replace("()", ""), node))
    return found


def _validates(source: PythonSource, scope: list[ast.AST]) -> bool:
    for node in scope:
        if isinstance(node, ast.Assert | ast.Raise):
            return True
        if isinstance(node, ast.Call):
            last = source.dotted(node.func).split(".")[-1].lower()
            if any(word in last for word in _VALIDATES):
                return True
    return False


@code.audit(
    id="write-without-validation",
    severity=WARNING,
    title="External data written to the database with no validation step before it",
    what=(
        "A function that reads external data (read_csv/read_json/read_parquet, "
        "requests/httpx, json.load, csv readers) and writes to the database (to_sql, "
        "write_database, COPY, executemany, INSERT) with nothing that checks the data in "
        "between: no call named validate/check/verify/schema (pandera, pydantic, Great "
        "Expectations, dataward), no assert and no raise."
    ),
    why=(
        "A renamed column, a string in a number field or an empty file goes straight "
        "into the table: wrong rows are loaded and found weeks later by a report."
    ),
    fix=(
        "Validate shape, types and ranges before writing: a data contract "
        "(`dataward validate`, or a pipeline with `dataward run`), pandera or pydantic."
    ),
    bad=(
        "def load():\n    frame = pd.read_csv('orders.csv')\n"
        "    frame.to_sql('orders', engine, if_exists='append')\n"
    ),
    good=(
        "def load():\n    frame = schema.validate(pd.read_csv('orders.csv'))\n"
        "    frame.to_sql('orders', engine, if_exists='append')\n"
    ),
    language="python",
)
def write_without_validation(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    if not _MAY_EXTRACT.search(source.text):
        return
    for scope in source.of_type(ast.FunctionDef, ast.AsyncFunctionDef):
        inner = source.inside(scope)
        calls = _call_names(source, inner)
        extracts = [c for name, c in calls if _is_extract(name)]
        writes = [c for name, c in calls if name.split(".")[-1] in _DB_WRITES]
        inside = set(range(scope.lineno, (scope.end_lineno or scope.lineno) + 1))
        writes += [
            _line_node(s.line)
            for s in source.sql
            if isinstance(s.node, sql_ast.InsertStmt) and s.line in inside
        ]
        if extracts and writes and not _validates(source, inner):
            first = min(writes, key=lambda n: n.lineno)
            yield AuditHit(
                message=(
                    f"{scope.name}() reads external data (line {extracts[0].lineno}) and "
                    f"writes it at line {first.lineno} without validating it"
                ),
                line=first.lineno,
                column=1,
                evidence=source.line(first.lineno),
                anchor=f"def {scope.name}",
            )


def _is_extract(name: str) -> bool:
    last = name.split(".")[-1]
    return name in _EXTRACTS or last in _EXTRACTS or ".".join(name.split(".")[-2:]) in _EXTRACTS


def _line_node(line: int) -> ast.AST:
    node = ast.Pass()
    node.lineno = line
    return node


# ---------------------------------------------------------------- money in floats

_FLOAT_ANNOTATIONS = {"float", "builtins.float", "numpy.float64", "numpy.float32"}


@code.audit(
    id="float-money-field",
    severity=WARNING,
    title="`float` for a money field in Python",
    what=(
        "An annotated field or variable with a money-like name (amount, price, total, "
        "fee... as a word of the name) typed `float`, or a money-like name assigned "
        "`float(...)`. Columns are judged by `float-for-money`."
    ),
    why=(
        "Binary floating point cannot hold 0.10 exactly: sums drift by cents, equal "
        "amounts compare unequal and reconciliation against the ledger fails."
    ),
    fix="`decimal.Decimal` (or integer cents), and numeric(p, s) in the database.",
    bad="@dataclass\nclass Order:\n    amount: float\n",
    good="@dataclass\nclass Order:\n    amount: Decimal\n",
    language="python",
)
def float_money_field(file: CodeFile) -> Iterator[AuditHit]:
    source = file.source
    for node in source.of_type(ast.AnnAssign, ast.Assign):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name | ast.Attribute):
            name = node.target.id if isinstance(node.target, ast.Name) else node.target.attr
            annotation = (
                node.annotation.value
                if isinstance(node.annotation, ast.Constant)
                else source.dotted(node.annotation)
            )
            if is_money_name(name) and annotation in _FLOAT_ANNOTATIONS:
                yield _hit(source, node, f"{name} is a float")
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name = target.id if isinstance(target, ast.Name) else ""
            value = node.value
            if (
                name
                and is_money_name(name)
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "float"
            ):
                yield _hit(source, node, f"{name} is converted to float")
