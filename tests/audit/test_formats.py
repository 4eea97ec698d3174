"""Migration folders found in a repository and read, without running them, into the
linter's migrations: every `migrate lint` rule then applies, and each finding names the
file and the line of the operation it is about."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dataward.audit import formats
from dataward.audit.formats import FolderRead, MigrationFolder, find_migration_folders, read_folder
from dataward.audit.formats.layout import Statements, script
from dataward.audit.walk import walk
from dataward.migrate.lint import lint


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` holding `needle`."""
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def folders(root: Path) -> list[MigrationFolder]:
    repo = walk(root)
    return find_migration_folders(repo.root, repo.files)


def only_folder(root: Path) -> MigrationFolder:
    found = folders(root)
    assert len(found) == 1, found
    return found[0]


def findings(root: Path, read: FolderRead | None = None) -> set[tuple[str, str, int]]:
    """(rule, file relative to root, line) of every lint finding."""
    if read is None:
        read = read_folder(only_folder(root))
    return {
        (f.rule, Path(f.file).relative_to(root).as_posix(), f.line) for f in lint(read.migrations)
    }


def rules_at(found: set[tuple[str, str, int]], file: str) -> set[tuple[str, int]]:
    return {(rule, line) for rule, name, line in found if name == file}


# ---- Alembic ------------------------------------------------------------------------------

ALEMBIC_INI = """
[alembic]
script_location = %(here)s/alembic
"""

ALEMBIC_FIRST = '''
"""create orders"""
import sqlalchemy as sa
from alembic import op

revision = "a1"
down_revision = None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade():
    op.drop_table("orders")
'''

ALEMBIC_SECOND = '''
"""index orders by status"""
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"


def upgrade():
    op.add_column("orders", sa.Column("status", sa.String(20), nullable=False))
    op.create_index("ix_orders_status", "orders", ["status"])
    op.bulk_insert(sa.table("orders"), [{"status": "new"}])


def downgrade():
    pass
'''

ALEMBIC_THIRD = '''
"""index orders by placed_at, concurrently"""
from alembic import op

revision = "c3"
down_revision = "b2"


def upgrade():
    op.execute("SET lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_placed_at", "orders", ["placed_at"], postgresql_concurrently=True
        )


def downgrade():
    op.execute("SET lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        op.drop_index("ix_orders_placed_at", postgresql_concurrently=True)
'''


def alembic_project(root: Path) -> Path:
    # File names sort against the revision chain: the order must come from down_revision.
    write(
        root,
        {
            "alembic.ini": ALEMBIC_INI,
            "alembic/env.py": "raise SystemExit('env.py must not run')\n",
            "alembic/versions/zz_create_orders.py": ALEMBIC_FIRST,
            "alembic/versions/mm_index_status.py": ALEMBIC_SECOND,
            "alembic/versions/aa_index_placed_at.py": ALEMBIC_THIRD,
        },
    )
    return root / "alembic" / "versions"


def test_alembic_is_found_from_alembic_ini(tmp_path: Path) -> None:
    alembic_project(tmp_path)
    folder = only_folder(tmp_path)
    assert folder.format == "alembic"
    assert folder.path == tmp_path / "alembic"
    assert folder.config == tmp_path / "alembic.ini"
    assert {p.name for p in folder.files} == {
        "env.py", "zz_create_orders.py", "mm_index_status.py", "aa_index_placed_at.py",
    }  # fmt: skip


def test_alembic_revisions_are_ordered_by_their_chain(tmp_path: Path) -> None:
    alembic_project(tmp_path)
    read = read_folder(only_folder(tmp_path))
    assert [m.version for m in read.migrations] == ["a1", "b2", "c3"]
    assert [m.name for m in read.migrations] == [
        "create_orders", "index_orders_by_status", "index_orders_by_placed_at_concurrently",
    ]  # fmt: skip


def test_alembic_findings_point_at_the_operation(tmp_path: Path) -> None:
    versions = alembic_project(tmp_path)
    found = findings(tmp_path)
    second = versions / "mm_index_status.py"
    first = versions / "zz_create_orders.py"
    assert rules_at(found, "alembic/versions/mm_index_status.py") >= {
        ("create-index-not-concurrently", line_of(second, 'op.create_index("ix_orders_status"')),
        ("add-column-not-null-without-default", line_of(second, "op.add_column")),
        ("missing-down", line_of(second, "def downgrade")),  # `pass`: an empty down
    }
    # In the create_table: each column's finding on the column's own line; the index on
    # the table just created is not a lock on anyone.
    assert rules_at(found, "alembic/versions/zz_create_orders.py") == {
        ("float-for-money", line_of(first, '"total"')),
    }


