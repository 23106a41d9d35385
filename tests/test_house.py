"""The house: no import cycle anywhere in nisd, floors a reader can name, a thin CLI.

The import graph is read from the source with ``ast``, imports inside functions
included, so that no cycle can hide behind a lazy import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent / "nisd"

# the floors, lowest first: a module may import its own floor and those below it
FLOORS: list[tuple[str, ...]] = [
    ("nisd.errors", "nisd.version", "nisd.limits", "nisd.settings", "nisd.files", "nisd.config"),
    ("nisd.dataset",),
    ("nisd.records",),
    ("nisd.io",),
    ("nisd.topology",),
    ("nisd.optimise",),
    ("nisd.study",),
    ("nisd.render",),
    ("nisd.api", "nisd"),
    ("nisd.cli", "nisd.__main__"),
]
CLI_MAY_IMPORT = ("nisd", "nisd.api", "nisd.errors", "nisd.records", "nisd.cli")


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def import_graph() -> nx.DiGraph:
    """Module → module it imports (``from pkg import mod`` counts as importing ``pkg.mod``
    when ``mod`` is a module, else ``pkg``); every import statement, wherever it stands."""
    mods = _modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for a in node.names:
                    sub = f"{mod}.{a.name}"
                    targets.append(sub if sub in mods else mod)
            for t in targets:
                if t in mods and t != name:
                    g.add_edge(name, t)
    return g


def floor_of(module: str) -> int:
    best = (-1, -1)
    for n, names in enumerate(FLOORS):
        for prefix in names:
            if module == prefix or module.startswith(prefix + "."):
                best = max(best, (len(prefix), n))
    assert best[1] >= 0, f"{module} is on no floor: add it to FLOORS"
    return best[1]


def test_no_import_cycle() -> None:
    g = import_graph()
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_a_module_imports_no_floor_above_its_own() -> None:
    g = import_graph()
    up = [
        f"{a} (floor {floor_of(a)}) imports {b} (floor {floor_of(b)})"
        for a, b in g.edges
        if floor_of(b) > floor_of(a)
    ]
    assert not up, "\n".join(up)


def test_the_command_line_imports_only_the_door() -> None:
    g = import_graph()
    wrong = [
        f"{a} imports {b}"
        for a, b in g.edges
        if a.startswith("nisd.cli")
        and not any(b == ok or b.startswith(ok + ".") for ok in CLI_MAY_IMPORT[1:])
        and b != "nisd"
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [([("nisd.a", "nisd.b"), ("nisd.b", "nisd.a")], True), ([("nisd.a", "nisd.b")], False)],
)
def test_the_cycle_search_finds_a_cycle(edges: list[tuple[str, str]], cycle: bool) -> None:
    """The test above can fail: a two-module loop is found."""
    g = nx.DiGraph(edges)
    assert bool(list(nx.simple_cycles(g))) is cycle


def test_function_level_imports_count(tmp_path: Path) -> None:
    """An import inside a function is an edge of the graph like any other."""
    src = "def f():\n    from nisd.render import html\n"
    tree = ast.parse(src)
    found = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert found and found[0].module == "nisd.render"


def test_no_module_over_500_lines_without_a_reason() -> None:
    """A module longer than about 500 lines says why at its top."""
    long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 520 and "Why this module is long" not in text[:3000]:
            long.append(f"{name}: {text.count(chr(10))} lines")
    assert not long, "\n".join(long)


def test_one_class_named_plan() -> None:
    defs = [
        f"{name}"
        for name, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name in ("Plan", "Rollout", "Status")
    ]
    assert sorted(defs) == ["nisd.records.base", "nisd.records.plan", "nisd.records.rollout"]
