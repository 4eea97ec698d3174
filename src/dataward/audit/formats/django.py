"""Django migrations read statically: each `<app>/migrations/NNNN_*.py` file's syntax tree,
never imported (importing runs the module, and Django's would need the project's settings).

The operations list of `class Migration` becomes the SQL Django's PostgreSQL schema
editor runs for it, on each operation's line (a CreateModel's columns on their fields'
lines); the model state is kept from one migration to the next, as Django's autodetector
keeps it, so an AlterField knows the field it changes and a RemoveField the column it
drops. Tables are `<app label>_<model>` (the app label being the directory above
migrations/) unless `db_table` says otherwise.

The down is what Django runs when it reverses the migration: every operation's reverse,
in reverse order. It is no line's own, so it is pinned to the `operations` line. RunSQL
without reverse_sql and RunPython without reverse_code cannot be reversed: such a
migration has no down.

Django details that decide findings: a ForeignKey is a `<name>_id` column with a
DEFERRABLE constraint and an index of its own (so missing-foreign-key-index does not fire
for it); AddField with a default writes the default into the ADD COLUMN (then drops it,
which no rule is about); DateTimeField is timestamptz; `atomic = False` is a migration
outside a transaction (AddIndexConcurrently needs it).
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw
from dataward.audit.formats.layout import Statements, ignore_comments, pinned, script
from dataward.audit.formats.model import MigrationFolder, Reading, chain_order
from dataward.audit.formats.pgtypes import DJANGO_AUTO, django_type
from dataward.audit.formats.pyast import UNKNOWN, call_args, dotted, last_name, value
from dataward.migrate.files import Migration

_FILE = re.compile(r"^(?P<number>\d{4,})_(?P<name>\w+)\.py$")
_FOREIGN = {"ForeignKey", "OneToOneField", "ParentalKey"}
_BUILTIN_MODELS = {  # Django's own apps, whose keys are integer AutoFields
    "auth.user": "auth_user",
    "auth.group": "auth_group",
    "auth.permission": "auth_permission",
    "contenttypes.contenttype": "django_content_type",
    "sites.site": "django_site",
}
_EXTENSIONS = {
    "BtreeGinExtension": "btree_gin",
    "BtreeGistExtension": "btree_gist",
    "CITextExtension": "citext",
    "CryptoExtension": "pgcrypto",
    "HStoreExtension": "hstore",
    "TrigramExtension": "pg_trgm",
    "UnaccentExtension": "unaccent",
}
_INDEX_METHODS = {
    "GinIndex": "gin",
    "GistIndex": "gist",
    "BrinIndex": "brin",
    "HashIndex": "hash",
    "SpGistIndex": "spgist",
    "BloomIndex": "bloom",
    "BTreeIndex": None,
    "Index": None,
}
# Operations that change only what Django knows, not the database.
_STATE_ONLY = {
    "AlterModelOptions",
    "AlterModelManagers",
    "AlterModelTableComment",
    "AlterOrderWithRespectTo",
}
_NO_DEFAULT = object()


@dataclass
class _Field:
    name: str
    kind: str
    column: str | None  # None: a many-to-many (its own table)
    type: str
    null: bool = False
    primary_key: bool = False
    unique: bool = False
    db_index: bool = False
    default: Any = _NO_DEFAULT  # what Django fills existing rows with (AddField)
    db_default: str | None = None
    references: tuple[str, str] | None = None  # (table, column)
    constraint: bool = True  # db_constraint
    auto: bool = False  # AutoField: an identity column
    m2m: tuple[str, str] | None = None  # (target table, target model name)
    line: int = 0

    def column_def(self, *, with_default: bool = False) -> Column:
        assert self.column is not None
        default = self.db_default
        if default is None and with_default and self.default is not _NO_DEFAULT:
            default = _sql_default(self.default)
        return Column(
            name=self.column,
            type=self.type,
            not_null=not self.null,
            default=default,
            primary_key=self.primary_key,
            unique=self.unique,
            references=self.references if self.constraint else None,
            deferrable=True,
            identity="BY DEFAULT" if self.auto else None,
            line=self.line,
        )

    @property
    def indexed(self) -> bool:
        """Django gives this field an index of its own (not one from UNIQUE)."""
        return not self.unique and not self.primary_key and self.db_index


@dataclass
class _Model:
    name: str
    table: str
    fields: dict[str, _Field] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # name -> CREATE INDEX text
    constraints: dict[str, str] = field(default_factory=dict)  # name -> ADD text
    unique_together: list[tuple[str, ...]] = field(default_factory=list)
    index_together: list[tuple[str, ...]] = field(default_factory=list)
    managed: bool = True

    def field(self, name: str) -> _Field | None:
        return self.fields.get(name.lower())

    def column(self, name: str) -> str:
        found = self.field(name)
        return found.column if found is not None and found.column else name

    @property
    def pk(self) -> _Field | None:
        return next((f for f in self.fields.values() if f.primary_key), None)


@dataclass
class _File:
    path: Path
    number: str
    name: str
    tree: ast.ClassDef
    operations: ast.expr | None
    operations_line: int
    dependencies: list[str]
    replaces: list[str]
    atomic: bool
    lines: list[str]


def read_django(folder: MigrationFolder, reading: Reading) -> list[Migration]:
    app = folder.path.parent.name
    files = [f for path in sorted(folder.files) if (f := _parse(path, app, reading)) is not None]
    present = {f"{f.number}_{f.name}" for f in files}
    # A squashed migration stands for the ones it replaces; while they are still here,
    # they are the history (Django uses them on a database that applied them).
    kept = []
    for item in files:
        if item.replaces and any(r in present for r in item.replaces):
            reading.note(f"{item.path.name} squashes migrations that are still here: not read")
            continue
        kept.append(item)
    ordered = chain_order(kept, lambda f: f"{f.number}_{f.name}", lambda f: f.dependencies)
    state = _State(app, reading)
    migrations = []
    for position, item in enumerate(ordered, start=1):
        migrations.append(state.migration(item, position))
    return migrations


def _parse(path: Path, app: str, reading: Reading) -> _File | None:
    match = _FILE.match(path.name)
    if match is None:
        return None
    text = reading.text(path)
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        reading.problem(path, exc.lineno or 1, f"Python does not parse: {exc.msg}")
        return None
    except ValueError as exc:
        reading.problem(path, 1, f"Python does not parse: {exc}")
        return None
    cls = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None
    )
    if cls is None:
        reading.not_understood("a migration file without class Migration", path, 1)
        return None
    attributes: dict[str, ast.expr] = {}
    lines: dict[str, int] = {}
    for statement in cls.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    attributes[target.id] = statement.value
                    lines[target.id] = statement.lineno
        elif (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.value is not None
        ):
            attributes[statement.target.id] = statement.value
            lines[statement.target.id] = statement.lineno
    dependencies = []
    for dependency in value(attributes.get("dependencies")) or []:
        if isinstance(dependency, list) and len(dependency) == 2 and dependency[0] == app:
            dependencies.append(str(dependency[1]))
    replaces = [
        str(r[1])
        for r in value(attributes.get("replaces")) or []
        if isinstance(r, list) and len(r) == 2 and r[0] == app
    ]
    return _File(
        path=path,
        number=match["number"],
        name=match["name"],
        tree=cls,
        operations=attributes.get("operations"),
        operations_line=lines.get("operations", cls.lineno),
        dependencies=dependencies,
        replaces=replaces,
        atomic=value(attributes.get("atomic")) is not False,
        lines=text.splitlines(),
    )


class _State:
    """The models of one app as the migrations so far leave them, and the SQL each
    operation runs against that state."""

    def __init__(self, app: str, reading: Reading) -> None:
        self.app = app
        self.reading = reading
        self.models: dict[str, _Model] = {}
        self.path = Path()

    def migration(self, item: _File, position: int) -> Migration:
        self.path = item.path
        up = Statements()
        downs: list[Statements] = []
        reversible = True
        operations = item.operations
        if not isinstance(operations, ast.List):
            self.reading.not_understood(
                "operations built at run time", item.path, item.operations_line
            )
            up.opaque.append(item.operations_line)
            operations = ast.List(elts=[])
        for node in operations.elts:
            down = self.operation(node, up)
            if down is None:
                reversible = False
            else:
                downs.append(down)
        comments = [
            c
            for c in ignore_comments(item.lines, ["#"])
            if item.tree.lineno <= c[0] <= (item.tree.end_lineno or c[0])
        ]
        up_script, _ = script(up, item.path, item.operations_line, comments)
        down_script = None
        if reversible:
            reverse = Statements()
            for down in reversed(downs):
                reverse.extend(down)
            if not reverse:
                reverse.opaque.append(item.operations_line)  # reversible, and nothing to undo
            down_script = pinned(reverse, item.path, item.operations_line)
        return Migration(
            version=item.number,
            name=item.name,
            format="django",
            up=up_script,
            down=down_script,
            transactional=item.atomic,
            files=(item.path,),
            position=position,
        )

    # ---- one operation: its SQL into `up`, and the statements that reverse it (None:
    # Django cannot reverse it)

    def operation(self, node: ast.expr, up: Statements) -> Statements | None:
        if not isinstance(node, ast.Call):
            self.reading.not_understood("an operation that is not a call", self.path, node.lineno)
            up.opaque.append(node.lineno)
            return Statements()
        kind = last_name(node.func)
        down = Statements()
        if kind in _STATE_ONLY:
            return down
        if kind in _EXTENSIONS or kind == "CreateExtension":
            name = _EXTENSIONS.get(kind) or value(call_args(node, ["name"]).get("name"))
            if not isinstance(name, str):
                return self._unknown(node, kind, up)
            up.add(node.lineno, ddl.create_extension(name))
            down.add(node.lineno, ddl.drop_extension(name))
            return down
        handler = getattr(self, f"_{_snake(kind)}", None)
        if handler is None:
            return self._unknown(node, kind, up)
        result = handler(node, up, down)
        return down if result is not False else None

    def _unknown(self, node: ast.Call, kind: str, up: Statements) -> Statements:
        down = Statements()
        self._skip(node, kind, up, down)
        return down

    def _skip(self, node: ast.Call, kind: str, up: Statements, down: Statements) -> bool:
        """An operation whose arguments cannot be read: counted, and neither direction
        is taken for empty."""
        self.reading.not_understood(kind or "an operation", self.path, node.lineno)
        up.opaque.append(node.lineno)
        down.opaque.append(node.lineno)
        return True

    def _model(self, node: ast.Call, key: str = "model_name", line: int = 0) -> _Model | None:
        name = value(call_args(node, [key]).get(key))
        if not isinstance(name, str):
            return None
        found = self.models.get(name.lower())
        if found is None:
            # Created by a migration that is not here (another app's, a squashed one):
            # its table is still known by Django's rule.
            found = _Model(name, f"{self.app}_{name.lower()}")
            self.models[name.lower()] = found
        return found

    # CreateModel / DeleteModel

    def _create_model(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["name", "fields", "options", "bases", "managers"])
        name = value(arguments.get("name"))
        if not isinstance(name, str):
            return self._skip(node, "CreateModel", up, down)
        options = _options(arguments.get("options"))
        table = options.get("db_table")
        model = _Model(name, table if isinstance(table, str) else f"{self.app}_{name.lower()}")
        model.managed = options.get("managed", True) is not False and not options.get("proxy")
        self.models[name.lower()] = model
        fields = arguments.get("fields")
        for element in fields.elts if isinstance(fields, ast.List | ast.Tuple) else []:
            if not (isinstance(element, ast.Tuple) and len(element.elts) == 2):
                continue
            field_name = value(element.elts[0])
            call = element.elts[1]
            if isinstance(field_name, str) and isinstance(call, ast.Call):
                made = self._field(model, field_name, call, element.lineno)
                if made is not None:
                    model.fields[field_name.lower()] = made
        model.unique_together = _together(options.get("unique_together"))
        model.index_together = _together(options.get("index_together"))
        for index in options.get("indexes") or []:
            if isinstance(index, ast.Call):
                made = self._index(model, index)
                if made is not None:
                    model.indexes[made[0]] = made[1]
        for constraint in options.get("constraints") or []:
            if isinstance(constraint, ast.Call):
                made = self._constraint(model, constraint)
                if made is not None:
                    model.constraints[made[0]] = made[1]
        if not model.managed:
            return True  # Django creates no table for it
        end = node.end_lineno or node.lineno
        for parts in self._create_sql(model, node.lineno, end):
            up.add_parts(parts)
        for through in self._through_tables(model):
            down.add(node.lineno, ddl.drop_table(through))
        down.add(node.lineno, ddl.drop_table(model.table))
        return True

    def _create_sql(self, model: _Model, line: int, end: int) -> list[list[tuple[int, str]]]:
        """CREATE TABLE, then the indexes, unique-togethers and constraints Django adds."""
        columns = [f.column_def() for f in model.fields.values() if f.column is not None]
        constraints = [
            (end, f"CONSTRAINT {ddl.ident(_together_name(model, t, 'uniq'))} UNIQUE "
             f"({ddl.columns_list(model.column(c) for c in t)})")
            for t in model.unique_together
        ]  # fmt: skip
        statements = [ddl.create_table_parts(model.table, line, columns, constraints)]
        for item in model.fields.values():
            if item.column is not None and item.indexed:
                statements.append([(item.line or end, _field_index(model, item))])
        for together in model.index_together:
            keys = [model.column(c) for c in together]
            statements.append(
                [(end, ddl.create_index(_together_name(model, together, "idx"), model.table, keys))]
            )
        for text in model.indexes.values():
            statements.append([(end, text)])
        for text in model.constraints.values():
            statements.append([(end, text)])
        for item in model.fields.values():
            if item.m2m is not None:
                statements += [[(item.line or end, sql)] for sql in self._m2m_sql(model, item)]
        return statements

    def _delete_model(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        model = self._model(node, "name")
        if model is None:
            return self._skip(node, "DeleteModel", up, down)
        if model.managed:
            for through in self._through_tables(model):
                up.add(node.lineno, ddl.drop_table(through))
            up.add(node.lineno, ddl.drop_table(model.table))
            for parts in self._create_sql(model, node.lineno, node.lineno):
                down.add_parts(parts)
        del self.models[model.name.lower()]
        return True

    def _rename_model(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["old_name", "new_name"])
        old, new = value(arguments.get("old_name")), value(arguments.get("new_name"))
        if not (isinstance(old, str) and isinstance(new, str)):
            return self._skip(node, "RenameModel", up, down)
        model = self.models.pop(old.lower(), None) or _Model(old, f"{self.app}_{old.lower()}")
        renamed = copy.deepcopy(model)
        renamed.name = new
        if model.table == f"{self.app}_{old.lower()}":
            renamed.table = f"{self.app}_{new.lower()}"
            up.add(node.lineno, ddl.rename_table(model.table, renamed.table))
            down.add(node.lineno, ddl.rename_table(renamed.table, model.table))
        self.models[new.lower()] = renamed
        return True

    def _alter_model_table(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        model = self._model(node, "name")
        table = value(call_args(node, ["name", "table"]).get("table"))
        if model is None:
            return self._skip(node, "AlterModelTable", up, down)
        new = table if isinstance(table, str) else f"{self.app}_{model.name.lower()}"
        if new != model.table:
            up.add(node.lineno, ddl.rename_table(model.table, new))
            down.add(node.lineno, ddl.rename_table(new, model.table))
            model.table = new
        return True

    def _alter_unique_together(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        return self._together(node, up, down, "unique_together")

    def _alter_index_together(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        return self._together(node, up, down, "index_together")

    def _together(self, node: ast.Call, up: Statements, down: Statements, option: str) -> bool:
        model = self._model(node, "name")
        if model is None:
            return self._skip(node, option, up, down)
        new = _together(value(call_args(node, ["name", option]).get(option)))
        old: list[tuple[str, ...]] = getattr(model, option)
        line = node.lineno

        def add(together: tuple[str, ...], into: Statements) -> None:
            keys = [model.column(c) for c in together]
            if option == "unique_together":
                into.add(
                    line, ddl.add_unique(model.table, _together_name(model, together, "uniq"), keys)
                )
            else:
                into.add(
                    line,
                    ddl.create_index(_together_name(model, together, "idx"), model.table, keys),
                )

        def remove(together: tuple[str, ...], into: Statements) -> None:
            if option == "unique_together":
                into.add(
                    line, ddl.drop_constraint(model.table, _together_name(model, together, "uniq"))
                )
            else:
                into.add(line, ddl.drop_index(_together_name(model, together, "idx")))

        for together in old:
            if together not in new:
                remove(together, up)
                add(together, down)
        for together in new:
            if together not in old:
                add(together, up)
                remove(together, down)
        setattr(model, option, new)
        return True

    # Fields

    def _field(self, model: _Model, name: str, call: ast.Call, line: int) -> _Field | None:
        kind = last_name(call.func)
        options = {k.arg: k.value for k in call.keywords if k.arg is not None}
        flags = {k: value(v) for k, v in options.items()}
        made = _Field(name=name, kind=kind, column=None, type="text", line=line)
        made.null = flags.get("null") is True
        made.primary_key = flags.get("primary_key") is True
        made.unique = flags.get("unique") is True or kind == "OneToOneField"
        made.db_index = flags.get("db_index") is True
        if "default" in options:
            made.default = flags["default"]
        elif flags.get("auto_now") is True or flags.get("auto_now_add") is True:
            made.default = Raw("now()")  # Django fills existing rows with the time of migrating
        elif (
            flags.get("blank") is True
            and not made.null
            and kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField")
        ):
            made.default = ""  # Django's effective default for a blank string field
        if "db_default" in options:
            made.db_default = _sql_default(flags["db_default"])
        column = flags.get("db_column")
        if kind in ("ManyToManyField",):
            target = self._target(call, options, model)
            if target is None:
                return None
            made.m2m = target[0], target[2]
            return made
        if kind in _FOREIGN:
            target = self._target(call, options, model)
            if target is None:
                self.reading.not_understood(
                    f"{kind} with a target that is not a literal", self.path, line
                )
                return None
            table, pk_type, _ = target
            to_field = flags.get("to_field")
            made.column = column if isinstance(column, str) else f"{name}_id"
            made.type = pk_type
            made.references = table, to_field if isinstance(to_field, str) else "id"
            made.constraint = flags.get("db_constraint") is not False
            made.db_index = flags.get("db_index", True) is not False
            return made
        made.column = column if isinstance(column, str) else name
        if kind == "ArrayField":
            base = options.get("base_field") or (call.args[0] if call.args else None)
            inner = self._field(model, name, base, line) if isinstance(base, ast.Call) else None
            made.type = (inner.type if inner is not None else "text") + "[]"
            return made
        found = django_type(kind, flags)
        if found is None:
            self.reading.not_understood(f"field type {kind}", self.path, line)
            found = "text"
        made.type = found
        made.auto = kind in DJANGO_AUTO
        if kind == "SlugField" and "db_index" not in flags:
            made.db_index = True
        return made

    def _target(
        self, call: ast.Call, options: dict[str, ast.expr], model: _Model
    ) -> tuple[str, str, str] | None:
        """(table, key type, model name) of what a relation points at."""
        node = options.get("to") or (call.args[0] if call.args else None)
        target = value(node)
        if target is UNKNOWN and dotted(node).endswith("AUTH_USER_MODEL"):
            target = "auth.User"
        if not isinstance(target, str):
            return None
        if target == "self":
            pk = model.pk
            return model.table, pk.type if pk is not None else "bigint", model.name.lower()
        app, _, model = target.rpartition(".")
        app = app or self.app
        key = f"{app}.{model.lower()}"
        if key in _BUILTIN_MODELS:
            return _BUILTIN_MODELS[key], "integer", model.lower()
        if app == self.app and model.lower() in self.models:
            found = self.models[model.lower()]
            pk = found.pk
            kind = pk.type if pk is not None else "bigint"
            return found.table, kind, model.lower()
        return f"{app}_{model.lower()}", "bigint", model.lower()

    def _add_field(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["model_name", "name", "field", "preserve_default"])
        model = self._model(node)
        name = value(arguments.get("name"))
        call = arguments.get("field")
        if model is None or not isinstance(name, str) or not isinstance(call, ast.Call):
            return self._skip(node, "AddField", up, down)
        made = self._field(model, name, call, node.lineno)
        if made is None:
            return True
        made.line = node.lineno
        model.fields[name.lower()] = made
        if not model.managed:
            return True
        for sql in self._add_sql(model, made):
            up.add(node.lineno, sql)
        for sql in self._remove_sql(model, made):
            down.add(node.lineno, sql)
        return True

    def _add_sql(self, model: _Model, item: _Field) -> list[str]:
        if item.m2m is not None:
            return self._m2m_sql(model, item)
        statements = [ddl.add_column(model.table, item.column_def(with_default=True))]
        if item.indexed:
            statements.append(_field_index(model, item))
        return statements

    def _remove_sql(self, model: _Model, item: _Field) -> list[str]:
        if item.m2m is not None:
            return [ddl.drop_table(_through_name(model, item))]
        assert item.column is not None
        return [ddl.drop_column(model.table, item.column)]

    def _remove_field(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        model = self._model(node)
        name = value(call_args(node, ["model_name", "name"]).get("name"))
        if model is None or not isinstance(name, str):
            return self._skip(node, "RemoveField", up, down)
        item = model.fields.pop(name.lower(), None)
        if item is None:
            up.add(node.lineno, ddl.drop_column(model.table, name))
            self.reading.note(
                f"RemoveField {model.name}.{name} at {self.reading.where(self.path, node.lineno)}: "
                "its definition is in no migration here, so its reverse is not known"
            )
            down.opaque.append(node.lineno)
            return True
        if model.managed:
            for sql in self._remove_sql(model, item):
                up.add(node.lineno, sql)
            for sql in self._add_sql(model, item):
                down.add(node.lineno, sql)
        return True

    def _alter_field(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["model_name", "name", "field", "preserve_default"])
        model = self._model(node)
        name = value(arguments.get("name"))
        call = arguments.get("field")
        if model is None or not isinstance(name, str) or not isinstance(call, ast.Call):
            return self._skip(node, "AlterField", up, down)
        new = self._field(model, name, call, node.lineno)
        old = model.fields.get(name.lower())
        if new is None:
            return True
        model.fields[name.lower()] = new
        if old is None:
            self.reading.note(
                f"AlterField {model.name}.{name} at {self.reading.where(self.path, node.lineno)}: "
                "its earlier definition is in no migration here, so the change is not linted"
            )
            return True
        if model.managed:
            for sql in _field_change(model, old, new):
                up.add(node.lineno, sql)
            for sql in _field_change(model, new, old):
                down.add(node.lineno, sql)
        return True

    def _rename_field(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["model_name", "old_name", "new_name"])
        model = self._model(node)
        old, new = value(arguments.get("old_name")), value(arguments.get("new_name"))
        if model is None or not (isinstance(old, str) and isinstance(new, str)):
            return self._skip(node, "RenameField", up, down)
        item = model.fields.pop(old.lower(), None)
        if item is None:
            up.add(node.lineno, ddl.rename_column(model.table, old, new))
            down.add(node.lineno, ddl.rename_column(model.table, new, old))
            return True
        renamed = copy.copy(item)
        renamed.name = new
        if item.column is not None and item.column in (old, f"{old}_id"):
            renamed.column = item.column.replace(old, new, 1)
            up.add(node.lineno, ddl.rename_column(model.table, item.column, renamed.column))
            down.add(node.lineno, ddl.rename_column(model.table, renamed.column, item.column))
        model.fields[new.lower()] = renamed
        return True

    # Indexes and constraints

    def _index(
        self, model: _Model, node: ast.Call, *, concurrently: bool = False
    ) -> tuple[str, str] | None:
        kind = last_name(node.func)
        if kind not in _INDEX_METHODS:
            self.reading.not_understood(f"index type {kind}", self.path, node.lineno)
            return None
        flags = {k.arg: value(k.value) for k in node.keywords if k.arg is not None}
        keys: list[str | Raw] = []
        for name in flags.get("fields") or []:
            if isinstance(name, str):
                column = model.column(name.lstrip("-"))
                keys.append(Raw(f"{ddl.ident(column)} DESC") if name.startswith("-") else column)
        keys += [Raw("(NULL)") for _ in node.args]  # expressions: models.functions.Lower(...)
        name = flags.get("name")
        if not isinstance(name, str):
            name = f"{model.table}_{'_'.join(str(k) for k in keys)}_idx"
        condition = None
        for keyword in node.keywords:
            if keyword.arg == "condition":
                condition = _q(keyword.value, model)
        return name, ddl.create_index(
            name,
            model.table,
            keys or [Raw("(NULL)")],
            concurrently=concurrently,
            using=_INDEX_METHODS[kind],
            where=condition,
        )

    def _constraint(
        self, model: _Model, node: ast.Call, *, not_valid: bool = False
    ) -> tuple[str, str] | None:
        kind = last_name(node.func)
        flags = {k.arg: value(k.value) for k in node.keywords if k.arg is not None}
        name = flags.get("name")
        if not isinstance(name, str):
            return None
        if kind == "UniqueConstraint":
            columns = [model.column(f) for f in flags.get("fields") or [] if isinstance(f, str)]
            condition = next((k.value for k in node.keywords if k.arg == "condition"), None)
            if condition is not None or not columns:
                where = _q(condition, model) if condition is not None else None
                keys: list[str | Raw] = list(columns) or [Raw("(NULL)")]
                return name, ddl.create_index(name, model.table, keys, unique=True, where=where)
            return name, ddl.add_unique(model.table, name, columns)
        if kind == "CheckConstraint":
            check = next((k.value for k in node.keywords if k.arg in ("check", "condition")), None)
            condition = _q(check, model) if check is not None else "true"
            return name, ddl.add_check(model.table, name, condition, not_valid=not_valid)
        self.reading.not_understood(f"constraint type {kind}", self.path, node.lineno)
        return None

    def _add_index(
        self, node: ast.Call, up: Statements, down: Statements, *, concurrently: bool = False
    ) -> bool:
        model = self._model(node)
        index = call_args(node, ["model_name", "index"]).get("index")
        if model is None or not isinstance(index, ast.Call):
            return self._skip(node, "AddIndex", up, down)
        made = self._index(model, index, concurrently=concurrently)
        if made is None:
            up.opaque.append(node.lineno)
            return True
        model.indexes[made[0]] = made[1]
        up.add(node.lineno, made[1])
        down.add(node.lineno, ddl.drop_index(made[0], concurrently=concurrently))
        return True

    def _add_index_concurrently(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        return self._add_index(node, up, down, concurrently=True)

    def _remove_index(
        self, node: ast.Call, up: Statements, down: Statements, *, concurrently: bool = False
    ) -> bool:
        model = self._model(node)
        name = value(call_args(node, ["model_name", "name"]).get("name"))
        if model is None or not isinstance(name, str):
            return self._skip(node, "RemoveIndex", up, down)
        up.add(node.lineno, ddl.drop_index(name, concurrently=concurrently))
        created = model.indexes.pop(name, None)
        if created is not None:
            if concurrently:
                created = created.replace("INDEX ", "INDEX CONCURRENTLY ", 1)
            down.add(node.lineno, created)
        else:
            down.opaque.append(node.lineno)
        return True

    def _remove_index_concurrently(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        return self._remove_index(node, up, down, concurrently=True)

    def _rename_index(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["model_name", "new_name", "old_name", "old_fields"])
        model = self._model(node)
        new, old = value(arguments.get("new_name")), value(arguments.get("old_name"))
        if model is None or not isinstance(new, str):
            return self._skip(node, "RenameIndex", up, down)
        if not isinstance(old, str):
            fields = value(arguments.get("old_fields")) or []
            old = _together_name(model, tuple(str(f) for f in fields), "idx")
        up.add(node.lineno, ddl.rename_index(old, new))
        down.add(node.lineno, ddl.rename_index(new, old))
        if old in model.indexes:
            model.indexes[new] = model.indexes.pop(old).replace(ddl.ident(old), ddl.ident(new), 1)
        return True

    def _add_constraint(
        self, node: ast.Call, up: Statements, down: Statements, *, not_valid: bool = False
    ) -> bool:
        model = self._model(node)
        constraint = call_args(node, ["model_name", "constraint"]).get("constraint")
        if model is None or not isinstance(constraint, ast.Call):
            return self._skip(node, "AddConstraint", up, down)
        made = self._constraint(model, constraint, not_valid=not_valid)
        if made is None:
            up.opaque.append(node.lineno)
            return True
        name, sql = made
        model.constraints[name] = sql
        up.add(node.lineno, sql)
        down.add(node.lineno, _drop_constraint_sql(model, name, sql))
        return True

    def _add_constraint_not_valid(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        return self._add_constraint(node, up, down, not_valid=True)

    def _remove_constraint(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        model = self._model(node)
        name = value(call_args(node, ["model_name", "name"]).get("name"))
        if model is None or not isinstance(name, str):
            return self._skip(node, "RemoveConstraint", up, down)
        created = model.constraints.pop(name, None)
        up.add(node.lineno, _drop_constraint_sql(model, name, created or ""))
        if created is not None:
            down.add(node.lineno, created)
        else:
            down.opaque.append(node.lineno)
        return True

    def _validate_constraint(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        model = self._model(node)
        name = value(call_args(node, ["model_name", "name"]).get("name"))
        if model is None or not isinstance(name, str):
            return self._skip(node, "ValidateConstraint", up, down)
        up.add(node.lineno, ddl.validate_constraint(model.table, name))
        return True

    # Code

    def _run_sql(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["sql", "reverse_sql", "state_operations", "hints", "elidable"])
        if not self._sql_into(arguments.get("sql"), up, node.lineno):
            self.reading.not_understood("RunSQL with SQL built at run time", self.path, node.lineno)
            up.opaque.append(node.lineno)
        self._state_operations(arguments.get("state_operations"))
        reverse = arguments.get("reverse_sql")
        if reverse is None or value(reverse) is None:
            self.reading.cannot_reverse("RunSQL without reverse_sql", self.path, node.lineno)
            return False
        if not self._sql_into(reverse, down, node.lineno):
            down.opaque.append(node.lineno)
        return True

    def _sql_into(self, node: ast.expr | None, into: Statements, line: int) -> bool:
        """RunSQL's sql / reverse_sql: a string, a list of strings or (sql, params), or
        RunSQL.noop."""
        if node is None or dotted(node).endswith("noop"):
            return True
        items = node.elts if isinstance(node, ast.List | ast.Tuple) else [node]
        for item in items:
            if isinstance(item, ast.Tuple | ast.List) and item.elts:
                item = item.elts[0]  # (sql, params)
            text = value(item)
            if not isinstance(text, str):
                return False
            into.literal(getattr(item, "lineno", line), text)
        return True

    def _run_python(self, node: ast.Call, up: Statements, down: Statements) -> bool:
        arguments = call_args(node, ["code", "reverse_code", "atomic", "hints", "elidable"])
        self.reading.not_understood("RunPython (Python code)", self.path, node.lineno)
        up.opaque.append(node.lineno)
        reverse = arguments.get("reverse_code")
        if reverse is None or value(reverse) is None:
            self.reading.cannot_reverse("RunPython without reverse_code", self.path, node.lineno)
            return False
        if not dotted(reverse).endswith("noop"):
            down.opaque.append(node.lineno)
        return True

    def _separate_database_and_state(
        self, node: ast.Call, up: Statements, down: Statements
    ) -> bool:
        arguments = call_args(node, ["database_operations", "state_operations"])
        database = arguments.get("database_operations")
        # The database operations run against a copy: what Django records is the state
        # operations' result.
        real = self.models
        self.models = copy.deepcopy(real)
        reversible = True
        downs: list[Statements] = []
        for item in database.elts if isinstance(database, ast.List | ast.Tuple) else []:
            result = self.operation(item, up)
            if result is None:
                reversible = False
            else:
                downs.append(result)
        self.models = real
        self._state_operations(arguments.get("state_operations"))
        for result in reversed(downs):
            down.extend(result)
        return reversible

    def _state_operations(self, node: ast.expr | None) -> None:
        if not isinstance(node, ast.List | ast.Tuple):
            return
        for item in node.elts:
            self.operation(item, Statements())

    # Helpers that need the state

    def _through_tables(self, model: _Model) -> list[str]:
        return [_through_name(model, f) for f in model.fields.values() if f.m2m is not None]

    def _m2m_sql(self, model: _Model, item: _Field) -> list[str]:
        """The table Django creates for a ManyToManyField without `through`."""
        assert item.m2m is not None
        target_table, target = item.m2m
        table = _through_name(model, item)
        source = model.name.lower()
        source_column, target_column = f"{source}_id", f"{target}_id"
        if source_column == target_column:
            source_column, target_column = f"from_{source}_id", f"to_{target}_id"
        pk = model.pk
        source_type = pk.type if pk is not None else "bigint"
        columns = [
            Column("id", "bigint", primary_key=True, identity="BY DEFAULT"),
            Column(
                source_column,
                source_type,
                not_null=True,
                references=(model.table, "id"),
                deferrable=True,
            ),
            Column(
                target_column,
                "bigint",
                not_null=True,
                references=(target_table, "id"),
                deferrable=True,
            ),
        ]
        create = " ".join(t for _, t in ddl.create_table_parts(table, 0, columns))
        return [
            create,
            ddl.add_unique(table, f"{table}_uniq", [source_column, target_column]),
            ddl.create_index(f"{table}_{target_column}_idx", table, [target_column]),
        ]


def _field_change(model: _Model, old: _Field, new: _Field) -> list[str]:
    """What Django's schema editor runs to turn `old` into `new` (AlterField)."""
    if old.column is None or new.column is None:
        return []
    table, column = model.table, old.column
    statements = []
    if new.column != old.column:
        statements.append(ddl.rename_column(table, old.column, new.column))
        column = new.column
    if (
        old.references is not None
        and old.constraint
        and (new.references != old.references or not new.constraint)
    ):
        statements.append(ddl.drop_constraint(table, _fk_name(model, old)))
    if old.type != new.type:
        using = f"{ddl.ident(column)}::{new.type}"
        statements.append(ddl.alter_type(table, column, new.type, using))
    if old.null and not new.null:
        if new.default is not _NO_DEFAULT:
            statements.append(ddl.backfill_nulls(table, column, _sql_default(new.default)))
        statements.append(ddl.set_not_null(table, column))
    elif new.null and not old.null:
        statements.append(ddl.set_not_null(table, column, False))
    if old.db_default != new.db_default:
        statements.append(ddl.set_default(table, column, new.db_default))
    if new.unique and not old.unique and not new.primary_key:
        statements.append(ddl.add_unique(table, f"{table}_{column}_uniq", [column]))
    elif old.unique and not new.unique and not old.primary_key:
        statements.append(ddl.drop_constraint(table, f"{table}_{old.column}_uniq"))
    if new.indexed and not old.indexed:
        statements.append(_field_index(model, new))
    elif old.indexed and not new.indexed:
        statements.append(ddl.drop_index(f"{table}_{old.column}_idx"))
    if (
        new.references is not None
        and new.constraint
        and (new.references != old.references or not old.constraint)
    ):
        target, key = new.references
        statements.append(
            ddl.add_foreign_key(
                table, _fk_name(model, new), [column], target, [key], deferrable=True
            )
        )
    return statements