def test_alembic_autocommit_block_is_outside_the_transaction(tmp_path: Path) -> None:
    alembic_project(tmp_path)
    read = read_folder(only_folder(tmp_path))
    third = read.migrations[2]
    assert not third.transactional
    assert rules_at(findings(tmp_path, read), "alembic/versions/aa_index_placed_at.py") == set()


def test_alembic_operations_not_understood_are_counted(tmp_path: Path) -> None:
    alembic_project(tmp_path)
    read = read_folder(only_folder(tmp_path))
    line = line_of(tmp_path / "alembic/versions/mm_index_status.py", "op.bulk_insert")
    assert read.notes == [
        f"1 operation not understood: op.bulk_insert at versions/mm_index_status.py:{line}"
    ]


def test_alembic_revision_that_does_not_parse_is_a_problem_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    versions = alembic_project(tmp_path)
    (versions / "broken.py").write_text('revision = "x"\ndef upgrade(:\n    pass\n')
    read = read_folder(only_folder(tmp_path))
    assert read.problems == [
        (str(versions / "broken.py"), 2, "Python does not parse: invalid syntax")
    ]
    assert [m.version for m in read.migrations] == ["a1", "b2", "c3"]


def test_alembic_batch_and_alter_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "migrations/versions/a1.py": """
                from alembic import op
                import sqlalchemy as sa

                revision = "a1"
                down_revision = None


                def upgrade():
                    with op.batch_alter_table("payments") as batch_op:
                        batch_op.alter_column("amount", type_=sa.Float())
                    op.alter_column("payments", "note", nullable=False)
                    op.alter_column("payments", "ref", new_column_name="reference")


                def downgrade():
                    op.alter_column("payments", "reference", new_column_name="ref")
                    op.alter_column("payments", "note", nullable=True)
            """,
        },
    )
    # No alembic.ini: found by its versions/ directory.
    folder = only_folder(tmp_path)
    assert (folder.format, folder.path, folder.config) == ("alembic", tmp_path / "migrations", None)
    source = tmp_path / "migrations/versions/a1.py"
    found = rules_at(findings(tmp_path), "migrations/versions/a1.py")
    assert {
        ("float-for-money", line_of(source, "batch_op.alter_column")),
        ("alter-column-type", line_of(source, "batch_op.alter_column")),
        ("set-not-null", line_of(source, '"note", nullable=False')),
        ("rename-column", line_of(source, 'new_column_name="reference"')),
    } <= found


def test_alembic_offline_is_opt_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alembic_project(tmp_path)
    asked: list[Path] = []

    def fake_read_alembic(ini: Path) -> list:
        asked.append(ini)
        return []

    monkeypatch.setattr("dataward.migrate.alembic_project.read_alembic", fake_read_alembic)
    folder = only_folder(tmp_path)
    read_folder(folder)
    assert asked == []
    read_folder(folder, alembic_offline=True)
    assert asked == [tmp_path / "alembic.ini"]


# ---- nothing is executed ------------------------------------------------------------------


def test_no_migration_file_is_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    side_effect = f"open({str(marker)!r}, 'w').write('ran')\n"
    write(
        tmp_path,
        {
            "alembic/versions/a1.py": side_effect + ALEMBIC_FIRST,
            "shop/migrations/__init__.py": side_effect,
            "shop/migrations/0001_initial.py": side_effect
            + textwrap.dedent(
                """
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    operations = [
                        migrations.CreateModel(
                            name="Customer",
                            fields=[("id", models.BigAutoField(primary_key=True))],
                        ),
                    ]
                """
            ),
        },
    )
    read = [read_folder(folder) for folder in folders(tmp_path)]
    assert sorted(len(r.migrations) for r in read) == [1, 1]
    assert not marker.exists()


# ---- Django -------------------------------------------------------------------------------

DJANGO_INITIAL = """
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("email", models.EmailField(max_length=254, unique=True)),
                ("joined_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
                ("total", models.DecimalField(decimal_places=2, max_digits=12)),
                ("shipping_fee", models.FloatField()),
                ("customer", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.customer")),
            ],
        ),
    ]
"""

