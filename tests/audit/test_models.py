"""ORM model files read as the schema they create (SQLAlchemy, Django, Prisma, Rails'
schema.rb), judged by the schema rules, each finding at the line of the field or class
that causes it. Real model files in a temporary repository; nothing in them is run."""

from __future__ import annotations

from pathlib import Path

from dataward.audit.models import ModelsRead, find_models
from dataward.audit.schema_sql import audit_schema_sql
from dataward.audit.walk import walk


def _repo(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def _read(root: Path, files: dict[str, str]) -> ModelsRead:
    repo = walk(_repo(root, files))
    return find_models(repo.root, repo.files, repo.relative)


def _findings(read: ModelsRead) -> set[tuple[str, str]]:
    findings, _ = audit_schema_sql(read.schemas)
    return {(f.rule, f.location) for f in findings}


def _rules(read: ModelsRead) -> set[str]:
    return {rule for rule, _ in _findings(read)}


def _at(text: str, needle: str) -> int:
    """The line of `text` holding `needle` (once)."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


# ---- SQLAlchemy ------------------------------------------------------------------------

SQLALCHEMY = """\
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, Numeric, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[float]
    status: Mapped[Optional[str]]
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    placed_at: Mapped[datetime]
    payload = Column(JSON, nullable=False)


audit_log = Table(
    "audit_log",
    Base.metadata,
    Column("message", Text, nullable=False),
)
"""


def test_sqlalchemy_defects_are_reported_at_their_fields(tmp_path: Path) -> None:
    read = _read(tmp_path, {"app/models.py": SQLALCHEMY})
    assert [s.origin for s in read.schemas] == ["SQLAlchemy models"]
    at = lambda needle: f"app/models.py:{_at(SQLALCHEMY, needle)}"  # noqa: E731
    assert _findings(read) == {
        ("float-for-money", at("amount: Mapped[float]")),
        ("timestamp-without-time-zone", at("placed_at: Mapped[datetime]")),
        ("missing-foreign-key-index", at("customer_id: Mapped[int]")),
        ("json-instead-of-jsonb", at("payload = Column(JSON")),
        ("json-or-array-column", at("class Order(Base)")),
        ("nullable-column", at("class Order(Base)")),
        ("missing-primary-key", at("audit_log = Table(")),
    }
    findings, schema = audit_schema_sql(read.schemas)
    nullable = next(f for f in findings if f.rule == "nullable-column")
    assert "status" in nullable.message and "shipped_at" not in nullable.message
    # Mapped[Optional[str]] is nullable, Mapped[datetime] is not, the FK takes Mapped[int]
    orders = schema.tables["orders"]
    assert not orders.columns["status"].not_null and orders.columns["placed_at"].not_null
    assert str(orders.columns["customer_id"].type) == "integer"


def test_each_column_sits_on_its_field_line(tmp_path: Path) -> None:
    read = _read(tmp_path, {"app/models.py": SQLALCHEMY})
    sql = read.schemas[0].sql.splitlines()
    for field in ("customer_id", "amount", "status", "shipped_at", "placed_at", "payload"):
        line = _at(SQLALCHEMY, f"    {field}")
        assert sql[line - 1].startswith(field), (field, sql[line - 1])
    assert sql[_at(SQLALCHEMY, "class Order(Base)") - 1].startswith("CREATE TABLE orders")


def test_sqlalchemy_good_models_draw_nothing(tmp_path: Path) -> None:
    good = """\
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Numeric
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_customer", "customer_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(19, 4))
    placed_at: Mapped[datetime]
    shipped_at: Mapped[datetime | None]


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id), index=True)
"""
    read = _read(tmp_path, {"shop/models.py": good})
    assert _findings(read) == set()


def test_sqlalchemy_serial_keys_mixins_and_too_many_indexes(tmp_path: Path) -> None:
    source = """\
from sqlalchemy import Column, DateTime, Float, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Stamped:
    created_at = Column(DateTime, nullable=False)


