"""Guard: the import layering of app/ and migrations/, read from the source (every import, at the top of a
module or inside a function). A lower layer never imports a higher one; no domain imports another's routes;
migrations import nothing from app; modules import each other in no cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import its own layer and those below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("platform", {"app.config", "app.context", "app.errors", "app.db", "app.schemas", "app.http", "app.tenancy",
                  "app.auth", "app.embedded", "app.migrate", "app.provision", "app.idempotency",
                  "app.inbound", "app.retention.policy",
                  "app.observability", "app.metrics", "app.tracing", "app.commands"}),
    ("audit", {"app.audit"}),
    ("sharing", {"app.sharing"}),
    ("POLE", {"app.people", "app.pole"}),
    ("documents", {"app.documents"}),
    ("custody and investigations", {"app.custody", "app.investigations"}),
    ("tasks (work items the modules below raise)", {"app.tasks"}),
    ("intelligence", {"app.intelligence"}),
    ("case files", {"app.cases"}),
    ("retention (reviews and disposal of any record)", {"app.retention"}),
    ("force lifecycle (onboard, move, export, offboard)", {"app.lifecycle"}),
    ("the application", {"app", "app.system", "app.docs", "app.demo", "app.cli", "app.wsgi", "app.console"}),
]


def modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "app").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, package: str) -> set[str]:
    """Every module name an import in the file names (relative imports resolved)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return names


def graph() -> dict[str, set[str]]:
    """module -> the app modules it imports (not its own packages' __init__)."""
    mods = modules()
    edges: dict[str, set[str]] = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for target in imports_of(path, package):
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                targets.add(target)
        edges[name] = targets
    return edges


def layer(module: str) -> int:
    best = None
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if (module == member or module.startswith(member + ".")) and (best is None or len(member) > best[1]):
                best = (index, len(member))
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best[0]


def domain(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_a_higher_layer():
    upward = sorted((m, t, LAYERS[layer(t)][0]) for m, targets in graph().items() for t in targets
                    if layer(t) > layer(m))
    assert not upward, f"imports from a lower layer up to a higher one: {upward}"


def test_no_domain_imports_another_domains_routes():
    crossing = sorted((m, t) for m, targets in graph().items() for t in targets
                      if t.endswith(".routes") and domain(t) != domain(m) and m != "app")
    assert not crossing, f"a domain reaches into another's routes (call its service): {crossing}"


def test_modules_import_each_other_in_no_cycle():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("path", sorted((ROOT / "migrations").rglob("*.py")), ids=lambda p: p.name)
def test_migrations_import_nothing_from_app(path):
    names = imports_of(path, "migrations")
    assert not {n for n in names if n == "app" or n.startswith("app.")}, (
        f"{path.name} imports application code: a migration must keep meaning what it meant when written")
