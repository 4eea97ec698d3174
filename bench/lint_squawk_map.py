"""Which dataward lint rules and which squawk rules watch for the same thing, and why each
case where the two tools disagree on the corpus (tests/migrations/corpus/) comes out the
way it does.

A mapping pairs one or more dataward rules with one or more squawk rules. A case is one
migration file and one mapping: both tools flag the file under that mapping, or neither
does, or one of them alone. Every disagreement is explained in EXPLANATIONS, keyed by
(mapping name, file relative to the corpus); bench/lint_compare.py computes the cases and
tests/migrate/test_lint_vs_squawk.py checks that every disagreement is explained and that no
explanation is left over from one that went away.

Every explanation starts with a verdict (VERDICTS): a squawk false positive (it flags a
safe file) or false negative (it misses what the mapping is about); squawk wider or
narrower (its rule has another scope: a policy, not a mistake); ignored in dataward
(dataward finds it, and the file ignores it with a reason); policy (both choices
defensible); or a dataward false positive / negative. None is dataward's at the time of
writing: the one the comparison found is fixed (FOUND_IN_DATAWARD).
"""

from __future__ import annotations

from dataclasses import dataclass

# The PostgreSQL the rules are judged for (the server here is 15; squawk's version-dependent
# rules, such as adding-field-with-default before 11, follow it).
PG_VERSION = "15"


# What each explanation starts with: whose mistake the disagreement is, if anyone's.
VERDICTS = (
    "squawk false positive",
    "squawk false negative",
    "squawk wider",  # squawk's rule is broader than the concern both tools share
    "squawk narrower",  # ... or narrower: a different scope, not a mistake
    "ignored in dataward",  # dataward finds it; the file ignores it with a reason
    "policy",  # both choices defensible
    "dataward false positive",
    "dataward false negative",
)


@dataclass(frozen=True)
class Mapping:
    name: str
    dataward: tuple[str, ...]
    squawk: tuple[str, ...]
    note: str = ""


MAPPINGS: tuple[Mapping, ...] = (
    Mapping(
        "create-index-not-concurrently",
        ("create-index-not-concurrently",),
        ("require-concurrent-index-creation",),
    ),
    Mapping(
        "drop-index-not-concurrently",
        ("drop-index-not-concurrently",),
        ("require-concurrent-index-deletion",),
    ),
    Mapping(
        "reindex-not-concurrently",
        ("reindex-not-concurrently",),
        ("require-concurrent-reindex",),
    ),
    Mapping(
        "concurrently-in-transaction",
        ("concurrently-in-transaction",),
        ("ban-concurrent-index-creation-in-transaction",),
    ),
    Mapping(
        "add-unique-constraint",
        ("add-unique-constraint",),
        ("disallowed-unique-constraint", "adding-serial-primary-key-field"),
        "squawk splits UNIQUE and PRIMARY KEY without USING INDEX into two rules",
    ),
    Mapping(
        "constraint-not-valid",
        ("constraint-without-not-valid", "constraint-validated-in-same-migration"),
        ("constraint-missing-not-valid", "adding-foreign-key-constraint"),
        "squawk's constraint-missing-not-valid covers both a CHECK without NOT VALID and "
        "NOT VALID validated in the same transaction; a FOREIGN KEY without NOT VALID is "
        "its adding-foreign-key-constraint",
    ),
    Mapping(
        "set-not-null",
        ("set-not-null", "add-column-and-set-not-null"),
        ("adding-not-nullable-field",),
        "dataward splits SET NOT NULL on an old column and on one the same migration added",
    ),
    Mapping(
        "add-column-not-null-without-default",
        ("add-column-not-null-without-default",),
        ("adding-required-field",),
    ),
    Mapping(
        "add-column-volatile-default",
        ("add-column-volatile-default",),
        ("adding-field-with-default",),
    ),
    Mapping("alter-column-type", ("alter-column-type",), ("changing-column-type",)),
    Mapping("rename-column", ("rename-column",), ("renaming-column",)),
    Mapping("rename-table", ("rename-table",), ("renaming-table",)),
    Mapping("drop-column", ("drop-column",), ("ban-drop-column",)),
    Mapping("drop-table", ("drop-table",), ("ban-drop-table",)),
    Mapping("drop-not-null", ("drop-not-null",), ("ban-drop-not-null",)),
    Mapping(
        "timestamp-without-time-zone", ("timestamp-without-time-zone",), ("prefer-timestamp-tz",)
    ),
    Mapping("char-type", ("char-type",), ("ban-char-field",)),
    Mapping(
        "int-primary-key",
        ("int-primary-key",),
        ("prefer-bigint-over-int", "prefer-bigint-over-smallint"),
        "squawk flags every 32- and 16-bit integer column, dataward only a primary key",
    ),
    Mapping("serial-column", ("serial-column",), ("prefer-identity",)),
    Mapping(
        "truncate-table",
        ("truncate-table",),
        ("ban-truncate-cascade",),
        "partial: squawk flags TRUNCATE ... CASCADE only",
    ),
    Mapping("missing-lock-timeout", ("missing-lock-timeout",), ("require-lock-timeout",)),
    Mapping("syntax-error", ("syntax-error",), ("syntax-error",)),
)