class Event(Stamped, Base):
    __tablename__ = "events"
    id = Column(Integer, primary_key=True)
    a = Column(String, nullable=False, index=True)
    b = Column(String, nullable=False, index=True)
    c = Column(String, nullable=False, index=True)
    d = Column(String, nullable=False, index=True)
    e = Column(String, nullable=False, index=True)


class Refund(Event):
    refund_total = Column(Float)
"""
    read = _read(tmp_path, {"events.py": source})
    at = lambda needle: f"events.py:{_at(source, needle)}"  # noqa: E731
    found = _findings(read)
    # a plain Integer primary key is SERIAL on PostgreSQL
    assert ("int-primary-key", at("id = Column(Integer")) in found
    assert ("serial-column", at("id = Column(Integer")) in found
    # the mixin's column is on the class line (the CREATE TABLE opens there)
    assert ("timestamp-without-time-zone", at("class Event(")) in found
    # single-table inheritance: the subclass's column is added to events
    assert ("float-for-money", at("refund_total")) in found
    assert ("too-many-indexes", at("e = Column")) in found


def test_sqlalchemy_foreign_key_type_comes_from_the_referenced_column(tmp_path: Path) -> None:
    read = _read(
        tmp_path,
        {
            "a.py": "from sqlalchemy import BigInteger, Column\n"
            "from base import Base\n"
            "class Customer(Base):\n"
            "    __tablename__ = 'customers'\n"
            "    id = Column(BigInteger, primary_key=True)\n",
            "b.py": "from sqlalchemy import Column, ForeignKey\n"
            "from base import Base\n"
            "class Order(Base):\n"
            "    __tablename__ = 'orders'\n"
            "    id = Column(ForeignKey('customers.id'), primary_key=True)\n",
        },
    )
    _, schema = audit_schema_sql(read.schemas)
    assert str(schema.tables["orders"].columns["id"].type) == "bigint"


def test_an_unknown_column_type_is_counted_and_judged_by_no_type_rule(tmp_path: Path) -> None:
    source = (
        "from sqlalchemy import Column, BigInteger\nfrom app.types import Cents\n"
        "from app.base import Base\n"
        "class Invoice(Base):\n"
        "    __tablename__ = 'invoices'\n"
        "    id = Column(BigInteger, primary_key=True, autoincrement=False)\n"
        "    total_amount = Column(Cents(), nullable=False)\n"
    )
    read = _read(tmp_path, {"invoices.py": source})
    assert _findings(read) == set()
    assert any("1 column of a type not understood" in n and "Cents()" in n for n in read.notes)


def test_an_ignore_comment_on_a_field_is_carried_into_the_create_table(tmp_path: Path) -> None:
    source = (
        "from sqlalchemy import BigInteger, Column, Float\nfrom base import Base\n"
        "class Price(Base):\n"
        "    __tablename__ = 'prices'\n"
        "    id = Column(BigInteger, primary_key=True, autoincrement=False)\n"
        "    # dataward:ignore float-for-money an index of prices, never summed\n"
        "    price = Column(Float, nullable=False)\n"
    )
    assert _findings(_read(tmp_path, {"prices.py": source})) == set()


# ---- Django ------------------------------------------------------------------------------

DJANGO_SETTINGS = (
    'INSTALLED_APPS = ["shop"]\nDEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"\n'
)
DJANGO = """\
from django.db import models


class Stamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Customer(Stamped):
    email = models.EmailField(unique=True)


class Order(Stamped):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
    total = models.FloatField()
    status = models.CharField(max_length=20, null=True)
    note = models.TextField(null=True)
    placed_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    reviewer = models.ForeignKey("Customer", null=True, db_index=False, on_delete=models.SET_NULL)