DJANGO_ADD_FIELDS = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="status",
            field=models.CharField(max_length=20),
        ),
        migrations.AddField(
            model_name="order",
            name="channel",
            field=models.CharField(default="web", max_length=20),
        ),
        migrations.AddField(
            model_name="order",
            name="note",
            field=models.TextField(null=True),
        ),
        migrations.RunPython(code=lambda apps, schema_editor: None),
    ]
"""

DJANGO_CONCURRENT = """
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0002_order_fields")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '5s'", reverse_sql=migrations.RunSQL.noop),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["status"], name="order_status_idx"),
        ),
        # Reversed, operations run last to first: this one sets the timeout for the down.
        migrations.RunSQL(migrations.RunSQL.noop, reverse_sql="SET lock_timeout = '5s'"),
    ]
"""

DJANGO_PLAIN_INDEX = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0003_order_status_index")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["channel"], name="order_channel_idx"),
        ),
        migrations.AlterField(
            model_name="order",
            name="note",
            field=models.TextField(default=""),
        ),
    ]
"""


def django_app(root: Path) -> Path:
    directory = root / "shop" / "migrations"
    write(
        root,
        {
            "shop/__init__.py": "",
            "shop/migrations/__init__.py": "",
            "shop/migrations/0001_initial.py": DJANGO_INITIAL,
            "shop/migrations/0002_order_fields.py": DJANGO_ADD_FIELDS,
            "shop/migrations/0003_order_status_index.py": DJANGO_CONCURRENT,
            "shop/migrations/0004_order_channel_index.py": DJANGO_PLAIN_INDEX,
        },
    )
    return directory


def test_django_is_found_per_app(tmp_path: Path) -> None:
    directory = django_app(tmp_path)
    folder = only_folder(tmp_path)
    assert (folder.format, folder.path) == ("django", directory)
    assert len(folder.files) == 5  # the __init__.py too: none of it is pipeline code


def test_django_findings_point_at_the_operation(tmp_path: Path) -> None:
    directory = django_app(tmp_path)
    found = findings(tmp_path)
    initial, fields, plain = (
        directory / "0001_initial.py",
        directory / "0002_order_fields.py",
        directory / "0004_order_channel_index.py",
    )
    # The FK gets its own index, DateTimeField is timestamptz, DecimalField is numeric:
    # only the float fee is wrong in the first migration.
    assert rules_at(found, "shop/migrations/0001_initial.py") == {
        ("float-for-money", line_of(initial, '"shipping_fee"')),
    }
    second = rules_at(found, "shop/migrations/0002_order_fields.py")
    status = line_of(fields, "migrations.AddField(")  # the status field's
    assert ("add-column-not-null-without-default", status) in second
    # default= is applied in the ADD COLUMN: no finding for channel
    assert not any(
        rule == "add-column-not-null-without-default" and line != status for rule, line in second
    )
    # RunPython without reverse_code: Django cannot reverse the migration
    assert ("missing-down", line_of(fields, "operations = [")) in second
    fourth = rules_at(found, "shop/migrations/0004_order_channel_index.py")
    assert ("create-index-not-concurrently", line_of(plain, "migrations.AddIndex")) in fourth
    assert ("set-not-null", line_of(plain, "migrations.AlterField")) in fourth


def test_django_add_index_concurrently_with_atomic_false_is_clean(tmp_path: Path) -> None:
    django_app(tmp_path)
    read = read_folder(only_folder(tmp_path))
    third = read.migrations[2]
    assert (third.version, third.transactional) == ("0003", False)
    assert rules_at(findings(tmp_path, read), "shop/migrations/0003_order_status_index.py") == set()


def test_django_add_index_concurrently_in_an_atomic_migration_fails(tmp_path: Path) -> None:
    directory = django_app(tmp_path)
    path = directory / "0003_order_status_index.py"
    path.write_text(path.read_text().replace("    atomic = False\n", ""))
    found = rules_at(findings(tmp_path), "shop/migrations/0003_order_status_index.py")
    assert ("concurrently-in-transaction", line_of(path, "AddIndexConcurrently(")) in found


