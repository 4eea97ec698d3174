"""Rules the engine reports itself: input it cannot lint, and ignores that ignore nothing."""

from __future__ import annotations

from dataward.migrate.lint.model import ERROR, WARNING
from dataward.migrate.lint.registry import Registrar

rule = Registrar("input")

SYNTAX_ERROR = rule.input(
    id="syntax-error",
    severity=ERROR,
    title="SQL that PostgreSQL's parser rejects",
    what="A script that pglast (PostgreSQL's own parser) cannot parse. The finding names "
    "the line and column the parser stopped at and repeats its message; the other files "
    "are still linted, and the command exits 2.",
    why="PostgreSQL would refuse the migration the same way, part-way through a deploy; and "
    "nothing in the script can be checked until it parses.",
    fix="correct the SQL at the line shown (the parser's message says what it expected)",
    bad="ALTER TABLE orders ADD COLUMN note text,;",
    good="SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;",
).id

UNREADABLE_MIGRATION = rule.input(
    id="unreadable-migration",
    severity=ERROR,
    title="A migration file or directory dataward cannot read",
    what="A file that is not UTF-8 (the finding names the line of the first bad byte), two "
    "migrations with one version, a down without its up, a file named like no migration "
    "layout. The other paths are still linted, and the command exits 2.",
    why="What cannot be read cannot be checked, and `dataward migrate up` refuses the same "
    "files: better to hear it from the linter than half-way through a deploy.",
    fix="re-encode the file as UTF-8, give one of the migrations a new version, or rename "
    "the file to <version>_<name>.up.sql",
    bad="-- a file saved as Latin-1: caf\\xe9",
    good="-- the same file saved as UTF-8: café",
).id

IGNORE_WITHOUT_REASON = rule.input(
    id="ignore-without-reason",
    severity=WARNING,
    title="An inline ignore that does not say why",
    what="`-- dataward:ignore RULE` with nothing after the rule id. Such an ignore suppresses "
    "nothing: the finding it meant to silence is reported too.",
    why="An ignore is a decision someone made about this statement; without its reason the "
    "next reader cannot tell whether it still holds, and ignores turn into a habit.",
    fix="say why the rule does not apply: `-- dataward:ignore RULE the reason`",
    bad="-- dataward:ignore drop-column\nALTER TABLE orders DROP COLUMN legacy_code;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-column no release reads it since 2.4 (ticket 812)\n"
    "ALTER TABLE orders DROP COLUMN legacy_code;",
).id

IGNORE_UNKNOWN_RULE = rule.input(
    id="ignore-unknown-rule",
    severity=WARNING,
    title="An inline ignore naming a rule that does not exist",
    what="`-- dataward:ignore` followed by an id that is not in this list (a typo, or a "
    "rule of another tool), or by no id at all.",
    why="The ignore silently does nothing: the finding it was written for is still "
    "reported, or worse, the author believes a rule was considered that never ran.",
    fix="use the rule id exactly as `dataward migrate lint` prints it",
    bad="-- dataward:ignore drop-collumn no release reads it since 2.4\n"
    "ALTER TABLE orders DROP COLUMN legacy_code;",
    good="SET lock_timeout = '5s';\n"
    "-- dataward:ignore drop-column no release reads it since 2.4\n"
    "ALTER TABLE orders DROP COLUMN legacy_code;",
).id
