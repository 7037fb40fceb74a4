"""The house's shape, checked on every run (no database, no Django needed).

import-linter (``.importlinter``, run by ``make test`` before pytest) holds
the layers between apps and keeps the engine free of Django. What it cannot
say is checked here: no loop of imports joins modules of two apps (counting
imports inside functions, which grimp reads too), and no module grows past
what a newcomer can read.
"""

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "outbox",
    "accounts",
    "catalog",
    "consent",
    "activity",
    "recommendations",
    "privacy",
)
#: Modules allowed past the size limit: data tables, not logic.
LONG_DATA_MODULES: set[str] = set()
MAX_LINES = 900


def _app(module: str) -> str:
    return module.split(".", 1)[0]


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module import graph (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child)
                    work.append((child, iter(sorted(imported))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*APPS, "config", cache_dir=None)


def test_strongly_connected_finds_a_loop_it_is_given():
    graph = grimp.ImportGraph()
    for a, b in [("x.a", "y.b"), ("y.b", "x.c"), ("x.c", "x.a"), ("y.b", "y.d")]:
        graph.add_import(importer=a, imported=b)
    loops = [c for c in strongly_connected(graph) if len(c) > 1]
    assert loops == [{"x.a", "y.b", "x.c"}]


def test_no_import_loop_joins_two_apps(graph):
    loops = [
        sorted(component)
        for component in strongly_connected(graph)
        if len({_app(m) for m in component}) > 1
    ]
    assert loops == []


def test_no_module_is_longer_than_a_newcomer_can_read():
    too_long = {
        str(path.relative_to(ROOT)): lines
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        and str(path.relative_to(ROOT)) not in LONG_DATA_MODULES
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