# What comparing with squawk found wrong on dataward's side (shown in the results).
FOUND_IN_DATAWARD: tuple[str, ...] = (
    "missing-lock-timeout missed the lock a foreign key takes on the table it references: "
    "CREATE TABLE ... REFERENCES takes SHARE ROW EXCLUSIVE on it, and DROP TABLE of the "
    "referencing table ACCESS EXCLUSIVE (both checked in pg_locks on PostgreSQL 15 here), "
    "even when the referencing table is new or the down's own. squawk flagged these. Fixed "
    "(rules/safety.py), with corpus cases missing-lock-timeout/bad/0005 and good/0004, and "
    "SET lock_timeout added to the missing-foreign-key-index cases that lacked it",
    "alter-column-type calls timestamptz -> timestamp a rewrite (an error), but PostgreSQL "
    "12+ skips the rewrite under TimeZone UTC in both directions (relfilenode unchanged, "
    "checked here), as it says for timestamp -> timestamptz. Not fixed (sqltypes.py); no "
    "case here depends on it",
    "corpus: alter-column-type/bad/0005's down changed the column to timestamptz again "
    "instead of back to timestamp. Fixed",
)

# dataward rules with no squawk counterpart (squawk 2.70, default rules), and why.
DATAWARD_ONLY: dict[str, str] = {
    "constraint-validated-in-same-migration": "mapped with constraint-without-not-valid: "
    "squawk's constraint-missing-not-valid covers both",
    "add-column-and-set-not-null": "mapped with set-not-null: squawk's "
    "adding-not-nullable-field does not tell the two apart",
    "float-for-money": "squawk has no rule about money in floating-point columns",
    "json-instead-of-jsonb": "squawk has no json rule",
    "delete-without-where": "squawk has no rule for a DELETE without WHERE",
    "update-without-where": "squawk has no rule for an UPDATE without WHERE",
    "backfill-with-ddl": "squawk has no rule for a backfill in the same transaction as DDL",
    "missing-down": "squawk lints files, not migrations: it has no notion of an up and its down",
    "missing-foreign-key-index": "squawk has no foreign-key index rule",
    "too-many-indexes": "squawk does not count indexes",
    "missing-primary-key": "squawk has no rule for a table without a primary key",
    "unreadable-migration": "input handling: squawk stops the whole run at a file that is "
    "not UTF-8 (so it is not given that file here)",
    "ignore-without-reason": "dataward's own ignore comments",
    "ignore-unknown-rule": "dataward's own ignore comments",
}