def test_django_down_is_the_reverse_of_the_operations(tmp_path: Path) -> None:
    django_app(tmp_path)
    read = read_folder(only_folder(tmp_path))
    initial, fields, concurrent, plain = read.migrations
    assert initial.down is not None and initial.down.pinned
    assert initial.down.sql.splitlines() == ["DROP TABLE shop_order;", "DROP TABLE shop_customer;"]
    assert fields.down is None  # RunPython without reverse_code
    assert concurrent.down is not None
    assert "DROP INDEX CONCURRENTLY order_status_idx;" in concurrent.down.sql
    assert plain.down is not None
    assert "ALTER TABLE shop_order ALTER COLUMN note DROP NOT NULL;" in plain.down.sql
    line = line_of(tmp_path / "shop/migrations/0002_order_fields.py", "migrations.RunPython")
    assert read.notes == [
        f"1 operation not understood: RunPython (Python code) at 0002_order_fields.py:{line}",
        f"1 operation not reversible: RunPython without reverse_code at 0002_order_fields.py:{line}",
    ]


def test_django_migration_that_does_not_parse_is_a_problem(tmp_path: Path) -> None:
    directory = django_app(tmp_path)
    (directory / "0005_broken.py").write_text(
        "from django.db import migrations\n\nclass Migration(migrations.Migration)\n    pass\n"
    )
    read = read_folder(only_folder(tmp_path))
    assert read.problems == [
        (str(directory / "0005_broken.py"), 3, "Python does not parse: expected ':'")
    ]
    assert len(read.migrations) == 4


# ---- Rails --------------------------------------------------------------------------------

RAILS_CREATE = """
class CreateOrders < ActiveRecord::Migration[7.1]
  def change
    create_table :orders do |t|
      t.references :customer, null: false, foreign_key: true
      t.decimal :total, precision: 12, scale: 2, null: false
      t.float :discount
      t.datetime :shipped_at
      t.timestamps
    end
  end
end
"""

RAILS_INDEX = """
class IndexOrdersOnStatus < ActiveRecord::Migration[7.1]
  def change
    add_column :orders, :status, :string, null: false
    add_column :orders, :channel, :string, null: false, default: "web"
    add_index :orders, :status
  end
end
"""

RAILS_CONCURRENT = """
class IndexOrdersOnChannel < ActiveRecord::Migration[7.1]
  disable_ddl_transaction!

  def up
    execute "SET lock_timeout = '5s'"
    add_index :orders, :channel, algorithm: :concurrently
  end

  def down
    execute "SET lock_timeout = '5s'"
    remove_index :orders, :channel, algorithm: :concurrently
  end
end
"""

RAILS_UP_DOWN = """
class BackfillOrders < ActiveRecord::Migration[7.1]
  def up
    execute <<~SQL
      SET lock_timeout = '5s';
      UPDATE orders SET status = 'new';
    SQL
    change_column :orders, :status, :string, limit: 10
  end

  def down
    raise ActiveRecord::IrreversibleMigration
  end
end
"""


def rails_app(root: Path) -> Path:
    write(
        root,
        {
            "db/migrate/20240101000000_create_orders.rb": RAILS_CREATE,
            "db/migrate/20240201000000_index_orders_on_status.rb": RAILS_INDEX,
            "db/migrate/20240301000000_index_orders_on_channel.rb": RAILS_CONCURRENT,
            "db/migrate/20240401000000_backfill_orders.rb": RAILS_UP_DOWN,
            "app/models/order.rb": "class Order < ApplicationRecord\nend\n",
        },
    )
    return root / "db" / "migrate"


def test_rails_is_found_in_db_migrate(tmp_path: Path) -> None:
    directory = rails_app(tmp_path)
    folder = only_folder(tmp_path)
    assert (folder.format, folder.path, len(folder.files)) == ("rails", directory, 4)


def test_rails_findings_point_at_the_operation(tmp_path: Path) -> None:
    directory = rails_app(tmp_path)
    found = findings(tmp_path)
    create = directory / "20240101000000_create_orders.rb"
    index = directory / "20240201000000_index_orders_on_status.rb"
    backfill = directory / "20240401000000_backfill_orders.rb"
    first = rules_at(found, "db/migrate/20240101000000_create_orders.rb")
    assert {
        ("float-for-money", line_of(create, "t.float :discount")),
        # Rails datetime is timestamp(6) without time zone on PostgreSQL
        ("timestamp-without-time-zone", line_of(create, "t.datetime :shipped_at")),
        ("timestamp-without-time-zone", line_of(create, "t.timestamps")),
    } <= first
    # t.references indexes its column: no missing-foreign-key-index
    assert not any(rule == "missing-foreign-key-index" for rule, _ in first)
    second = rules_at(found, "db/migrate/20240201000000_index_orders_on_status.rb")
    assert {
        ("create-index-not-concurrently", line_of(index, "add_index :orders, :status")),
        ("add-column-not-null-without-default", line_of(index, ":status, :string")),
    } <= second
    assert ("add-column-not-null-without-default", line_of(index, ":channel")) not in second
    fourth = rules_at(found, "db/migrate/20240401000000_backfill_orders.rb")
    assert {
        # the heredoc's statements on their own lines
        ("update-without-where", line_of(backfill, "UPDATE orders")),
        ("alter-column-type", line_of(backfill, "change_column")),
        ("missing-down", line_of(backfill, "def up")),  # down only raises
    } <= fourth


