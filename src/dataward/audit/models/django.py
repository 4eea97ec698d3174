"""Django models read from their syntax tree (never imported): the tables `migrate` would
create on PostgreSQL for the models as they stand.

Read: `models.py` and `models/*.py` of an app (the app label is the directory holding
models.py or models/, or an AppConfig's `label` / `name` in the app's apps.py, or
Meta.app_label); classes deriving from models.Model directly or through other models read
(abstract bases' fields are inherited, on the class line; a concrete base makes
multi-table inheritance, with the `<parent>_ptr_id` key); fields by their class (pgtypes'
Django mapping; ArrayField of a known base field), null=, primary_key=, unique=,
db_index=, db_column=; ForeignKey / OneToOneField as `<name>_id` with the target's key
type, a DEFERRABLE foreign key (unless db_constraint=False) and the index Django creates
(unless db_index=False or the column is unique); ManyToManyField without `through` as its
join table; Meta db_table, abstract, proxy, managed, indexes, constraints
(UniqueConstraint), unique_together, index_together. varchar and text columns with an index
or unique get Django's second `_like` (pattern ops) index, which counts towards the index
limit as it does in the database.

Django on PostgreSQL: every field is NOT NULL unless null=True; DateTimeField is
timestamp with time zone; JSONField is jsonb; auto fields are identity columns (Django
4.1+). The implicit primary key is `id` of the app's `default_auto_field`, else
DEFAULT_AUTO_FIELD from the settings, else AutoField when a settings module without it
is found (Django's default before 6.0), else BigAutoField (what startproject writes):
the notes say which.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dataward.audit.formats import ddl
from dataward.audit.formats.ddl import Column, Raw, ident, qname
from dataward.audit.formats.pgtypes import DJANGO_AUTO, django_type
from dataward.audit.formats.pyast import dotted, last_name, value
from dataward.audit.models.tables import (
    UNKNOWN_TYPE,
    ModelTable,
    columns_sql,
    schema_sql,
    unknown_note,
)
from dataward.audit.schema_sql import SchemaSql

ORIGIN = "Django models"
Problem = tuple[str, int, str]

_RELATIONS = {"ForeignKey", "OneToOneField"}
_NOT_COLUMNS = {"ManyToManyField", "GenericRelation", "GenericForeignKey"}
_LIKE_TYPES = ("varchar", "text")
# django.contrib.postgres.indexes
_INDEX_METHODS = {
    "GinIndex": "gin", "GistIndex": "gist", "BrinIndex": "brin", "HashIndex": "hash",
    "SpGistIndex": "spgist", "BloomIndex": "bloom", "BTreeIndex": "btree",
}  # fmt: skip  # Django adds a pattern-ops index for these
_META_KEYS = {
    "db_table", "abstract", "proxy", "managed", "app_label", "indexes", "constraints",
    "unique_together", "index_together",
}  # fmt: skip


def is_models_file(path: Path) -> bool:
    return path.suffix == ".py" and (path.name == "models.py" or path.parent.name == "models")


def _imports_django(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "django" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "django":
            return True
    return False


@dataclass
class _File:
    path: Path
    relative: str
    text: str
    tree: ast.Module
    app: str
    django: bool
    tables: list[ModelTable] = field(default_factory=list)


@dataclass
class _Model:
    name: str
    node: ast.ClassDef
    file: _File
    meta: dict[str, tuple[ast.expr, int]] = field(default_factory=dict)
    has_meta: bool = False
    table: ModelTable | None = None
    built: bool = False
    columns: dict[str, str] = field(default_factory=dict)  # field name -> column
    pk: tuple[str, str] | None = None  # (column, type as referencing columns see it)

    @property
    def bases(self) -> list[str]:
        return [last_name(b) for b in self.node.bases]

    def meta_value(self, key: str) -> Any:
        found = self.meta.get(key)
        return value(found[0]) if found else None


@dataclass
class Settings:
    """What the project's settings and apps.py files say, read from their syntax tree."""

    auto_field: str | None = None  # DEFAULT_AUTO_FIELD
    auto_field_file: str | None = None
    settings_file: str | None = None  # a settings module (INSTALLED_APPS) was found
    user_model: str | None = None  # AUTH_USER_MODEL
    app_auto: dict[str, str] = field(default_factory=dict)  # app label -> auto field
    app_labels: dict[Path, str] = field(default_factory=dict)  # app directory -> label

    def read(self, path: Path, text: str, relative: str) -> None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return
        names: dict[str, ast.expr] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = node.value
            elif isinstance(node, ast.ClassDef) and path.name == "apps.py":
                self._app_config(node, path)
        auto = value(names.get("DEFAULT_AUTO_FIELD"))
        if isinstance(auto, str):
            self.auto_field, self.auto_field_file = auto.rsplit(".", 1)[-1], relative
        if "INSTALLED_APPS" in names and self.settings_file is None:
            self.settings_file = relative
        user = value(names.get("AUTH_USER_MODEL"))
        if isinstance(user, str):
            self.user_model = user

    def _app_config(self, node: ast.ClassDef, path: Path) -> None:
        if not any(last_name(b) == "AppConfig" for b in node.bases):
            return
        found: dict[str, Any] = {}
        for statement in node.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                found[statement.targets[0].id] = value(statement.value)
        name = found.get("name")
        label = found.get("label")
        if not isinstance(label, str):
            label = name.rsplit(".", 1)[-1] if isinstance(name, str) else path.parent.name
        self.app_labels[path.parent] = label
        auto = found.get("default_auto_field")
        if isinstance(auto, str):
            self.app_auto[label] = auto.rsplit(".", 1)[-1]

    def default_auto(self) -> tuple[str, str]:
        """(auto field class, where it comes from)."""
        if self.auto_field:
            return self.auto_field, f"DEFAULT_AUTO_FIELD in {self.auto_field_file}"
        if self.settings_file:
            return "AutoField", (
                f"{self.settings_file} sets no DEFAULT_AUTO_FIELD: Django's default before "
                "6.0, AutoField (integer), is assumed"
            )
        return "BigAutoField", (
            "no settings module found: BigAutoField (bigint), what startproject writes, is assumed"
        )