"""


def test_django_defects_and_what_django_gets_right(tmp_path: Path) -> None:
    read = _read(tmp_path, {"site/settings.py": DJANGO_SETTINGS, "shop/models.py": DJANGO})
    at = lambda needle: f"shop/models.py:{_at(DJANGO, needle)}"  # noqa: E731
    assert _findings(read) == {
        ("float-for-money", at("total = ")),
        ("nullable-column", at("class Order(")),
        ("json-or-array-column", at("class Order(")),
        # db_index=False turns Django's own index off
        ("missing-foreign-key-index", at("reviewer = ")),
    }
    findings, schema = audit_schema_sql(read.schemas)
    nullable = next(f for f in findings if f.rule == "nullable-column")
    assert "status" in nullable.message and "note" not in nullable.message
    assert set(schema.tables) == {"shop_customer", "shop_order"}  # the abstract base is none
    order = schema.tables["shop_order"]
    assert str(order.columns["placed_at"].type) == "timestamptz"
    assert str(order.columns["id"].type) == "bigint"
    assert str(order.columns["customer_id"].type) == "bigint"
    assert "created_at" in order.columns  # inherited from the abstract base
    assert any("BigAutoField (DEFAULT_AUTO_FIELD in site/settings.py)" in n for n in read.notes)


def test_django_auto_field_assumptions(tmp_path: Path) -> None:
    model = "from django.db import models\n\nclass Order(models.Model):\n    n = models.IntegerField()\n"
    # no settings at all: BigAutoField, and the notes say it is assumed
    read = _read(tmp_path / "a", {"shop/models.py": model})
    assert _findings(read) == set()
    assert any("BigAutoField" in n and "assumed" in n for n in read.notes)
    # a settings module without DEFAULT_AUTO_FIELD: Django's AutoField, an integer key
    read = _read(
        tmp_path / "b", {"shop/models.py": model, "proj/settings.py": "INSTALLED_APPS = []\n"}
    )
    assert _findings(read) == {("int-primary-key", "shop/models.py:3")}
    # the app's AppConfig.default_auto_field wins
    apps = (
        "from django.apps import AppConfig\n\nclass ShopConfig(AppConfig):\n"
        '    name = "shop"\n    default_auto_field = "django.db.models.BigAutoField"\n'
    )
    read = _read(
        tmp_path / "c",
        {
            "shop/models.py": model,
            "shop/apps.py": apps,
            "proj/settings.py": "INSTALLED_APPS = []\n",
        },
    )
    assert _findings(read) == set()


def test_django_meta_tables_indexes_and_models_package(tmp_path: Path) -> None:
    source = """\
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=50, db_index=True)
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)
    label = models.CharField(max_length=50)
    rank = models.IntegerField()

    class Meta:
        db_table = "tags"
        unique_together = [("name", "parent")]
        indexes = [
            models.Index(fields=["-rank"], name="tags_rank"),
            models.Index(fields=["label"], name="tags_label"),
        ]


class TagProxy(Tag):
    class Meta:
        proxy = True
"""
    read = _read(tmp_path, {"catalog/models/tags.py": source})
    _, schema = audit_schema_sql(read.schemas)
    assert set(schema.tables) == {"tags"}
    # pk, unique_together, name + its _like index, parent_id, two Meta indexes: 7
    assert len(schema.indexes_on("tags")) == 7
    assert _findings(read) == {
        ("too-many-indexes", f"catalog/models/tags.py:{_at(source, 'tags_label')}")
    }


# ---- Prisma ------------------------------------------------------------------------------

PRISMA = """\
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Customer {
  id     BigInt  @id @default(autoincrement())
  email  String  @unique
  orders Order[]
}