def test_rails_concurrently_with_disable_ddl_transaction_is_clean(tmp_path: Path) -> None:
    rails_app(tmp_path)
    read = read_folder(only_folder(tmp_path))
    third = read.migrations[2]
    assert not third.transactional
    assert (
        rules_at(findings(tmp_path, read), "db/migrate/20240301000000_index_orders_on_channel.rb")
        == set()
    )


def test_rails_change_down_is_derived_and_irreversible_commands_have_none(tmp_path: Path) -> None:
    directory = rails_app(tmp_path)
    read = read_folder(only_folder(tmp_path))
    create, index, concurrent, backfill = read.migrations
    assert create.down is not None and create.down.sql == "DROP TABLE orders;\n"
    assert index.down is not None
    assert index.down.sql.splitlines() == [
        "DROP INDEX index_orders_on_status;",
        "ALTER TABLE orders DROP COLUMN channel;",
        "ALTER TABLE orders DROP COLUMN status;",
    ]
    assert concurrent.down is not None and not concurrent.down.pinned  # def down, as written
    assert backfill.down is None  # it only raises IrreversibleMigration
    assert read.notes == []
    # execute in change cannot be reverted by Rails
    path = directory / "20240201000000_index_orders_on_status.rb"
    path.write_text(
        path.read_text().replace(
            "    add_index", "    execute \"UPDATE orders SET status = 'new'\"\n    add_index"
        )
    )
    read = read_folder(only_folder(tmp_path))
    assert read.migrations[1].down is None
    line = line_of(path, "execute")
    assert read.notes == [
        f"1 operation not reversible: execute in change at 20240201000000_index_orders_on_status.rb:{line}"
    ]


def test_rails_ignore_comments_are_carried_to_the_generated_sql(tmp_path: Path) -> None:
    directory = rails_app(tmp_path)
    path = directory / "20240201000000_index_orders_on_status.rb"
    path.write_text(
        path.read_text().replace(
            "    add_index :orders, :status\n",
            "    # dataward:ignore create-index-not-concurrently orders has 40 rows\n"
            "    add_index :orders, :status\n",
        )
    )
    found = rules_at(findings(tmp_path), "db/migrate/20240201000000_index_orders_on_status.rb")
    assert not any(rule == "create-index-not-concurrently" for rule, _ in found)


def test_rails_unterminated_block_is_a_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    directory = rails_app(tmp_path)
    (directory / "20240501000000_broken.rb").write_text(
        "class Broken < ActiveRecord::Migration[7.1]\n"
        "  def change\n"
        "    create_table :things do |t|\n"
        "      t.string :name\n"
        "  end\n"
        "end\n"
    )
    read = read_folder(only_folder(tmp_path))
    assert read.problems == [
        (
            str(directory / "20240501000000_broken.rb"),
            1,
            "Ruby the audit cannot follow: `class` block opened here is never closed (`end` missing)",
        )
    ]
    assert len(read.migrations) == 4


# ---- Laravel ------------------------------------------------------------------------------

LARAVEL_CREATE = """
<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Database\\Schema\\Blueprint;
use Illuminate\\Support\\Facades\\Schema;

return new class extends Migration
{
    public function up(): void
    {
        Schema::create('orders', function (Blueprint $table) {
            $table->id();
            $table->foreignId('customer_id')->constrained();
            $table->decimal('total', 12, 2);
            $table->float('discount');
            $table->timestampTz('shipped_at')->nullable();
            $table->timestamps();
        });
    }

    public function down(): void
    {
        Schema::dropIfExists('orders');
    }
};
"""