class _Reader:
    def __init__(self, relative: Callable[[Path], str], settings: Settings) -> None:
        self.relative = relative
        self.settings = settings
        self.files: list[_File] = []
        self.models: list[_Model] = []
        self.problems: list[Problem] = []
        self.not_understood: list[str] = []
        self.unmanaged: list[str] = []
        self.default_auto, self.auto_source = settings.default_auto()
        self.index_names: set[str] = set()
        self.by_name: dict[str, list[_Model]] = {}
        self.outside: set[str] = set()  # relation targets not among the files read
        self.model_cache: dict[int, bool] = {}

    # ---- pass 1 -------------------------------------------------------------------------

    def add_file(self, path: Path, text: str) -> None:
        try:
            tree = ast.parse(text, filename=str(path))
        except SyntaxError as exc:
            self.problems.append(
                (self.relative(path), exc.lineno or 1, f"Python does not parse: {exc.msg}")
            )
            return
        except ValueError as exc:
            self.problems.append((self.relative(path), 1, f"Python does not parse: {exc}"))
            return
        app_dir = path.parent if path.name == "models.py" else path.parent.parent
        app = self.settings.app_labels.get(app_dir, app_dir.name)
        file = _File(path, self.relative(path), text, tree, app, _imports_django(tree))
        self.files.append(file)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                model = _Model(node.name, node, file)
                for statement in node.body:
                    if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
                        model.has_meta = True
                        for item in statement.body:
                            target = _target(item)
                            if target in _META_KEYS:
                                model.meta[target] = (item.value, item.lineno)  # type: ignore[attr-defined]
                self.models.append(model)
                self.by_name.setdefault(model.name, []).append(model)

    # ---- what is a model, and its table -----------------------------------------------

    def _known(self, name: str, near: _File) -> _Model | None:
        """A class read by name: the same file's first, then the same app's, then any."""
        same = self.by_name.get(name, [])
        for model in same:
            if model.file is near:
                return model
        for model in same:
            if model.file.app == near.app:
                return model
        return same[0] if same else None

    def _is_model(self, model: _Model, seen: frozenset[str] = frozenset()) -> bool:
        cached = self.model_cache.get(id(model))
        if cached is None:
            cached = self.model_cache[id(model)] = self._derives_model(model, seen)
        return cached

    def _derives_model(self, model: _Model, seen: frozenset[str]) -> bool:
        if model.name in seen:
            return False
        for base in model.node.bases:
            name = last_name(base)
            known = self._known(name, model.file)
            if known is not None and known is not model:
                if self._is_model(known, seen | {model.name}):
                    return True
            elif name == "Model" and model.file.django:
                return True
            elif name.endswith("Model") and model.file.django and known is None:
                # A model base from a library (TimeStampedModel): a model whose inherited
                # fields are not read.
                self.not_understood.append(
                    f"fields inherited from {dotted(base) or name} by {model.name} at "
                    f"{model.file.relative}:{model.node.lineno}"
                )
                return True
        return False

    def _app(self, model: _Model) -> str:
        label = model.meta_value("app_label")
        return label if isinstance(label, str) else model.file.app

    def _abstract(self, model: _Model) -> bool:
        return model.meta_value("abstract") is True

    def _table_name(self, model: _Model) -> str:
        named = self._meta(model, "db_table")
        if isinstance(named, str):
            return named
        return f"{self._app(model)}_{model.name.lower()}"

    def _meta(self, model: _Model, key: str) -> Any:
        """A Meta option, inherited from an abstract base when the model declares no Meta
        (Django's rule), except `abstract` itself."""
        if key in model.meta:
            return model.meta_value(key)
        if model.has_meta or key == "abstract":
            return None
        for parent in self._parents(model):
            if self._abstract(parent):
                found = self._meta(parent, key)
                if found is not None:
                    return found
        return None

    def _meta_node(self, model: _Model, key: str) -> tuple[ast.expr, int] | None:
        if key in model.meta:
            return model.meta[key]
        if model.has_meta:
            return None
        for parent in self._parents(model):
            if self._abstract(parent):
                found = self._meta_node(parent, key)
                if found is not None:
                    return found
        return None

    def _parents(self, model: _Model) -> list[_Model]:
        found = []
        for base in model.bases:
            known = self._known(base, model.file)
            if known is not None and known is not model and self._is_model(known):
                found.append(known)
        return found

    def _concrete_parent(self, model: _Model) -> _Model | None:
        for parent in self._parents(model):
            if not self._abstract(parent) and not self._meta(parent, "proxy"):
                return parent
            if self._abstract(parent):
                found = self._concrete_parent(parent)
                if found is not None:
                    return found
        return None

    def _field_statements(self, model: _Model) -> list[tuple[ast.stmt, _Model]]:
        """The model's fields: inherited from abstract bases (furthest first), then its own."""
        found: list[tuple[ast.stmt, _Model]] = []
        for parent in self._parents(model):
            if self._abstract(parent):
                found += self._field_statements(parent)
        found += [(s, model) for s in model.node.body if _field_call(s) is not None]
        return found

    def _auto_type(self, app: str) -> tuple[str | None, str]:
        """(type of the implicit id, auto field class)."""
        auto = self.settings.app_auto.get(app, self.default_auto)
        return DJANGO_AUTO.get(auto), auto

    def pk_of(self, model: _Model, seen: frozenset[str] = frozenset()) -> tuple[str, str]:
        """(column, type) of a model's primary key, as a referencing column types it."""
        if model.pk is not None:
            return model.pk
        if model.name in seen:
            return "id", "bigint"
        for statement, _ in self._field_statements(model):
            call = _field_call(statement)
            assert call is not None
            if _kwarg(call, "primary_key") is True:
                name = _target(statement) or "id"
                kind = last_name(call.func)
                column = _kwarg(call, "db_column")
                if kind in _RELATIONS:
                    target = self._target(call, model)
                    column = column if isinstance(column, str) else f"{name}_id"
                    found = (column, target[2] if target else "bigint")
                else:
                    sql = django_type(kind, _literal_kwargs(call))
                    found = (column if isinstance(column, str) else name, sql or UNKNOWN_TYPE)
                model.pk = found
                return found
        parent = self._concrete_parent(model)
        if parent is not None:
            column, kind = self.pk_of(parent, seen | {model.name})
            model.pk = (f"{parent.name.lower()}_ptr_id", kind)
            return model.pk
        auto, _ = self._auto_type(self._app(model))
        model.pk = ("id", auto or UNKNOWN_TYPE)
        return model.pk

    def _target(self, call: ast.Call, model: _Model) -> tuple[str, str, str] | None:
        """(table, column, type) a ForeignKey / OneToOneField / M2M points at."""
        node = call.args[0] if call.args else _kwarg_node(call, "to")
        literal = value(node)
        target: _Model | None = None
        if isinstance(literal, str) and literal == "self":
            target = model
        elif isinstance(literal, str):
            app, _, name = literal.rpartition(".")
            candidates = [m for m in self.by_name.get(name, []) if self._is_model(m)]
            target = next((m for m in candidates if not app or self._app(m) == app), None)
            if target is None:
                if app == "auth" and name == "User":
                    return "auth_user", "id", "integer"  # contrib.auth: AutoField
                table = f"{(app or self._app(model))}_{name.lower()}"
                auto, _ = self._auto_type(app or self._app(model))
                return table, "id", auto or "bigint"
        elif isinstance(node, ast.Name | ast.Attribute) and last_name(node) == "AUTH_USER_MODEL":
            user = self.settings.user_model or "auth.User"
            app, _, name = user.rpartition(".")
            target = next((m for m in self.by_name.get(name, []) if self._app(m) == app), None)
            if target is None:
                if user == "auth.User":
                    return "auth_user", "id", "integer"
                auto, _ = self._auto_type(app)
                return f"{app}_{name.lower()}", "id", auto or "bigint"
        elif isinstance(node, ast.Name | ast.Attribute):
            target = self._known(last_name(node), model.file)
            if target is None:
                # A model from a file not read (another package): its table by Django's
                # naming in this app, its key of the app's auto field type.
                name = last_name(node)
                auto, _ = self._auto_type(self._app(model))
                self.outside.add(name)
                return f"{self._app(model)}_{name.lower()}", "id", auto or "bigint"
        if target is None:
            return None
        column, kind = self.pk_of(target)
        to_field = _kwarg(call, "to_field")
        if isinstance(to_field, str):
            column, kind = self._field_column(target, to_field)
        return self._table_name(target), column, kind

    def _field_column(self, model: _Model, name: str) -> tuple[str, str]:
        for statement, _ in self._field_statements(model):
            if _target(statement) == name:
                call = _field_call(statement)
                assert call is not None
                column = _kwarg(call, "db_column")
                sql = django_type(last_name(call.func), _literal_kwargs(call))
                return (column if isinstance(column, str) else name, sql or UNKNOWN_TYPE)
        return name, UNKNOWN_TYPE

    # ---- pass 2: tables -----------------------------------------------------------------

    def read(self) -> None:
        for model in self.models:
            if not self._is_model(model) or self._abstract(model):
                continue
            if self._meta(model, "proxy") is True:
                continue
            if self._meta(model, "managed") is False:
                self.unmanaged.append(f"{model.name} at {model.file.relative}:{model.node.lineno}")
                continue
            model.file.tables.append(self._build(model))

    def _build(self, model: _Model) -> ModelTable:
        name = self._table_name(model)
        line = model.node.lineno
        table = ModelTable(name, line)
        model.table = table
        parent = self._concrete_parent(model)
        explicit_pk = any(
            _kwarg(_field_call(s), "primary_key") is True  # type: ignore[arg-type]
            for s, _ in self._field_statements(model)
        )
        if parent is not None and not explicit_pk:
            column, kind = self.pk_of(model)
            target_column, _ = self.pk_of(parent)
            table.add_column(
                Column(
                    column,
                    kind,
                    primary_key=True,
                    references=(self._table_name(parent), target_column),
                    deferrable=True,
                    line=line,
                )
            )
        elif not explicit_pk:
            kind, auto = self._auto_type(self._app(model))
            column = Column("id", kind or UNKNOWN_TYPE, primary_key=True, line=line)
            column.identity = "BY DEFAULT" if kind else None
            table.add_column(column, None if kind else auto)
        for statement, owner in self._field_statements(model):
            where = line if owner is not model else statement.lineno
            self._field(statement, model, table, where)
        self._meta_indexes(model, table)
        return table

    def _field(self, statement: ast.stmt, model: _Model, table: ModelTable, line: int) -> None:
        call = _field_call(statement)
        name = _target(statement)
        if call is None or name is None:
            return
        kind = last_name(call.func)
        kwargs = _literal_kwargs(call)
        db_column = kwargs.get("db_column")
        if kind == "ManyToManyField":
            if "through" not in kwargs:
                self._join_table(call, name, model, table, line)
            return
        if kind in _NOT_COLUMNS:
            return
        primary = kwargs.get("primary_key") is True
        unique = primary or kwargs.get("unique") is True or kind == "OneToOneField"
        declared = None
        references = None
        if kind in _RELATIONS:
            column_name = db_column if isinstance(db_column, str) else f"{name}_id"
            target = self._target(call, model)
            if target is None:
                declared = f"{kind} to {ast.unparse(call.args[0]) if call.args else '?'}"
                sql_type: str | None = None
            else:
                sql_type = target[2] if target[2] != UNKNOWN_TYPE else None
                if sql_type is None:
                    declared = f"{kind} to {target[0]}"
                if kwargs.get("db_constraint") is not False:
                    references = (target[0], target[1])
        else:
            column_name = db_column if isinstance(db_column, str) else name
            sql_type = self._type(kind, call, kwargs)
            if sql_type is None:
                declared = ast.unparse(call.func)
        identity = None
        if kind in DJANGO_AUTO:
            identity = "BY DEFAULT"
        column = Column(
            column_name,
            sql_type or UNKNOWN_TYPE,
            not_null=kwargs.get("null") is not True,
            primary_key=primary,
            unique=unique and not primary,
            references=references,
            deferrable=references is not None,
            identity=identity,
            line=line,
        )
        model.columns[name] = column_name
        table.add_column(column, declared)
        short = table.name
        indexed = kwargs.get("db_index", kind in _RELATIONS) is True
        if indexed and not unique:
            table.index(
                line, ddl.create_index(self._name(short, column_name, ""), short, [column_name])
            )
        if (indexed or unique) and (sql_type or "").startswith(_LIKE_TYPES):
            like = "varchar" if (sql_type or "").startswith("varchar") else "text"
            opclass = f"{like}_pattern_ops"
            table.index(
                line,
                ddl.create_index(
                    self._name(short, column_name, "_like"),
                    short,
                    [Raw(f"{ident(column_name)} {opclass}")],
                ),
            )

    def _type(self, kind: str, call: ast.Call, kwargs: dict[str, Any]) -> str | None:
        if kind == "ArrayField":
            base = call.args[0] if call.args else _kwarg_node(call, "base_field")
            if isinstance(base, ast.Call):
                inner = self._type(last_name(base.func), base, _literal_kwargs(base))
                return inner + "[]" if inner else None
            return None
        return django_type(kind, kwargs)

    def _name(self, table: str, column: str, suffix: str) -> str:
        """Django's index names: table_column_hash (within 63 characters)."""
        digest = hashlib.md5(f"{table}.{column}{suffix}".encode(), usedforsecurity=False)
        base = f"{table}_{column}"[: 63 - 9 - len(suffix)]
        name = f"{base}_{digest.hexdigest()[:8]}{suffix}"
        while name in self.index_names:
            name = name[:-1] + "x"
        self.index_names.add(name)
        return name

    def _join_table(
        self, call: ast.Call, name: str, model: _Model, table: ModelTable, line: int
    ) -> None:
        target = self._target(call, model)
        if target is None:
            self.not_understood.append(f"ManyToManyField {name} at {model.file.relative}:{line}")
            return
        own_key, own_type = self.pk_of(model)
        own_name, other_name = model.name.lower(), target[0].split("_", 1)[-1]
        other_model = next((m for m in self.models if self._table_name(m) == target[0]), None)
        if other_model is not None:
            other_name = other_model.name.lower()
        if other_model is model:
            own_name, other_name = f"from_{own_name}", f"to_{other_name}"
        join = f"{table.name}_{name}"
        first, second = f"{own_name}_id", f"{other_name}_id"
        auto, _ = self._auto_type(self._app(model))
        sql = (
            f"CREATE TABLE {qname(join)} ("
            f"id {auto or 'bigint'} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            f"{ident(first)} {own_type} NOT NULL REFERENCES {qname(table.name)} "
            f"({ident(own_key)}) DEFERRABLE INITIALLY DEFERRED, "
            f"{ident(second)} {target[2]} NOT NULL REFERENCES {qname(target[0])} "
            f"({ident(target[1])}) DEFERRABLE INITIALLY DEFERRED, "
            f"UNIQUE ({columns_sql([first, second])}))"
        )
        table.after.append([(line, sql)])
        for column in (first, second):
            table.index(line, ddl.create_index(self._name(join, column, ""), join, [column]))

    def _meta_indexes(self, model: _Model, table: ModelTable) -> None:
        def column(field_name: str) -> str:
            return self._column_of(model, field_name)

        found = self._meta_node(model, "indexes")
        for call in _calls(found):
            keys = self._index_keys(call, column)
            name = _kwarg(call, "name")
            if not keys:
                continue
            condition = _kwarg_node(call, "condition")
            table.index(
                call.lineno,
                ddl.create_index(
                    name if isinstance(name, str) else self._name(table.name, "idx", ""),
                    table.name,
                    keys,
                    where="true" if condition is not None else None,
                    using=_INDEX_METHODS.get(last_name(call.func)),
                ),
            )
        found = self._meta_node(model, "constraints")
        for call in _calls(found):
            if last_name(call.func) != "UniqueConstraint":
                continue
            keys = self._index_keys(call, column)
            name = _kwarg(call, "name")
            if not keys:
                continue
            named = name if isinstance(name, str) else self._name(table.name, "uniq", "")
            plain = all(not isinstance(k, Raw) for k in keys)
            if plain and _kwarg_node(call, "condition") is None:
                table.constraints.append(
                    (call.lineno, f"CONSTRAINT {ident(named)} UNIQUE ({columns_sql(keys)})")
                )
            else:
                where = "true" if _kwarg_node(call, "condition") is not None else None
                table.index(
                    call.lineno,
                    ddl.create_index(named, table.name, keys, unique=True, where=where),
                )
        for key, unique in (("unique_together", True), ("index_together", False)):
            found = self._meta_node(model, key)
            if found is None:
                continue
            groups = value(found[0])
            if isinstance(groups, list) and groups and all(isinstance(g, str) for g in groups):
                groups = [groups]
            if not isinstance(groups, list):
                self.not_understood.append(
                    f"Meta.{key} of {model.name} at {model.file.relative}:{found[1]}"
                )
                continue
            for group in groups:
                if not isinstance(group, list) or not all(isinstance(g, str) for g in group):
                    continue
                columns = [column(g) for g in group]
                named = self._name(table.name, "_".join(columns), "_uniq" if unique else "")
                if unique:
                    table.constraints.append(
                        (found[1], f"CONSTRAINT {ident(named)} UNIQUE ({columns_sql(columns)})")
                    )
                else:
                    table.index(found[1], ddl.create_index(named, table.name, columns))

    def _index_keys(self, call: ast.Call, column: Callable[[str], str]) -> list[str | Raw]:
        fields = _kwarg(call, "fields")
        keys: list[str | Raw] = []
        if isinstance(fields, list) and all(isinstance(f, str) for f in fields):
            for name in fields:
                if name.startswith("-"):
                    keys.append(Raw(f"{ident(column(name[1:]))} DESC"))
                else:
                    keys.append(column(name))
        for expression in call.args:  # Index(Lower("email"), name=...)
            literal = value(expression)
            keys.append(column(literal) if isinstance(literal, str) else Raw("(NULL)"))
        return keys

    def _column_of(self, model: _Model, field_name: str) -> str:
        if field_name in model.columns:
            return model.columns[field_name]
        if field_name == "pk":
            return self.pk_of(model)[0]
        return field_name

    def result(self) -> tuple[list[SchemaSql], list[str]]:
        schemas = []
        for file in self.files:
            if file.tables:
                schemas.append(
                    schema_sql(file.tables, file.path, file.relative, ORIGIN, file.text, ("#",))
                )
        notes = []
        tables = [(f.relative, t) for f in self.files for t in f.tables]
        if tables:
            notes.append(
                f"{ORIGIN}: {len(tables)} table{'s' if len(tables) != 1 else ''} in "
                f"{len(schemas)} file{'s' if len(schemas) != 1 else ''}; implicit primary "
                f"keys: {self.default_auto} ({self.auto_source})"
            )
        unknown = unknown_note(ORIGIN, tables)
        if unknown:
            notes.append(unknown)
        if self.outside:
            shown = ", ".join(sorted(self.outside)[:5])
            notes.append(
                f"{ORIGIN}: relations to models not among the files read ({shown}): their "
                "keys are taken to be of the app's default auto field"
            )
        if self.unmanaged:
            notes.append(
                f"{ORIGIN}: {len(self.unmanaged)} unmanaged model"
                f"{'s' if len(self.unmanaged) != 1 else ''} (Meta.managed = False: Django "
                f"does not create the table, its shape is elsewhere) not read: "
                + ", ".join(self.unmanaged[:5])
            )
        if self.not_understood:
            notes.append(
                f"{ORIGIN}: {len(self.not_understood)} declaration"
                f"{'s' if len(self.not_understood) != 1 else ''} not understood: "
                + ", ".join(self.not_understood[:5])
                + (
                    f", and {len(self.not_understood) - 5} more"
                    if len(self.not_understood) > 5
                    else ""
                )
            )
        return schemas, notes


