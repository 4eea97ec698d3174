"""TODO.md kept up to date from one audit to the next: statuses people set survive, no entry
is ever written twice, gone findings are ticked, new ones land under their severity, and
every line people wrote around the entries comes back byte for byte."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataward.audit.model import AuditFinding
from dataward.audit.todo import HEADER, update_todo
from dataward.errors import UsageError
from dataward.migrate.lint.model import Severity

HIGH, MEDIUM, LOW = Severity.ERROR, Severity.WARNING, Severity.INFO


def finding(
    rule: str,
    file: str,
    line: int,
    evidence: str,
    severity: Severity = HIGH,
    message: str = "stores money as a float",
    fix: str = "use numeric(12, 2)",
) -> AuditFinding:
    return AuditFinding(
        rule=rule,
        severity=severity,
        location=f"{file}:{line}",
        message=message,
        evidence=evidence,
        why="0.1 + 0.2 is not 0.3",
        fix=fix,
        file=file,
        line=line,
    )


AMOUNT = finding("float-for-money", "schema/orders.sql", 4, "amount float")
PRICE = finding("float-for-money", "schema/items.sql", 7, "price double precision")
NO_KEY = finding(
    "missing-primary-key",
    "schema/events.sql",
    1,
    "create table events (",
    MEDIUM,
    "events has no primary key: a re-delivered event is stored twice",
    "add a primary key",
)
NAIVE = finding(
    "timestamp-without-time-zone",
    "schema/events.sql",
    3,
    "happened_at timestamp",
    LOW,
    "happened_at has no time zone",
    "use timestamptz",
)


def entry(item: AuditFinding, box: str = " ") -> str:
    return (
        f"- [{box}] {item.location}: {item.message} _(ref: docs/rules.md#{item.rule})_ "
        f"<!-- dataward:{item.fingerprint} -->"
    )


def moved(item: AuditFinding, line: int) -> AuditFinding:
    """The same defect after lines were added above it."""
    return finding(
        item.rule, item.file or "", line, item.evidence, item.severity, item.message, item.fix
    )


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def fingerprints_in(path: Path) -> list[str]:
    return re.findall(r"<!-- dataward:([0-9a-f]{12}) -->", path.read_text(encoding="utf-8"))


@pytest.fixture
def todo(tmp_path: Path) -> Path:
    return tmp_path / "TODO.md"


def test_a_new_checklist_has_a_header_then_entries_by_severity(todo: Path) -> None:
    change = update_todo(todo, [NAIVE, AMOUNT, NO_KEY, PRICE])

    assert change.created and change.added == 4 and change.written
    assert str(change) == "created with 4 entries"
    assert lines_of(todo) == [
        *HEADER,
        "",
        "## High",
        "",
        entry(PRICE),  # in report order: by file, then line
        "  - fix: use numeric(12, 2)",
        entry(AMOUNT),
        "  - fix: use numeric(12, 2)",
        "",
        "## Medium",
        "",
        entry(NO_KEY),
        "  - fix: add a primary key",
        "",
        "## Low",
        "",
        entry(NAIVE),
        "  - fix: use timestamptz",
    ]
    assert todo.read_bytes().endswith(b"use timestamptz\n")


def test_the_header_explains_statuses_and_where_people_may_write() -> None:
    header = " ".join(HEADER)
    for words in ("`[ ]` not started", "`[-]` in progress", "`[x]` done", "in place", "notes"):
        assert words in header


def test_running_again_with_the_same_findings_changes_nothing(todo: Path) -> None:
    update_todo(todo, [AMOUNT, NO_KEY, NAIVE])
    before = todo.read_bytes()
    os.utime(todo, (1_000_000, 1_000_000))

    change = update_todo(todo, [NAIVE, NO_KEY, AMOUNT])  # order does not matter

    assert todo.read_bytes() == before
    assert not change.written and todo.stat().st_mtime == 1_000_000  # not even rewritten
    assert (change.added, change.kept, change.closed, change.reopened) == (0, 3, 0, 0)
    assert str(change) == "0 added, 3 kept, 0 closed (finding gone); already up to date"


def test_an_empty_file_gets_the_header(todo: Path) -> None:
    todo.write_text("\n", encoding="utf-8")
    assert update_todo(todo, [AMOUNT]).created
    assert lines_of(todo)[0] == HEADER[0]


def test_no_findings_still_makes_a_checklist(todo: Path) -> None:
    update_todo(todo, [])
    assert lines_of(todo) == list(HEADER)


def test_statuses_people_set_are_kept_while_the_finding_is_reported(todo: Path) -> None:
    update_todo(todo, [AMOUNT, PRICE, NO_KEY])
    text = todo.read_text(encoding="utf-8")
    text = text.replace(entry(AMOUNT), entry(AMOUNT, "-"))
    text = text.replace(entry(NO_KEY), entry(NO_KEY, "~"))  # a team's own status
    todo.write_text(text, encoding="utf-8")

    change = update_todo(todo, [moved(AMOUNT, 9), PRICE, NO_KEY])

    lines = lines_of(todo)
    assert entry(moved(AMOUNT, 9), "-") in lines  # the line number is refreshed
    assert entry(PRICE) in lines
    assert entry(NO_KEY, "~") in lines
    assert (change.kept, change.reopened, change.closed, change.added) == (3, 0, 0, 0)


@pytest.mark.parametrize("box", ["x", "X"])
def test_an_entry_ticked_while_its_finding_is_still_reported_is_reopened(
    todo: Path, box: str
) -> None:
    update_todo(todo, [AMOUNT, PRICE])
    text = todo.read_text(encoding="utf-8").replace(entry(AMOUNT), entry(AMOUNT, box))
    todo.write_text(text, encoding="utf-8")

    change = update_todo(todo, [AMOUNT, PRICE])

    line = lines_of(todo).index(entry(AMOUNT)) + 1
    assert change.reopened == 1 and change.reopened_lines == [line]
    assert f"1 reopened (marked done but still reported: line {line})" in str(change)


def test_a_gone_finding_is_ticked_in_place_never_deleted(todo: Path) -> None:
    update_todo(todo, [AMOUNT, PRICE, NO_KEY, NAIVE])
    text = todo.read_text(encoding="utf-8").replace(entry(NO_KEY), entry(NO_KEY, "-"))
    todo.write_text(text, encoding="utf-8")
    before = lines_of(todo)

    change = update_todo(todo, [PRICE, NAIVE])

    after = lines_of(todo)
    assert len(after) == len(before)
    assert after[before.index(entry(AMOUNT))] == entry(AMOUNT, "x")
    assert after[before.index(entry(NO_KEY, "-"))] == entry(NO_KEY, "x")
    assert "  - fix: add a primary key" in after  # the fix line stays with it
    assert (change.closed, change.kept) == (2, 2)
    assert "2 closed (finding gone)" in str(change)

    # Already done and still gone: left alone, and not closed a second time.
    again = update_todo(todo, [PRICE, NAIVE])
    assert again.closed == 0 and not again.written


def test_a_finding_that_comes_back_is_reopened(todo: Path) -> None:
    update_todo(todo, [AMOUNT, PRICE])
    update_todo(todo, [PRICE])
    change = update_todo(todo, [AMOUNT, PRICE])
    assert change.reopened == 1 and entry(AMOUNT) in lines_of(todo)
    assert fingerprints_in(todo).count(AMOUNT.fingerprint) == 1


def test_a_new_finding_goes_after_the_last_entry_of_its_severity(todo: Path) -> None:
    update_todo(todo, [AMOUNT, NO_KEY])
    text = todo.read_text(encoding="utf-8").replace(
        "  - fix: use numeric(12, 2)\n",
        "  - fix: use numeric(12, 2)\n  - asked finance which scale they need\n",
    )
    todo.write_text(text, encoding="utf-8")

    change = update_todo(todo, [AMOUNT, NO_KEY, PRICE])

    lines = lines_of(todo)
    at = lines.index(entry(AMOUNT))
    assert lines[at : at + 6] == [
        entry(AMOUNT),
        "  - fix: use numeric(12, 2)",
        "  - asked finance which scale they need",  # stays under its entry
        entry(PRICE),
        "  - fix: use numeric(12, 2)",
        "",
    ]
    assert change.added == 1 and change.kept == 2


def test_a_new_finding_under_a_heading_without_entries(todo: Path) -> None:
    todo.write_text("# Our list\n\n## Low\n\nNothing yet.\n\n## High\n", encoding="utf-8")

    update_todo(todo, [NAIVE, AMOUNT])

    assert lines_of(todo) == [
        "# Our list",
        "",
        "## Low",
        "",
        entry(NAIVE),
        "  - fix: use timestamptz",
        "",
        "Nothing yet.",
        "",
        "## High",
        "",
        entry(AMOUNT),
        "  - fix: use numeric(12, 2)",
    ]


def test_a_checklist_edited_by_hand_in_the_middle(todo: Path) -> None:
    """A person writes paragraphs and sub-notes between entries, swaps two entries, deletes
    a heading and notes who owns one after its marker; the next audit keeps all of it."""
    update_todo(todo, [AMOUNT, PRICE, NO_KEY, NAIVE])
    fix = "  - fix: use numeric(12, 2)"
    edited = [
        "Intro the team wrote before the tool's header.",
        "",
        *HEADER,
        "",
        "## High",
        "",
        "Finance reviews these first.",
        "",
        entry(AMOUNT, "-") + " owner: @ana",  # swapped with PRICE
        fix,
        "  - see the 2024 incident write-up",
        "",
        "A paragraph between two entries.",
        "",
        entry(PRICE),
        fix,
        "",
        # "## Medium" deleted: its entry now sits in the High section
        entry(NO_KEY),
        "  - fix: add a primary key",
        "",
        "## Low",
        "",
        entry(NAIVE),
        "  - fix: use timestamptz",
        "",
        "Trailing notes, after everything.",
    ]
    todo.write_text("\n".join(edited) + "\n", encoding="utf-8")

    lost = finding(
        "missing-primary-key",
        "schema/audit.sql",
        2,
        "create table audit_log (",
        MEDIUM,
        "audit_log has no primary key",
        "add a primary key",
    )
    now = [moved(AMOUNT, 12), PRICE, NAIVE, lost]  # NO_KEY fixed, a new medium finding
    change = update_todo(todo, now)

    lines = lines_of(todo)
    ours = [line for line in edited if "dataward:" not in line and not line.startswith("  - fix")]
    kept = lines[:-5]  # before the section added at the end
    assert [line for line in kept if line in ours] == ours  # every line people wrote, in order
    assert entry(moved(AMOUNT, 12), "-") + " owner: @ana" in lines
    assert lines.index(entry(moved(AMOUNT, 12), "-") + " owner: @ana") < lines.index(entry(PRICE))
    assert entry(NO_KEY, "x") in lines
    # No heading for medium any more: a new one at the end, after the trailing notes.
    assert lines[-6:] == [
        "Trailing notes, after everything.",
        "",
        "## Medium",
        "",
        entry(lost),
        "  - fix: add a primary key",
    ]
    found = fingerprints_in(todo)
    assert len(found) == len(set(found)) == 5
    assert (change.added, change.kept, change.closed, change.reopened) == (1, 3, 1, 0)

    before = todo.read_bytes()
    assert not update_todo(todo, now).written
    assert todo.read_bytes() == before


def test_an_entry_nested_under_a_persons_bullet_stays_nested(todo: Path) -> None:
    update_todo(todo, [AMOUNT])
    text = todo.read_text(encoding="utf-8").replace(
        entry(AMOUNT), "- Sprint 12 (owner: finance)\n  " + entry(AMOUNT)
    )
    todo.write_text(text, encoding="utf-8")  # the fix line was not indented along

    update_todo(todo, [moved(AMOUNT, 5), PRICE])

    lines = lines_of(todo)
    at = lines.index("- Sprint 12 (owner: finance)")
    assert lines[at : at + 5] == [
        "- Sprint 12 (owner: finance)",
        "  " + entry(moved(AMOUNT, 5)),
        "    - fix: use numeric(12, 2)",
        "  " + entry(PRICE),  # a new entry follows the one before it
        "    - fix: use numeric(12, 2)",
    ]


def test_a_copied_entry_is_left_as_written_and_not_counted(todo: Path) -> None:
    update_todo(todo, [AMOUNT, PRICE])
    copy = entry(AMOUNT, "-") + " (copied here to discuss)"
    todo.write_text(todo.read_text(encoding="utf-8") + f"\n## This week\n\n{copy}\n", "utf-8")

    change = update_todo(todo, [moved(AMOUNT, 20), PRICE])

    lines = lines_of(todo)
    assert entry(moved(AMOUNT, 20)) in lines  # the first one is the entry: refreshed
    assert copy in lines  # the copy: untouched
    assert change.kept == 2 and change.added == 0
    assert change.duplicate_lines == [lines.index(copy) + 1]
    assert f"1 copy of an entry left as written (line {lines.index(copy) + 1})" in str(change)

    gone = update_todo(todo, [PRICE])  # the copy is not ticked either
    assert gone.closed == 1 and copy in lines_of(todo)


def test_entries_in_a_code_block_are_examples_not_entries(todo: Path) -> None:
    example = entry(AMOUNT)
    todo.write_text(f"How an entry looks:\n\n```\n{example}\n```\n", encoding="utf-8")

    change = update_todo(todo, [])
    assert not change.written and change.closed == 0

    update_todo(todo, [AMOUNT])
    assert lines_of(todo).count(example) == 2  # the example, and the real entry


def test_a_line_with_a_marker_but_no_status_box_is_the_users(todo: Path) -> None:
    prose = f"We discussed <!-- dataward:{AMOUNT.fingerprint} --> on Monday."
    todo.write_text(prose + "\n", encoding="utf-8")
    update_todo(todo, [AMOUNT])
    assert lines_of(todo)[0] == prose and entry(AMOUNT) in lines_of(todo)


def test_a_fix_that_changed_is_rewritten_and_a_missing_one_dropped(todo: Path) -> None:
    update_todo(todo, [AMOUNT])
    newer = finding(AMOUNT.rule, "schema/orders.sql", 4, AMOUNT.evidence, fix="numeric(18, 4)")
    update_todo(todo, [newer])
    assert "  - fix: numeric(18, 4)" in lines_of(todo)
    update_todo(todo, [finding(AMOUNT.rule, "schema/orders.sql", 4, AMOUNT.evidence, fix="")])
    assert not any(line.startswith("  - fix") for line in lines_of(todo))


def test_a_file_that_is_not_utf8_is_an_error_and_left_untouched(todo: Path) -> None:
    data = "# Liste\n\n- [ ] r\xe9sum\xe9\n".encode("latin-1")
    todo.write_bytes(data)

    with pytest.raises(UsageError) as raised:
        update_todo(todo, [AMOUNT])

    assert raised.value.location.file == str(todo)
    assert raised.value.location.line == 3
    assert "not UTF-8" in str(raised.value)
    assert todo.read_bytes() == data


def test_crlf_line_endings_are_kept(todo: Path) -> None:
    update_todo(todo, [AMOUNT])
    todo.write_bytes(todo.read_bytes().replace(b"\n", b"\r\n") + b"A note.\r\n")

    update_todo(todo, [AMOUNT, PRICE, NAIVE])

    data = todo.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") > 10
    assert data.endswith(b"  - fix: use timestamptz\r\n")
    assert b"A note.\r\n" in data


def test_a_file_without_a_trailing_newline_stays_without(todo: Path) -> None:
    todo.write_text("# Ours\n\nLast line, no newline", encoding="utf-8")
    update_todo(todo, [AMOUNT])
    data = todo.read_bytes()
    assert data.endswith(b"  - fix: use numeric(12, 2)")
    assert b"Last line, no newline\n\n## High\n" in data


def test_a_byte_order_mark_is_kept(todo: Path) -> None:
    todo.write_bytes(b"\xef\xbb\xbf# Ours\n")
    update_todo(todo, [AMOUNT])
    assert todo.read_bytes().startswith(b"\xef\xbb\xbf# Ours\n\n## High\n")


def test_the_file_is_replaced_whole_and_keeps_its_permissions(todo: Path) -> None:
    update_todo(todo, [AMOUNT])
    todo.chmod(0o640)

    update_todo(todo, [AMOUNT, PRICE])

    assert stat.S_IMODE(todo.stat().st_mode) == 0o640
    assert [p.name for p in todo.parent.iterdir()] == ["TODO.md"]  # no temporary file left


def test_a_symlinked_checklist_is_updated_through_the_link(tmp_path: Path) -> None:
    real = tmp_path / "docs" / "TODO.md"
    real.parent.mkdir()
    real.write_text("# Ours\n", encoding="utf-8")
    link = tmp_path / "TODO.md"
    link.symlink_to(real)

    update_todo(link, [AMOUNT])

    assert link.is_symlink() and entry(AMOUNT) in lines_of(real)


def test_a_checklist_in_a_directory_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        update_todo(tmp_path / "nowhere" / "TODO.md", [AMOUNT])


USER_LINES = st.sampled_from(
    [
        "",
        "A note someone wrote.",
        "  - an indented sub-note",
        "- [ ] a task of our own",
        "## High",
        "## Medium",
        "### Low",
        "## Done this sprint",
        "> quoted from the incident review",
        "    four spaces in",
    ]
)
POOL = [AMOUNT, PRICE, NO_KEY, NAIVE]


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(st.one_of(USER_LINES, st.sampled_from(range(len(POOL)))), max_size=14),
    now=st.sets(st.sampled_from(range(len(POOL)))),
    boxes=st.lists(st.sampled_from([" ", "-", "x", "X", "~"]), min_size=4, max_size=4),
)
def test_any_layout_keeps_what_people_wrote_and_settles_in_one_run(
    tmp_path_factory: pytest.TempPathFactory, layout: list, now: set[int], boxes: list[str]
) -> None:
    todo = tmp_path_factory.mktemp("todo") / "TODO.md"
    seen: set[int] = set()
    written: list[str] = []
    for part in layout:
        if isinstance(part, int):
            if part in seen:
                continue  # copies have their own test
            seen.add(part)
            written += [entry(POOL[part], boxes[part]), "  - fix: whatever it said"]
        else:
            written.append(part)
    todo.write_text("\n".join(written) + "\n", encoding="utf-8")
    findings = [POOL[i] for i in sorted(now)]

    update_todo(todo, findings)
    after = todo.read_bytes()
    assert not update_todo(todo, findings).written and todo.read_bytes() == after

    lines = lines_of(todo)
    ours = [line for line in written if "dataward:" not in line and "- fix:" not in line]
    remaining = iter(lines)
    assert all(line in remaining for line in ours)  # in order, none lost
    found = fingerprints_in(todo)
    assert sorted(found) == sorted({POOL[i].fingerprint for i in seen | now})
    status = {POOL[i].fingerprint: line[3] for line in lines if (i := _pool_index(line)) >= 0}
    assert all(status[POOL[i].fingerprint] not in "xX" for i in now)  # reported: not done
    assert all(status[POOL[i].fingerprint] in "xX" for i in seen - now)  # gone: done


def _pool_index(line: str) -> int:
    return next((i for i, f in enumerate(POOL) if f"dataward:{f.fingerprint}" in line), -1)


LIVE = AuditFinding(
    rule="float-for-money",
    severity=HIGH,
    location="public.orders.amount",
    message="public.orders.amount holds money as double precision",
    evidence="amount double precision, 1,204 rows",
    why="0.1 + 0.2 is not 0.3",
    fix="dataward migrate plan change-type orders amount 'numeric(19,4)'",
)


def test_what_a_run_did_not_look_at_is_not_closed(tmp_path: Path) -> None:
    todo = tmp_path / "TODO.md"
    update_todo(todo, [AMOUNT, PRICE, LIVE])
    assert "<!-- dataward:" + LIVE.fingerprint + " db -->" in todo.read_text()
    # No --db this time, and schema/items.sql could not be read: neither is "gone".
    change = update_todo(todo, [AMOUNT], database_audited=False, unread_files={"schema/items.sql"})
    assert change.closed == 0
    assert todo.read_text().count("- [x]") == 0
    # With both looked at again and the findings gone, both are ticked.
    change = update_todo(todo, [AMOUNT])
    assert change.closed == 2
    assert todo.read_text().count("- [x]") == 2