LARAVEL_ALTER = """
<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Database\\Schema\\Blueprint;
use Illuminate\\Support\\Facades\\Schema;

return new class extends Migration
{
    public function up(): void
    {
        Schema::table('orders', function (Blueprint $table) {
            $table->string('status');
            $table->string('channel')->default('web');
            $table->string('note')->nullable();
        });
    }

    public function down(): void
    {
        //
    }
};
"""

LARAVEL_GOOD = """
<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Support\\Facades\\DB;

return new class extends Migration
{
    public $withinTransaction = false;

    public function up(): void
    {
        DB::statement("SET lock_timeout = '5s'");
        DB::statement('CREATE INDEX CONCURRENTLY orders_status_index ON orders (status)');
    }

    public function down(): void
    {
        DB::statement("SET lock_timeout = '5s'");
        DB::statement('DROP INDEX CONCURRENTLY orders_status_index');
    }
};
"""


def laravel_app(root: Path) -> Path:
    write(
        root,
        {
            "database/migrations/2024_01_01_000000_create_orders_table.php": LARAVEL_CREATE,
            "database/migrations/2024_02_01_000000_add_status_to_orders.php": LARAVEL_ALTER,
            "database/migrations/2024_03_01_000000_index_orders_status.php": LARAVEL_GOOD,
        },
    )
    return root / "database" / "migrations"


def test_laravel_findings_point_at_the_operation(tmp_path: Path) -> None:
    directory = laravel_app(tmp_path)
    folder = only_folder(tmp_path)
    assert (folder.format, folder.path) == ("laravel", directory)
    found = findings(tmp_path)
    create = directory / "2024_01_01_000000_create_orders_table.php"
    alter = directory / "2024_02_01_000000_add_status_to_orders.php"
    first = rules_at(found, "database/migrations/2024_01_01_000000_create_orders_table.php")
    assert {
        ("float-for-money", line_of(create, "'discount'")),
        # Laravel does not index foreign keys on PostgreSQL
        ("missing-foreign-key-index", line_of(create, "foreignId('customer_id')")),
        ("timestamp-without-time-zone", line_of(create, "timestamps()")),
    } <= first
    assert ("timestamp-without-time-zone", line_of(create, "timestampTz")) not in first
    second = rules_at(found, "database/migrations/2024_02_01_000000_add_status_to_orders.php")
    # NOT NULL unless ->nullable(): the classic Laravel defect
    assert ("add-column-not-null-without-default", line_of(alter, "'status'")) in second
    assert ("add-column-not-null-without-default", line_of(alter, "'channel'")) not in second
    assert ("missing-down", line_of(alter, "function down")) in second  # only a comment
    assert rules_at(found, "database/migrations/2024_03_01_000000_index_orders_status.php") == set()


def test_laravel_file_that_does_not_parse_is_a_problem(tmp_path: Path) -> None:
    directory = laravel_app(tmp_path)
    (directory / "2024_04_01_000000_broken.php").write_text(
        "<?php\nreturn new class extends Migration\n{\n    public function up(): void\n    {\n"
        "        Schema::table('orders', function ($table) {\n            $table->string('x');\n"
        "    }\n};\n"
    )
    read = read_folder(only_folder(tmp_path))
    assert len(read.problems) == 1
    file, line, message = read.problems[0]
    assert (file, line) == (str(directory / "2024_04_01_000000_broken.php"), 9)
    assert message == (
        "PHP the audit cannot follow: `}` where the `(` opened on line 6 should be closed first"
    )
    assert len(read.migrations) == 3


# ---- Prisma and SQL layouts ---------------------------------------------------------------