def _field_index(model: _Model, item: _Field) -> str:
    assert item.column is not None
    return ddl.create_index(f"{model.table}_{item.column}_idx", model.table, [item.column])


def _fk_name(model: _Model, item: _Field) -> str:
    target = item.references[0] if item.references else ""
    return f"{model.table}_{item.column}_fk_{target}"


def _through_name(model: _Model, item: _Field) -> str:
    return f"{model.table}_{item.name.lower()}"


def _together_name(model: _Model, together: tuple[str, ...], suffix: str) -> str:
    return f"{model.table}_{'_'.join(model.column(c) for c in together)}_{suffix}"


def _drop_constraint_sql(model: _Model, name: str, created: str) -> str:
    if created.startswith("CREATE "):  # a conditional UniqueConstraint is an index
        return ddl.drop_index(name)
    return ddl.drop_constraint(model.table, name)


def _options(node: ast.expr | None) -> dict[str, Any]:
    """CreateModel's options: literals, except indexes and constraints (their calls)."""
    if not isinstance(node, ast.Dict):
        return {}
    found: dict[str, Any] = {}
    for key, item in zip(node.keys, node.values, strict=True):
        name = value(key)
        if not isinstance(name, str):
            continue
        if name in ("indexes", "constraints") and isinstance(item, ast.List | ast.Tuple):
            found[name] = list(item.elts)
        else:
            found[name] = value(item)
    return found