model Order {
  id         BigInt   @id @default(autoincrement())
  customerId BigInt   @map("customer_id")
  customer   Customer @relation(fields: [customerId], references: [id])
  amount     Float
  status     String?
  createdAt  DateTime @default(now())

  @@map("orders")
}
"""


def test_prisma_defects_at_their_fields(tmp_path: Path) -> None:
    read = _read(tmp_path, {"prisma/schema.prisma": PRISMA})
    at = lambda needle: f"prisma/schema.prisma:{_at(PRISMA, needle)}"  # noqa: E731
    found = _findings(read)
    assert found - {
        ("serial-column", at("id     BigInt")),
        ("serial-column", at("id         BigInt")),
    } == {
        ("float-for-money", at("amount     Float")),
        # Prisma's DateTime is timestamp(3) without time zone
        ("timestamp-without-time-zone", at("createdAt  DateTime")),
        # Prisma makes no index for a foreign key on PostgreSQL
        ("missing-foreign-key-index", at("customer   Customer @relation")),
        ("nullable-column", at("model Order {")),
    }
    _, schema = audit_schema_sql(read.schemas)
    assert set(schema.tables) == {"Customer", "orders"}  # @@map
    assert "customer_id" in schema.tables["orders"].columns  # @map


def test_prisma_good_schema_draws_nothing(tmp_path: Path) -> None:
    good = PRISMA.replace("BigInt  @id @default(autoincrement())", "String  @id @db.Uuid")
    good = good.replace("BigInt   @id @default(autoincrement())", "String   @id @db.Uuid")
    good = good.replace("customerId BigInt ", "customerId String @db.Uuid")
    good = good.replace("amount     Float", "amount     Decimal @db.Decimal(19, 4)")
    good = good.replace("String?", "String")
    good = good.replace("@default(now())", "@default(now()) @db.Timestamptz(6)")
    good = good.replace('@@map("orders")', '@@index([customerId])\n  @@map("orders")')
    read = _read(tmp_path, {"prisma/schema.prisma": good})
    assert _findings(read) == set()


def test_prisma_unterminated_block_is_a_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    broken = PRISMA + "\nmodel Refund {\n  id Int @id\n  amount Float\n"
    read = _read(tmp_path, {"prisma/schema.prisma": broken})
    line = _at(broken, "model Refund {")
    assert read.problems == [
        ("prisma/schema.prisma", line, "Prisma schema: model Refund is not closed")
    ]
    _, schema = audit_schema_sql(read.schemas)
    assert set(schema.tables) == {"Customer", "orders"}


def test_prisma_for_another_database_is_not_read(tmp_path: Path) -> None:
    read = _read(tmp_path, {"prisma/schema.prisma": PRISMA.replace("postgresql", "mysql")})
    assert read.schemas == []
    assert any("mysql, not PostgreSQL" in n for n in read.notes)


# ---- Rails -------------------------------------------------------------------------------

SCHEMA_RB = """\
ActiveRecord::Schema[7.1].define(version: 2024_01_04_000000) do
  enable_extension "plpgsql"

  create_table "customers", force: :cascade do |t|
    t.string "email", null: false
    t.timestamptz "created_at", null: false
  end

  create_table "orders", force: :cascade do |t|
    t.bigint "customer_id", null: false
    t.bigint "coupon_id"
    t.float "amount", null: false
    t.string "status"
    t.datetime "created_at", null: false
    t.index ["customer_id"], name: "index_orders_on_customer_id"
  end

  create_table "order_events", id: false, force: :cascade do |t|
    t.text "message", null: false
  end

  add_foreign_key "orders", "customers"
  add_foreign_key "orders", "coupons"