def test_prisma_migrations_have_no_down(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n}\n',
            "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
            "prisma/migrations/20240201000000_status/migration.sql": (
                'CREATE INDEX "Order_status_idx" ON "Order"("status");\n'
            ),
            "prisma/migrations/20240101000000_init/migration.sql": (
                '-- CreateTable\nCREATE TABLE "Order" (\n    "id" BIGSERIAL NOT NULL,\n'
                '    "status" TEXT NOT NULL,\n    CONSTRAINT "Order_pkey" PRIMARY KEY ("id")\n);\n'
            ),
        },
    )
    folder = only_folder(tmp_path)
    assert folder.format == "prisma"
    read = read_folder(folder)
    assert [m.name for m in read.migrations] == ["init", "status"]
    found = findings(tmp_path, read)
    assert ("missing-down", "prisma/migrations/20240101000000_init/migration.sql", 1) in found
    assert ("missing-down", "prisma/migrations/20240201000000_status/migration.sql", 1) in found
    assert (
        "create-index-not-concurrently",
        "prisma/migrations/20240201000000_status/migration.sql",
        1,
    ) in found


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"db/migration/V1__orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n"},
            "flyway",
        ),
        (
            {
                "db/migrations/20240101_orders.sql": "-- migrate:up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n-- migrate:down\nDROP TABLE orders;\n"
            },
            "dbmate",
        ),
        (
            {
                "sql/00001_orders.sql": "-- +goose Up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n-- +goose Down\nDROP TABLE orders;\n"
            },
            "goose",
        ),
        (
            {
                "migrations/000001_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
                "migrations/000001_orders.down.sql": "DROP TABLE orders;\n",
            },
            "golang-migrate",
        ),
        (
            {
                "dataward.toml": "[project]\nname = 'x'\n",
                "migrations/0001_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
                "migrations/0001_orders.down.sql": "DROP TABLE orders;\n",
            },
            "dataward",
        ),
        (
            {
                "migrations/1_orders.sql": "-- +migrate Up\nCREATE TABLE orders (id bigint PRIMARY KEY);\n-- +migrate Down\nDROP TABLE orders;\n"
            },
            "sql-migrate",
        ),
        (
            {"db/migrations/001_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n"},
            "sql (up only)",
        ),
    ],
)
def test_sql_layouts_are_named_and_read(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    write(tmp_path, files)
    write(tmp_path, {"schema/schema.sql": "CREATE TABLE t (id bigint PRIMARY KEY);\n"})
    folder = only_folder(tmp_path)  # schema.sql outside a migration folder is not one
    assert folder.format == expected
    read = read_folder(folder)
    assert len(read.migrations) == 1
    up_only = expected in ("flyway", "sql (up only)")
    assert (read.migrations[0].down is None) == up_only


def test_sql_folder_discover_refuses_is_raised_with_the_file(tmp_path: Path) -> None:
    from dataward.migrate.files import MigrationError

    write(
        tmp_path,
        {
            "migrations/0001_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
            "migrations/0002_notes.sql": "ALTER TABLE orders ADD COLUMN note text;\n",
        },
    )
    with pytest.raises(MigrationError) as raised:
        read_folder(only_folder(tmp_path))
    assert raised.value.location.file == str(tmp_path / "migrations/0002_notes.sql")


def test_several_formats_in_one_repository(tmp_path: Path) -> None:
    alembic_project(tmp_path / "api")
    django_app(tmp_path / "web")
    rails_app(tmp_path / "legacy")
    laravel_app(tmp_path / "shop")
    write(tmp_path, {"infra/db/migration/V1__x.sql": "CREATE TABLE x (id bigint PRIMARY KEY);\n"})
    found = {(f.format, f.path.relative_to(tmp_path).as_posix()) for f in folders(tmp_path)}
    assert found == {
        ("alembic", "api/alembic"),
        ("django", "web/shop/migrations"),
        ("rails", "legacy/db/migrate"),
        ("laravel", "shop/database/migrations"),
        ("flyway", "infra/db/migration"),
    }


# ---- the layout ---------------------------------------------------------------------------


def test_layout_puts_each_statement_on_its_line() -> None:
    statements = Statements()
    statements.add(3, "ALTER TABLE a ADD COLUMN b text")
    statements.add(3, "ALTER TABLE a ADD COLUMN c text")  # two operations on one line
    statements.literal(5, "\n  UPDATE a SET b = 'x';\n  UPDATE a SET c = 'y'")
    statements.add_parts([(9, "CREATE TABLE t ("), (10, "id bigint,"), (11, "n text"), (11, ")")])
    made, transactional = script(statements, Path("m.py"), 2, [(8, "-- dataward:ignore x y")])
    assert transactional
    assert [(s.line, s.sql.split()[0]) for s in made.statements()] == [
        (3, "ALTER"), (3, "ALTER"), (6, "UPDATE"), (7, "UPDATE"), (9, "CREATE"),
    ]  # fmt: skip
    assert made.sql.splitlines()[8 - 2] == "-- dataward:ignore x y"
    assert made.location(made.sql.index("n text")).line == 11


def test_the_package_says_what_it_exports() -> None:
    assert set(formats.__all__) == {
        "FolderRead",
        "MigrationFolder",
        "find_migration_folders",
        "read_folder",
    }
