"""`dataward audit` over a generated repository of 10,000 files; target under 10 s.

The repository mixes what the audit reads (Python pipelines with and without defects,
SQL schema files, migration folders in dataward/golang-migrate, Alembic, Django and
Rails layouts, a dbt project) with what it only walks past (docs, JavaScript, a
node_modules tree), in proportions like a mid-sized monorepo. Each run is a fresh
`dataward audit --format json` process, timed from start to exit; the median of the
runs is the figure, with the findings count checked to be the same every run.

    .venv/bin/python bench/audit_scale.py              # 10,000 files, 3 runs
    .venv/bin/python bench/audit_scale.py --files 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from machine import machine_info

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATAWARD = Path(sys.executable).parent / "dataward"
TARGET_SECONDS = 10.0

PIPELINE_BAD = '''"""Load {n}."""
import datetime
import pandas as pd

INSERT = "INSERT INTO orders_{n} (id, amount) VALUES (%s, %s)"


def load(path, cur, engine):
    frame = pd.read_csv(path)
    for row in frame.itertuples():
        cur.execute(INSERT, row)
    cur.execute("UPDATE runs SET at = %s WHERE id = 1", (datetime.datetime.utcnow(),))
    frame.to_sql("orders_{n}_copy", engine, if_exists="replace")


def main():
    try:
        load("x.csv", None, None)
    except Exception:
        pass
'''
PIPELINE_GOOD = '''"""Load {n}, validated and idempotent."""
import logging
from datetime import datetime, timezone

log = logging.getLogger(__name__)
UPSERT = "INSERT INTO orders_{n} (id, amount) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING"


def load(cur, rows):
    checked = validate(rows)
    cur.executemany(UPSERT, checked)
    log.info("done at %s", datetime.now(timezone.utc))
'''
SCHEMA = """CREATE TABLE orders_{n} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers_{n} (id),
    amount double precision NOT NULL,
    status text,
    created_at timestamp NOT NULL
);
CREATE TABLE customers_{n} (id bigint PRIMARY KEY, email text NOT NULL);
"""
MIGRATION_UP = "SET lock_timeout = '5s';\nCREATE INDEX orders_{n}_status ON orders (status);\n"
MIGRATION_DOWN = "SET lock_timeout = '5s';\nDROP INDEX orders_{n}_status;\n"
ALEMBIC = '''"""add column {n}"""
from alembic import op
import sqlalchemy as sa

revision = "r{n:04d}"
down_revision = {down}


def upgrade():
    op.add_column("orders", sa.Column("c{n}", sa.Integer(), nullable=False))


def downgrade():
    op.drop_column("orders", "c{n}")
'''
DJANGO = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [{dependency}]
    operations = [
        migrations.AddField("order", "f{n}", models.IntegerField(default=0)),
    ]
"""
RAILS = """class AddIndex{n} < ActiveRecord::Migration[7.1]
  def change
    add_index :orders, :c{n}
  end
end
"""
DBT_MODEL = """{{{{ config(materialized='table') }}}}
select id as order_id from {{{{ ref('stg') }}}}
"""
DBT_YML = """version: 2
models:
  - name: m{n}
    columns:
      - name: order_id
        data_tests: [unique, not_null]
"""
README = "# Module {n}\n\nNotes about module {n}.\n"
JS = "export function f{n}(x) {{ return x + {n}; }}\n"

# Shares of the files, by kind (they sum to 1).
MIX = {
    "pipeline_bad": 0.10,
    "pipeline_good": 0.20,
    "schema": 0.08,
    "migration": 0.10,  # an up and a down each
    "alembic": 0.05,
    "django": 0.05,
    "rails": 0.05,
    "dbt": 0.07,  # a model and its yml each
    "readme": 0.10,
    "js": 0.10,
    "node_modules": 0.10,
}