end
"""


def test_rails_schema_defects_at_their_lines(tmp_path: Path) -> None:
    read = _read(tmp_path, {"db/schema.rb": SCHEMA_RB})
    at = lambda needle: f"db/schema.rb:{_at(SCHEMA_RB, needle)}"  # noqa: E731
    found = _findings(read)
    serial = {("serial-column", at('"customers", force')), ("serial-column", at('"orders", force'))}
    assert serial <= found  # Rails' default key is bigserial
    assert found - serial == {
        ("float-for-money", at('t.float "amount"')),
        ("timestamp-without-time-zone", at('t.datetime "created_at"')),
        ("nullable-column", at('"orders", force')),
        ("missing-primary-key", at('"order_events"')),
        # customer_id has its index; coupon_id has none
        ("missing-foreign-key-index", at('add_foreign_key "orders", "coupons"')),
    }


def test_rails_create_table_without_end_is_a_problem(tmp_path: Path) -> None:
    broken = 'ActiveRecord::Schema[7.1].define(version: 1) do\n  create_table "dogs" do |t|\n    t.string "name"\n'
    read = _read(tmp_path, {"db/schema.rb": broken, "db/animals_schema.rb": SCHEMA_RB})
    assert read.problems == [("db/schema.rb", 2, "schema.rb: create_table 'dogs' has no end")]
    assert [s.relative for s in read.schemas] == ["db/animals_schema.rb"]


# ---- bad input, and nothing is run -------------------------------------------------------


def test_a_models_file_that_does_not_parse_is_a_problem_and_others_are_read(
    tmp_path: Path,
) -> None:
    read = _read(
        tmp_path,
        {
            "broken/models.py": "from django.db import models\n\nclass Order(models.Model:\n    pass\n",
            "shop/models.py": DJANGO,
        },
    )
    [(file, line, message)] = read.problems
    assert (file, line) == ("broken/models.py", 3)
    assert message.startswith("Python does not parse: ")
    assert [s.relative for s in read.schemas] == ["shop/models.py"]


def test_model_files_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    effect = f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
    read = _read(
        tmp_path / "repo",
        {
            "shop/models.py": effect + DJANGO,
            "app/db.py": effect + SQLALCHEMY,
        },
    )
    assert not marker.exists()
    assert {s.origin for s in read.schemas} == {"Django models", "SQLAlchemy models"}


def test_files_that_are_no_models_give_nothing(tmp_path: Path) -> None:
    read = _read(
        tmp_path,
        {
            # an Alembic revision uses sqlalchemy but declares no model
            "migrations/versions/0001_init.py": "import sqlalchemy as sa\nrevision = '1'\n"
            "down_revision = None\nt = sa.Table('x', sa.MetaData(), sa.Column('a', sa.Integer))\n",
            "lib/tables.py": "from rich.table import Table\nt = Table('x')\n",
            "app/models.py": "class Thing:\n    pass\n",
        },
    )
    assert read == ModelsRead()


def test_rails_expression_indexes_and_keys_with_a_default(tmp_path: Path) -> None:
    """From Mastodon's schema.rb: an expression index whose key string holds several
    expressions (and escaped quotes), and an `id: :bigint` key with its own default."""
    schema_rb = (
        "ActiveRecord::Schema[8.0].define(version: 1) do\n"
        '  create_table "accounts", id: :bigint, default: -> { "timestamp_id(\'accounts\'::text)" }, '
        "force: :cascade do |t|\n"
        '    t.string "username", default: "", null: false\n'
        '    t.string "domain", null: false\n'
        "    t.index \"lower((username)::text), COALESCE(lower((domain)::text), ''::text)\", "
        'name: "index_accounts_on_username_and_domain_lower", unique: true\n'
        "    t.index \"(setweight(to_tsvector('simple'::regconfig, (username)::text), "
        '\'A\'::\\"char\\"))", name: "search_index", using: :gin\n'
        "  end\n"
        "end\n"
    )
    read = _read(tmp_path, {"db/schema.rb": schema_rb})
    findings, schema = audit_schema_sql(read.schemas)
    assert findings == []  # no syntax error, and no serial: the key has a default
    assert str(schema.tables["accounts"].columns["id"].type) == "bigint"
    assert len(schema.indexes_on("accounts")) == 3


def test_django_relations_to_models_outside_the_files_read(tmp_path: Path) -> None:
    source = (
        "from django.db import models\nfrom accounts.models import UserProfile\n\n"
        "class Message(models.Model):\n"
        "    sender = models.ForeignKey(UserProfile, on_delete=models.CASCADE)\n"
    )
    read = _read(tmp_path, {"chat/models.py": source})
    _, schema = audit_schema_sql(read.schemas)
    assert str(schema.tables["chat_message"].columns["sender_id"].type) == "bigint"
    assert _findings(read) == set()  # Django's own index on sender_id is there
    assert any("UserProfile" in n for n in read.notes)