def _target(statement: ast.stmt) -> str | None:
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return None


def _field_call(statement: ast.stmt) -> ast.Call | None:
    """The field a class-body assignment declares (`total = models.FloatField()`)."""
    if _target(statement) is None:
        return None
    call = statement.value  # type: ignore[attr-defined]
    if not isinstance(call, ast.Call):
        return None
    kind = last_name(call.func)
    if kind.endswith("Field") or kind in _RELATIONS or kind in _NOT_COLUMNS:
        return call
    return None


def _kwarg_node(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _kwarg(call: ast.Call, name: str) -> Any:
    node = _kwarg_node(call, name)
    return value(node) if node is not None else None


def _literal_kwargs(call: ast.Call) -> dict[str, Any]:
    return {k.arg: value(k.value) for k in call.keywords if k.arg is not None}


def _calls(found: tuple[ast.expr, int] | None) -> list[ast.Call]:
    if found is None or not isinstance(found[0], ast.List | ast.Tuple):
        return []
    return [e for e in found[0].elts if isinstance(e, ast.Call)]


def read_django(
    files: list[tuple[Path, str]],
    settings: Settings,
    relative: Callable[[Path], str],
) -> tuple[list[SchemaSql], list[str], list[Problem]]:
    """`files`: (path, text) of models.py and models/*.py."""
    reader = _Reader(relative, settings)
    for path, text in files:
        reader.add_file(path, text)
    reader.read()
    schemas, notes = reader.result()
    return schemas, notes, reader.problems