# squawk rules that fire on the corpus with no dataward counterpart, and why they are not
# mapped to any dataward rule.
SQUAWK_ONLY: dict[str, str] = {
    "require-statement-timeout": "dataward asks for lock_timeout only: `dataward migrate up` "
    "bounds the statement itself, and a statement_timeout is not a safety property of the "
    "SQL (squawk's require-timeout-settings is this rule and require-lock-timeout together)",
    "prefer-robust-stmts": "IF NOT EXISTS / IF EXISTS, so a migration that failed part way "
    "can be run again; squawk raises it only for files not assumed to run in a transaction. "
    "dataward's answer is the transaction, and `dataward migrate up` records a "
    "no-transaction migration dirty until every statement has run (then `migrate resolve` "
    "says what state the database is in)",
    "ban-drop-constraint": "dataward does not flag dropping a constraint (it loosens, and "
    "takes a short lock that missing-lock-timeout covers); every corpus hit is a down "
    "undoing its up's ADD CONSTRAINT",
    "prefer-text-field": "varchar(n) is a design choice dataward leaves alone; widening it "
    "later is catalog-only, which alter-column-type knows",
    "renaming-object": "renaming an index or a constraint breaks no query; dataward's rename "
    "rules are about tables and columns (the corpus has these as good cases)",
    "ban-drop-default": "dropping a default is catalog-only and changes no row",
    "ban-drop-view": "dataward has no view rule; the corpus hit is a down dropping the "
    "compatibility view its up created",
}

# ---------------------------------------------------------------------------- explanations
# The verdict starts each explanation: squawk false positive / false negative, squawk wider
# or narrower (a different scope, not a mistake), ignored in dataward (found, and the file
# ignores it with a reason), policy (both defensible).

DOWN_DROPS_ITS_COLUMN = (
    "squawk false positive: this down drops the column its own up added. It runs when the "
    "release that used the column is rolled back, so no running code reads it: undoing the "
    "up is what the down is for. dataward's drop-column skips what a down's up made; squawk "
    "lints each file alone and cannot pair a down with its up"
)
DOWN_DROPS_ITS_TABLE = (
    "squawk false positive: this down drops the table its own up created, which only the "
    "release being rolled back used. dataward's drop-table skips what a down's up made; "
    "squawk lints each file alone and cannot pair a down with its up"
)
DOWN_DROPS_NOT_NULL_ITS_UP_SET = (
    "squawk false positive: this down drops the NOT NULL its own up set, which gives the "
    "rolled-back release the column it was written against (and is catalog-only). squawk "
    "cannot pair a down with its up"
)
DOWN_RENAMES_BACK = (
    "squawk false positive: this down renames back what its up renamed, to the name the "
    "rolled-back release uses. squawk cannot pair a down with its up"
)
DOWN_LOCKS_ONLY_ITS_TABLE = (
    "policy: the down's DROP TABLE locks only the table its own up created (no foreign key "
    "reaches another table), which only the rolled-back release used, so nothing of the "
    "running release queues behind the lock and dataward asks for no lock_timeout. squawk "
    "asks for one before every ACCESS EXCLUSIVE lock. Stricter, not wrong: a long query "
    "left on the table would hold up the rollback itself"
)
NEW_TABLE_LOCK = (
    "squawk false positive: the statement squawk flags works on a table created earlier in "
    "this file, inside the same transaction, which no other session can see yet: there is "
    "no lock to wait for. squawk's require-lock-timeout does not track tables created in the "
    "file (its require-concurrent-index-creation does)"
)
IGNORED_TYPE_BACK = (
    "ignored in dataward: the down changes the type back, a rewrite (or a scan) dataward's "
    "alter-column-type flags; the file's `-- dataward:ignore alter-column-type` with its "
    "reason suppresses it. squawk reads only its own `-- squawk-ignore` comments"
)
NOT_VALID_IMPOSSIBLE = (
    "squawk false positive: constraint-missing-not-valid asks for NOT VALID on a UNIQUE or "
    "PRIMARY KEY constraint, which PostgreSQL does not accept (only CHECK and FOREIGN KEY "
    "can be NOT VALID). The real cost, the unique index built under ACCESS EXCLUSIVE, is the "
    "add-unique-constraint mapping, where both tools flag this file"
)
NEW_COLUMN_REFERENCES = (
    "squawk false positive: ADD COLUMN ... REFERENCES adds a column that is NULL in every "
    "row, so there is nothing to validate: on PostgreSQL 15 here it took 1.5 ms on a "
    "3,000,000-row table, against 210 ms for ADD FOREIGN KEY on an existing column. And the "
    "NOT VALID squawk asks for cannot be written on a column constraint (a syntax error). "
    "The lock it takes on customers is the lock_timeout rule's, set in this file"
)
DROP_COLUMN_IGNORED = (
    "ignored in dataward: drop-column finds it; the file's `-- dataward:ignore drop-column "
    "no release reads it since 2.4 ...` says why it is safe. squawk reads only its own "
    "`-- squawk-ignore` comments"
)
SET_NOT_NULL_IN_DOWN_IGNORED = (
    "ignored in dataward: the down's SET NOT NULL scans orders under ACCESS EXCLUSIVE and "
    "dataward's set-not-null finds it; the file ignores it with its reason (orders is small "
    "in this example). squawk reads only its own `-- squawk-ignore` comments"
)
DROP_INDEX_IN_DOWN_IGNORED = (
    "ignored in dataward: drop-index-not-concurrently finds the down's plain DROP INDEX; "
    "the file ignores it with its reason (it undoes the up: a brief lock). squawk reads "
    "only its own `-- squawk-ignore` comments"
)

