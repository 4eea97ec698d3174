"""The ten checks of the `orders` benchmark contract, as plain constants.

bench/orders.odcs.yaml states them for dataward; the hand-written peers in
bench/validate_tools.py read them from here. Kept free of heavy imports so that each
benchmarked tool's process loads only that tool's libraries.
"""

from __future__ import annotations

from datetime import UTC, datetime

COLUMNS = (
    "order_id",
    "customer_id",
    "amount",
    "email",
    "created_at",
    "status",
    "country",
    "quantity",
)
NOT_NULL = ("order_id", "customer_id", "amount", "created_at")
UNIQUE = "order_id"
# amount > 0 (exclusive)
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
QUANTITY_MIN, QUANTITY_MAX = 1, 100  # inclusive
CREATED_MIN = datetime(2020, 1, 1, tzinfo=UTC)  # inclusive
CREATED_MAX = datetime(2026, 1, 1, tzinfo=UTC)  # inclusive
CREATED_MIN_SQL = "2020-01-01 00:00:00+00"
CREATED_MAX_SQL = "2026-01-01 00:00:00+00"

# Column types as each engine spells DECIMAL(19,4) / TIMESTAMPTZ and friends.
SQL_TYPES = {
    "order_id": "BIGINT",
    "customer_id": "BIGINT",
    "amount": "DECIMAL(19,4)",
    "email": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "status": "VARCHAR",
    "country": "VARCHAR",
    "quantity": "INTEGER",
}

# The 1-based record number each tool writes next to its rejected rows.
ROW_COLUMN = "_row"
DATAWARD_ROW_COLUMN = "_dw_source_row"