def _together(option: Any) -> list[tuple[str, ...]]:
    """unique_together / index_together: one tuple of names, or a set of them."""
    if not isinstance(option, list) or not option:
        return []
    if all(isinstance(o, str) for o in option):
        return [tuple(option)]
    return [tuple(str(n) for n in o) for o in option if isinstance(o, list)]


_LOOKUPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _q(node: ast.expr, model: _Model) -> str:
    """A Q(...) condition as SQL, as far as it is literal lookups; what is not becomes
    `true` (a CHECK the rules then only know exists)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd | ast.BitOr):
        joiner = " AND " if isinstance(node.op, ast.BitAnd) else " OR "
        return f"({_q(node.left, model)}{joiner}{_q(node.right, model)})"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return f"NOT ({_q(node.operand, model)})"
    if not (isinstance(node, ast.Call) and last_name(node.func) == "Q"):
        return "true"
    terms = []
    lookups = [(k.arg, k.value) for k in node.keywords if k.arg is not None]
    for item in node.args:
        if isinstance(item, ast.Tuple) and len(item.elts) == 2:
            key = value(item.elts[0])
            if isinstance(key, str):
                lookups.append((key, item.elts[1]))
        else:
            terms.append(_q(item, model))
    for key, raw in lookups:
        name, _, lookup = key.partition("__")
        column = ddl.ident(model.column(name))
        if isinstance(raw, ast.Call) and last_name(raw.func) == "F" and raw.args:
            other = value(raw.args[0])
            right = ddl.ident(model.column(other)) if isinstance(other, str) else "NULL"
        else:
            literal = value(raw)
            if literal is UNKNOWN:
                terms.append("true")
                continue
            right = ddl.literal(literal) if not isinstance(literal, list) else ""
            if lookup == "in" and isinstance(literal, list):
                right = "(" + ", ".join(ddl.literal(v) for v in literal) + ")"
        if lookup == "isnull":
            terms.append(f"{column} IS {'' if value(raw) else 'NOT '}NULL")
        elif lookup == "in":
            terms.append(f"{column} IN {right}")
        elif lookup in ("", *_LOOKUPS):
            terms.append(f"{column} {_LOOKUPS.get(lookup or 'exact')} {right}")
        else:
            terms.append("true")
    return " AND ".join(terms) or "true"


def _sql_default(default: Any) -> str:
    if default is UNKNOWN:
        return "'?'"  # a callable (timezone.now, uuid.uuid4): Django calls it once, a constant
    return ddl.literal(default)


def _snake(name: str) -> str:
    """RunSQL → run_sql, AddIndexConcurrently → add_index_concurrently."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