def generate(root: Path, files: int) -> Counter[str]:
    made: Counter[str] = Counter()

    def write(relative: str, text: str, kind: str) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        made[kind] += 1

    counts = {kind: int(files * share) for kind, share in MIX.items()}
    counts["js"] += files - sum(counts.values())
    for n in range(counts["pipeline_bad"]):
        write(f"etl/jobs_{n // 100}/load_{n}.py", PIPELINE_BAD.format(n=n), "python")
    for n in range(counts["pipeline_good"]):
        write(f"etl/good_{n // 100}/load_{n}.py", PIPELINE_GOOD.format(n=n), "python")
    for n in range(counts["schema"]):
        write(f"db/schema/{n // 100}/s_{n}.sql", SCHEMA.format(n=n), "sql")
    for n in range(counts["migration"] // 2):
        write(f"migrations/{n + 1:05d}_index_{n}.up.sql", MIGRATION_UP.format(n=n), "sql")
        write(f"migrations/{n + 1:05d}_index_{n}.down.sql", MIGRATION_DOWN.format(n=n), "sql")
    write("alembic.ini", "[alembic]\nscript_location = alembic\n", "config")
    for n in range(counts["alembic"]):
        down = f'"r{n - 1:04d}"' if n else "None"
        write(f"alembic/versions/r{n:04d}_add.py", ALEMBIC.format(n=n, down=down), "python")
    for n in range(counts["django"]):
        dependency = f'("shop", "{n:04d}_f{n - 1}")' if n else ""
        django = DJANGO.format(n=n, dependency=dependency)
        write(f"shop/migrations/{n + 1:04d}_f{n}.py", django, "python")
    for n in range(counts["rails"]):
        write(f"db/migrate/2024{n:010d}_add_index_{n}.rb", RAILS.format(n=n), "ruby")
    write("analytics/dbt_project.yml", "name: analytics\nmodel-paths: [models]\n", "config")
    for n in range(counts["dbt"] // 2):
        write(f"analytics/models/m{n}.sql", DBT_MODEL.format(n=n), "dbt")
        write(f"analytics/models/m{n}.yml", DBT_YML.format(n=n), "dbt")
    for n in range(counts["readme"]):
        write(f"docs/{n // 100}/module_{n}.md", README.format(n=n), "other")
    for n in range(counts["js"]):
        write(f"web/src/{n // 100}/f{n}.js", JS.format(n=n), "other")
    for n in range(counts["node_modules"]):
        write(f"web/node_modules/pkg{n // 50}/index{n}.js", JS.format(n=n), "skipped")
    write("requirements.txt", "pandas\npsycopg\nalembic\ndjango\n", "config")
    return made


def run_once(root: Path) -> tuple[float, int, dict]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(DATAWARD), "audit", str(root), "--format", "json", "--fail-on", "never"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dataward audit failed ({result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    return elapsed, len(report["findings"]), report["counts"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    info = machine_info(["dataward", "pglast"])
    with tempfile.TemporaryDirectory(prefix="dataward-audit-scale-") as directory:
        root = Path(directory) / "monorepo"
        made = generate(root, args.files)
        total = sum(made.values())
        times, findings, counts = [], set(), {}
        for _ in range(args.repeat):
            elapsed, found, counts = run_once(root)
            times.append(elapsed)
            findings.add(found)
    if len(findings) != 1:
        raise SystemExit(f"the findings changed from run to run: {sorted(findings)}")
    median = statistics.median(times)
    per_second = total / median
    verdict = "PASS" if median < TARGET_SECONDS else "FAIL"
    lines = [
        f"# dataward audit at scale ({total:,} files)",
        "",
        f"Machine: {info.get('cpu', '?')}, {info['nproc']} cores, {info.get('ram_gib', '?')} GiB;"
        f" load average at start {info['loadavg_start'][0]:.2f}; {info['date']}.",
        "",
        "| files | runs | median s | min s | max s | files/s | findings | target |",
        "|---|---|---|---|---|---|---|---|",
        f"| {total:,} | {len(times)} | {median:.2f} | {min(times):.2f} | {max(times):.2f} | "
        f"{per_second:,.0f} | {findings.pop():,} | < {TARGET_SECONDS:.0f} s: {verdict} |",
        "",
        "Files by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(made.items())),
        "",
        "Findings by severity: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        "",
        "Each run is a fresh `dataward audit --format json` process (start-up included). The",
        "machine is shared: read the spread between min and max as its noise.",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "audit_scale.md").write_text(table)
    (RESULTS / "audit_scale.json").write_text(
        json.dumps(
            {"machine": info, "files": total, "times": times, "made": made, "counts": counts},
            indent=2,
        )
        + "\n"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
