"""Run order: a table referenced by a foreign key loads before the tables that reference it."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from dataward.contract.loader import load_contract
from dataward.errors import UsageError
from dataward.project.config import PipelineSpec


def dependency_order(pipelines: list[PipelineSpec]) -> list[PipelineSpec]:
    """Pipelines sorted so that each runs after those loading the tables it references;
    otherwise in name order (stable, so the order never changes between runs)."""
    target_of: dict[str, str] = {}
    references: dict[str, set[str]] = {}
    for spec in pipelines:
        contract = load_contract(spec.contract)
        table = contract.table(spec.table)
        target_of[spec.name] = table.name
        references[spec.name] = {fk.referenced_table for fk in table.foreign_keys}
    loads = {table: name for name, table in target_of.items()}
    graph: dict[str, set[str]] = {
        name: {loads[t] for t in refs if t in loads and loads[t] != name}
        for name, refs in references.items()
    }
    sorter = TopologicalSorter({name: graph[name] for name in sorted(graph)})
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise UsageError(f"the pipelines' foreign keys form a cycle: {cycle}") from None
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered.extend(ready)
        sorter.done(*ready)
    by_name = {spec.name: spec for spec in pipelines}
    return [by_name[name] for name in ordered]