EXPLANATIONS: dict[tuple[str, str], str] = {
    (
        "drop-column",
        "add-column-and-set-not-null/bad/0001_orders_currency_added_and_required.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-and-set-not-null/bad/0002_orders_channel_added_and_required.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-and-set-not-null/good/0001_orders_currency_with_default.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-and-set-not-null/good/0002_orders_region.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-not-null",
        "add-column-and-set-not-null/good/0004_orders_region_not_null.down.sql",
    ): DOWN_DROPS_NOT_NULL_ITS_UP_SET,
    (
        "drop-column",
        "add-column-not-null-without-default/bad/0001_orders_currency.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-not-null-without-default/good/0001_orders_currency_with_default.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-not-null-without-default/good/0002_orders_note_nullable.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/bad/0001_orders_public_id.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/bad/0002_orders_touched_at.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/bad/0003_orders_number.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/good/0001_orders_created_at_now.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/good/0002_orders_status_constant.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "add-column-volatile-default/good/0003_orders_public_id_default_later.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "add-unique-constraint/good/0003_unique_on_a_new_table.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "add-unique-constraint/good/0003_unique_on_a_new_table.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "add-unique-constraint/good/0003_unique_on_a_new_table.up.sql",
    ): NEW_TABLE_LOCK,
    ("drop-table", "alter-column-type/bad/0001_create_payments.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "alter-column-type/bad/0001_create_payments.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "alter-column-type",
        "alter-column-type/bad/0002_payments_amount_scale.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "alter-column-type",
        "alter-column-type/bad/0004_payments_amount_cents.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "alter-column-type",
        "alter-column-type/bad/0005_payments_recorded_at_timestamptz.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "alter-column-type",
        "alter-column-type/bad/0006_legacy_orders_total_bigint.down.sql",
    ): IGNORED_TYPE_BACK,
    ("drop-table", "alter-column-type/good/0001_create_payments.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "alter-column-type/good/0001_create_payments.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "alter-column-type",
        "alter-column-type/good/0002_payments_amount_precision.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "alter-column-type",
        "alter-column-type/good/0003_payments_reference_longer.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "alter-column-type",
        "alter-column-type/good/0004_payments_note_text.down.sql",
    ): IGNORED_TYPE_BACK,
    (
        "drop-table",
        "alter-column-type/good/0005_drafts_retyped_when_new.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "alter-column-type/good/0005_drafts_retyped_when_new.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "alter-column-type/good/0005_drafts_retyped_when_new.up.sql",
    ): NEW_TABLE_LOCK,
    (
        "drop-column",
        "backfill-with-ddl/bad/0001_orders_currency_added_and_filled.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "backfill-with-ddl/good/0001_orders_currency_added.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "backfill-with-ddl/good/0003_customers_touched_beside_orders_ddl.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    ("drop-table", "char-type/bad/0001_create_currencies.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "char-type/bad/0001_create_currencies.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-column", "char-type/bad/0002_currencies_flag.down.sql"): DOWN_DROPS_ITS_COLUMN,
    ("drop-table", "char-type/good/0001_create_currencies.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "char-type/good/0001_create_currencies.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "create-index-not-concurrently/good/0002_create_shipments_with_index.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "create-index-not-concurrently/good/0002_create_shipments_with_index.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "create-index-not-concurrently/good/0002_create_shipments_with_index.up.sql",
    ): NEW_TABLE_LOCK,
    ("drop-column", "drop-column/good/0002_orders_note.down.sql"): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "drop-index-not-concurrently/good/0002_index_of_a_new_table.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "drop-index-not-concurrently/good/0002_index_of_a_new_table.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "drop-index-not-concurrently/good/0002_index_of_a_new_table.up.sql",
    ): NEW_TABLE_LOCK,
    (
        "drop-table",
        "drop-not-null/good/0002_drafts_optional_when_new.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "drop-not-null/good/0002_drafts_optional_when_new.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "drop-not-null/good/0002_drafts_optional_when_new.up.sql",
    ): NEW_TABLE_LOCK,
    ("drop-table", "drop-table/good/0002_create_order_tags.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "drop-table/good/0002_create_order_tags.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "float-for-money/bad/0001_create_invoices.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "float-for-money/bad/0001_create_invoices.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-column", "float-for-money/bad/0002_invoices_fee.down.sql"): DOWN_DROPS_ITS_COLUMN,
    ("drop-table", "float-for-money/good/0001_create_invoices.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "float-for-money/good/0001_create_invoices.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "int-primary-key/bad/0001_create_customers.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "int-primary-key/bad/0001_create_customers.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "int-primary-key/bad/0002_create_countries.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "int-primary-key/bad/0002_create_countries.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "int-primary-key/good/0001_create_customers.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "int-primary-key/good/0001_create_customers.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "int-primary-key/good/0002_create_order_lines.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "int-primary-key/good/0002_create_order_lines.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "int-primary-key/good/0003_create_api_keys.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "int-primary-key/good/0003_create_api_keys.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "json-instead-of-jsonb/bad/0001_create_webhooks.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "json-instead-of-jsonb/bad/0001_create_webhooks.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "json-instead-of-jsonb/good/0001_create_webhooks.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "json-instead-of-jsonb/good/0001_create_webhooks.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-column", "missing-down/good/0001_orders_note.down.sql"): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "missing-foreign-key-index/bad/0001_create_customers.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-foreign-key-index/bad/0001_create_customers.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "missing-foreign-key-index/bad/0002_create_orders.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "drop-column",
        "missing-foreign-key-index/bad/0003_orders_referrer.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "missing-foreign-key-index/good/0001_create_customers.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-foreign-key-index/good/0001_create_customers.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "missing-foreign-key-index/good/0002_create_orders.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "drop-column",
        "missing-foreign-key-index/good/0003_orders_referrer.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "missing-foreign-key-index/good/0005_create_shipments.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    ("drop-column", "missing-lock-timeout/bad/0001_orders_note.down.sql"): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "missing-lock-timeout/bad/0002_orders_note_lock_timeout_zero.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "missing-lock-timeout/bad/0004_orders_flag_lock_timeout_too_late.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "missing-lock-timeout/bad/0005_create_order_notes_referencing_orders.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    ("drop-column", "missing-lock-timeout/good/0001_orders_note.down.sql"): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-column",
        "missing-lock-timeout/good/0002_orders_memo_set_local.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    ("drop-table", "missing-lock-timeout/good/0003_create_labels.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-lock-timeout/good/0003_create_labels.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "missing-lock-timeout/good/0004_create_order_notes_referencing_orders.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    ("drop-table", "missing-primary-key/bad/0001_create_audit_log.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-primary-key/bad/0001_create_audit_log.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "missing-primary-key/good/0001_create_audit_log.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-primary-key/good/0001_create_audit_log.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-table",
        "missing-primary-key/good/0002_create_visits_key_added_after.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-primary-key/good/0002_create_visits_key_added_after.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "missing-primary-key/good/0002_create_visits_key_added_after.up.sql",
    ): NEW_TABLE_LOCK,
    ("rename-column", "rename-column/bad/0001_orders_amount_to_total.down.sql"): DOWN_RENAMES_BACK,
    (
        "drop-table",
        "rename-column/good/0002_drafts_renamed_when_new.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "rename-column/good/0002_drafts_renamed_when_new.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "rename-column/good/0002_drafts_renamed_when_new.up.sql",
    ): NEW_TABLE_LOCK,
    ("rename-table", "rename-table/bad/0001_orders_to_purchases.down.sql"): DOWN_RENAMES_BACK,
    (
        "rename-table",
        "rename-table/good/0002_orders_to_purchases_with_view.down.sql",
    ): DOWN_RENAMES_BACK,
    ("drop-table", "serial-column/bad/0001_create_tags.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "serial-column/bad/0001_create_tags.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "serial-column/good/0001_create_tags.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "serial-column/good/0001_create_tags.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-not-null",
        "set-not-null/bad/0001_orders_currency_not_null.down.sql",
    ): DOWN_DROPS_NOT_NULL_ITS_UP_SET,
    (
        "drop-not-null",
        "set-not-null/bad/0003_orders_region_not_null_unvalidated.down.sql",
    ): DOWN_DROPS_NOT_NULL_ITS_UP_SET,
    (
        "drop-not-null",
        "set-not-null/good/0002_orders_currency_not_null.down.sql",
    ): DOWN_DROPS_NOT_NULL_ITS_UP_SET,
    ("drop-table", "set-not-null/good/0003_create_refunds.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "set-not-null/good/0003_create_refunds.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-column", "syntax-error/bad/0002_orders_memo.down.sql"): DOWN_DROPS_ITS_COLUMN,
    ("drop-column", "syntax-error/good/0001_orders_note.down.sql"): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "timestamp-without-time-zone/bad/0001_create_events.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "timestamp-without-time-zone/bad/0001_create_events.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "drop-column",
        "timestamp-without-time-zone/bad/0002_events_seen_at.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    (
        "drop-table",
        "timestamp-without-time-zone/good/0001_create_events.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "timestamp-without-time-zone/good/0001_create_events.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("drop-table", "too-many-indexes/bad/0001_create_products.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "too-many-indexes/bad/0001_create_products.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("missing-lock-timeout", "too-many-indexes/bad/0001_create_products.up.sql"): NEW_TABLE_LOCK,
    ("drop-table", "too-many-indexes/good/0001_create_products.down.sql"): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "too-many-indexes/good/0001_create_products.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    ("missing-lock-timeout", "too-many-indexes/good/0001_create_products.up.sql"): NEW_TABLE_LOCK,
    (
        "drop-table",
        "truncate-table/good/0001_staging_emptied_when_new.down.sql",
    ): DOWN_DROPS_ITS_TABLE,
    (
        "missing-lock-timeout",
        "truncate-table/good/0001_staging_emptied_when_new.down.sql",
    ): DOWN_LOCKS_ONLY_ITS_TABLE,
    (
        "missing-lock-timeout",
        "truncate-table/good/0001_staging_emptied_when_new.up.sql",
    ): NEW_TABLE_LOCK,
    (
        "drop-column",
        "unreadable-migration/good/0001_orders_note_utf8.down.sql",
    ): DOWN_DROPS_ITS_COLUMN,
    # one by one
    ("constraint-not-valid", "add-unique-constraint/bad/0001_customers_email_unique.up.sql"): (
        NOT_VALID_IMPOSSIBLE
    ),
    ("constraint-not-valid", "add-unique-constraint/bad/0002_order_lines_primary_key.up.sql"): (
        NOT_VALID_IMPOSSIBLE
    ),
    ("alter-column-type", "alter-column-type/bad/0003_payments_reference_shorter.down.sql"): (
        "squawk false positive: varchar(10) to varchar(20) raises the limit, which PostgreSQL "
        "does in the catalog without reading a row or rebuilding an index; squawk's "
        "changing-column-type flags every ALTER COLUMN TYPE. (The file's dataward:ignore "
        "is not needed: there is nothing to ignore)"
    ),
    (
        "timestamp-without-time-zone",
        "alter-column-type/bad/0005_payments_recorded_at_timestamptz.down.sql",
    ): (
        "policy: the down gives the column back the timestamp type it had before its up; "
        "dataward's type rules (timestamp, char, json, float money, int keys) judge the "
        "migration that chose a type, not a down restoring it. squawk cannot tell a down"
    ),
    ("alter-column-type", "alter-column-type/good/0002_payments_amount_precision.up.sql"): (
        "squawk false positive: numeric(12,2) to numeric(16,2) keeps the scale and raises "
        "the precision, which PostgreSQL does without a rewrite (the table's file keeps its "
        "relfilenode); squawk flags every type change"
    ),
    ("alter-column-type", "alter-column-type/good/0003_payments_reference_longer.up.sql"): (
        "squawk false positive: varchar(20) to varchar(40) is catalog-only in PostgreSQL; "
        "squawk flags every type change"
    ),
    ("alter-column-type", "alter-column-type/good/0004_payments_note_text.up.sql"): (
        "squawk false positive: varchar(100) to text is binary-coercible, catalog-only in "
        "PostgreSQL; squawk flags every type change"
    ),
    ("alter-column-type", "alter-column-type/good/0005_drafts_retyped_when_new.up.sql"): (
        "squawk false positive: drafts is created earlier in this file, so the rewrite is of "
        "an empty table no one else can see; squawk's changing-column-type does not track "
        "tables created in the file"
    ),
    ("int-primary-key", "alter-column-type/good/0005_drafts_retyped_when_new.up.sql"): (
        "squawk wider: prefer-bigint-over-int flags every integer column, here "
        "drafts.word_count, which is not a key (and this very file makes it bigint). "
        "dataward's int-primary-key is about keys running out of values"
    ),
    ("char-type", "char-type/good/0001_create_currencies.up.sql"): (
        'squawk false positive: ban-char-field flags `kind "char"`, PostgreSQL\'s one-byte '
        "internal type (quoted), which is not char(n)/bpchar and has none of its padding "
        "problems"
    ),
    (
        "concurrently-in-transaction",
        "concurrently-in-transaction/bad/0001_index_concurrently_in_transaction.down.sql",
    ): (
        "squawk false negative (narrower): DROP INDEX CONCURRENTLY in a transaction fails "
        '("DROP INDEX CONCURRENTLY cannot run inside a transaction block", checked on '
        "PostgreSQL 15 here) just as CREATE INDEX CONCURRENTLY does; squawk's "
        "ban-concurrent-index-creation-in-transaction looks at index creation only"
    ),
    (
        "drop-index-not-concurrently",
        "create-index-not-concurrently/bad/0001_orders_status_index.down.sql",
    ): (DROP_INDEX_IN_DOWN_IGNORED),
    (
        "drop-index-not-concurrently",
        "create-index-not-concurrently/bad/0002_customers_email_unique_index.down.sql",
    ): DROP_INDEX_IN_DOWN_IGNORED,
    ("drop-column", "drop-column/good/0001_orders_legacy_code_after_release.up.sql"): (
        DROP_COLUMN_IGNORED
    ),
    (
        "drop-index-not-concurrently",
        "drop-index-not-concurrently/good/0002_index_of_a_new_table.up.sql",
    ): (
        "squawk false positive: the index dropped is on scratch, created earlier in this "
        "file and seen by no one; squawk tracks new tables for index creation but not for "
        "DROP INDEX"
    ),
    ("set-not-null", "drop-not-null/bad/0001_orders_currency_optional.down.sql"): (
        SET_NOT_NULL_IN_DOWN_IGNORED
    ),
    ("set-not-null", "drop-not-null/good/0001_orders_currency_optional_after_release.down.sql"): (
        SET_NOT_NULL_IN_DOWN_IGNORED
    ),
    ("drop-not-null", "drop-not-null/good/0001_orders_currency_optional_after_release.up.sql"): (
        "ignored in dataward: drop-not-null finds it; the file's `-- dataward:ignore "
        "drop-not-null readers handle NULL since 2.3 ...` says why it is safe. squawk reads "
        "only its own `-- squawk-ignore` comments"
    ),
    ("drop-not-null", "drop-not-null/good/0002_drafts_optional_when_new.up.sql"): (
        "squawk false positive: drafts is created earlier in this file: no release reads it "
        "yet, so relaxing its NOT NULL breaks nobody"
    ),
    ("drop-table", "drop-table/good/0001_order_notes_after_release.up.sql"): (
        "ignored in dataward: drop-table finds it; the file's `-- dataward:ignore drop-table "
        "unused since 2.4, archived ...` says why it is safe. squawk reads only its own "
        "`-- squawk-ignore` comments"
    ),
    ("drop-column", "ignore-unknown-rule/good/0001_orders_legacy_code.up.sql"): (
        DROP_COLUMN_IGNORED
    ),
    ("drop-column", "ignore-without-reason/good/0001_orders_legacy_code.up.sql"): (
        DROP_COLUMN_IGNORED
    ),
    ("int-primary-key", "int-primary-key/good/0002_create_order_lines.up.sql"): (
        "squawk wider: line_no integer is the second column of a composite key (order_id "
        "bigint, line_no); a line number within one order does not run out of 32 bits. "
        "dataward flags a single-column integer key; squawk flags every integer column"
    ),
    ("constraint-not-valid", "missing-foreign-key-index/bad/0003_orders_referrer.up.sql"): (
        NEW_COLUMN_REFERENCES
    ),
    ("constraint-not-valid", "missing-foreign-key-index/good/0003_orders_referrer.up.sql"): (
        NEW_COLUMN_REFERENCES
    ),
    (
        "missing-lock-timeout",
        "missing-lock-timeout/bad/0002_orders_note_lock_timeout_zero.up.sql",
    ): (
        "squawk false negative: SET lock_timeout = 0 turns the timeout off (wait for ever); "
        "squawk accepts any SET lock_timeout"
    ),
    (
        "missing-lock-timeout",
        "missing-lock-timeout/bad/0003_orders_index_set_local_outside_transaction.up.sql",
    ): (
        "squawk false negative: the migration is marked no-transaction (squawk runs on it "
        "without --assume-in-transaction), and SET LOCAL outside a transaction block does "
        'nothing (PostgreSQL: "SET LOCAL can only be used in transaction blocks", and '
        "lock_timeout stays 0); squawk accepts the SET LOCAL"
    ),
    ("rename-column", "rename-column/good/0002_drafts_renamed_when_new.up.sql"): (
        "squawk false positive: drafts is created earlier in this file: no release uses the "
        "old column name yet"
    ),
    ("rename-table", "rename-table/good/0002_orders_to_purchases_with_view.up.sql"): (
        "ignored in dataward: rename-table finds it; the file's `-- dataward:ignore "
        "rename-table the view keeps the old name working until release 2.5` says why (the "
        "CREATE VIEW orders after it). squawk reads only its own `-- squawk-ignore` comments"
    ),
    ("set-not-null", "set-not-null/good/0004_refunds_reason_not_null_again.up.sql"): (
        "squawk false positive: refunds.reason is NOT NULL already (migration 0003 created it "
        "so), and SET NOT NULL on such a column scans nothing. squawk lints the file without "
        "the migrations before it"
    ),
    ("truncate-table", "truncate-table/bad/0001_order_imports_emptied.up.sql"): (
        "squawk narrower: ban-truncate-cascade flags TRUNCATE ... CASCADE only; a plain "
        "TRUNCATE of an existing table deletes every row past any down just the same (the "
        "CASCADE case, bad/0002, both tools flag)"
    ),
}
