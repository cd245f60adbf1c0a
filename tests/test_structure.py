"""#14: no module of ``backoffice`` is part of an import cycle, and each app imports only the
apps below it (docs/dev/directory-structure.md draws the same layers).

Imports are read from the source (``ast``), those inside functions included — a lazy
import is still a dependency — and those under ``if TYPE_CHECKING:`` left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "backoffice"

#: bottom to top; an app may import its own modules and those of the layers below it
LAYERS: list[set[str]] = [
    {"core"},
    {
        "base",
        "audit_cli",
        "policy_cli",
        "sod_report",
        "views",
        "locale",
        "wsgi",
        "settings",
        "formats",
    },
    {"sod_actual_report"},
    {"audit", "readonly_admin"},
    {"org"},
    {"cases"},
    {"access", "masterdata", "accounts"},
    {"credit", "walls", "identity", "notify", "jobs"},  # #18 identity: sign-on, TOTP; #19 jobs
    {"trading"},  # #17: reads its reports with credit's Report
    {"ops", "sod_cli", "scim"},  # #18 SCIM provisioning
    {"web"},
    {"api", "cli"},
    {"urls"},
]
LAYER = {app: level for level, apps in enumerate(LAYERS) for app in apps}


def _modules() -> dict[str, Path]:
    """Every module, a compiled one (#15: ``core/accessrisk/_native``) by its stub."""
    found = {}
    stubs = [p for p in ROOT.rglob("*.pyi") if not p.with_suffix(".py").exists()]
    for path in [*ROOT.rglob("*.py"), *stubs]:
        if "migrations" in path.parts:
            continue
        parts = ["backoffice", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``backoffice`` modules ``path`` imports, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name.startswith("backoffice"):
            found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _app(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "backoffice"


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle a depth-first walk meets (each as the modules around it)."""
    done: set[str] = set()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return cycles


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of an app from its own layer or one above (``backoffice/__init__`` is free)."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if _app(module) != _app(target)
        and _app(target) != "backoffice"
        and LAYER.get(_app(target), 0) >= LAYER.get(_app(module), len(LAYERS))
    )


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert cycles_in(_graph()) == []


def test_each_app_imports_only_the_layers_below_it() -> None:
    graph = _graph()
    unplaced = {_app(m) for m in graph} - set(LAYER) - {"backoffice"}
    assert unplaced == set(), "place every app in LAYERS"
    assert upward_imports(graph) == []


def test_the_checks_find_the_cycle_of_a_router_importing_its_root() -> None:
    """As it was before #14: the root imported every router, the routers the root."""
    graph = _graph()
    graph["backoffice.cases.api"] = graph["backoffice.cases.api"] | {"backoffice.api"}
    graph["backoffice.api"] = graph["backoffice.api"] | {"backoffice.cases.api"}
    assert any("backoffice.cases.api" in cycle for cycle in cycles_in(graph))
    assert "backoffice.cases.api -> backoffice.api" in upward_imports(graph)
