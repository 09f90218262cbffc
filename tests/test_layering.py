"""The package's layering, as docs/architecture.md's "Layers and folders" table says it.

Every module under ``sweepnb/`` is parsed with ``ast``: imports at module level and inside
functions, ``from . import x`` and other relative imports resolved. The module graph must have
no cycle, no module may import one of a layer above its own (the runtime knows nothing of W&B),
and no module is over 500 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sweepnb"
MAX_LINES = 500

# docs/architecture.md's table, lowest first; a module may import its own layer and those below.
LAYERS = ["engine", "store", "runtime", "analysis", "compat", "front"]
# Modules outside the layer folders: errors.py, ids.py (sweep ids) and _meta.py (the version, the
# table of lazy public names) are imported by every layer and import only each other (the base);
# the package's __init__ resolves names lazily for users.
BASE = {"sweepnb.errors", "sweepnb.ids", "sweepnb._meta"}
TOP = {"sweepnb", "sweepnb.__main__"}

# Known violations, listed exactly (issue 24's were all paid; keep these empty): a new violation
# fails, and so does an entry here that is no longer true.
UPWARD_DEBT: set[str] = set()
# imports left out of the cycle check (besides UPWARD_DEBT): each closes a cycle today
CYCLE_DEBT: set[str] = set()
LONG_DEBT: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The sweepnb module `name` denotes: itself, or the package holding it."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(mod: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from pkg import sub` depends on the submodule sub; `from pkg import name` on pkg
            subs = [f"{stem}.{a.name}" for a in node.names]
            names = [s if s in MODULES else stem for s in subs]
        else:
            continue
        for name in names:
            if name == "sweepnb" or name.startswith("sweepnb."):
                target = _resolve(name)
                if target and target != mod:
                    targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    return {mod: _imports(mod, path) for mod, path in MODULES.items()}


def _layer(mod: str) -> str | None:
    if mod in BASE or mod in TOP:
        return None
    parts = mod.split(".")
    if len(parts) > 1 and parts[1] in LAYERS[:-1]:
        return parts[1]
    return "front"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module, with one cycle through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_one_cycle(graph, comp) for comp in components]


def _one_cycle(graph: dict[str, set[str]], comp: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth first)."""
    members = set(comp)
    start = comp[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    return comp


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    graph = _graph()
    assert "sweepnb.store" in graph["sweepnb.runtime.agent"]  # inside a function
    assert "sweepnb.compat.shim.wandb.sdk.lib" in graph["sweepnb.compat.shim.wandb.sdk"]  # from .
    assert "sweepnb.engine.search" in graph["sweepnb.engine.config"]  # from pkg import submodule


def _edges(graph: dict[str, set[str]]) -> set[str]:
    return {f"{a} -> {b}" for a, targets in graph.items() for b in targets}


def test_no_import_cycle_between_modules():
    graph = _graph()
    stale = sorted(CYCLE_DEBT - _edges(graph))
    assert not stale, "CYCLE_DEBT lists imports no longer made: " + ", ".join(stale)
    left_out = CYCLE_DEBT | UPWARD_DEBT
    kept = {a: {b for b in bs if f"{a} -> {b}" not in left_out} for a, bs in graph.items()}
    cycles = _cycles(kept)
    text = "\n".join(" -> ".join(c) for c in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s):\n{text}"


def test_no_module_imports_a_layer_above_its_own():
    bad = []
    for mod, targets in sorted(_graph().items()):
        if mod in BASE:  # below every layer: imports the base only
            bad += [f"{mod} -> {target}" for target in sorted(targets - BASE)]
        own = _layer(mod)
        if own is None:
            continue
        for target in sorted(targets):
            their = _layer(target)
            if target in TOP:
                their = "front"
            if their is not None and LAYERS.index(their) > LAYERS.index(own):
                bad.append(f"{mod} -> {target}")
    new = sorted(set(bad) - UPWARD_DEBT)
    stale = sorted(UPWARD_DEBT - set(bad))
    assert not new, "imports of a layer above:\n" + "\n".join(new)
    assert not stale, "UPWARD_DEBT lists imports no longer made:\n" + "\n".join(stale)


def test_the_runtime_imports_nothing_of_the_wandb_surface():
    graph = _graph()
    bad = [
        f"{mod} imports {t}"
        for mod in sorted(graph)
        if mod.startswith("sweepnb.runtime")
        for t in sorted(graph[mod])
        if t.startswith("sweepnb.compat") and f"{mod} -> {t}" not in UPWARD_DEBT
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_no_module_is_over_500_lines(mod):
    path = MODULES[mod].relative_to(ROOT).as_posix()
    lines = len(MODULES[mod].read_text(encoding="utf-8").splitlines())
    if path in LONG_DEBT:
        assert lines > MAX_LINES, f"{path} is {lines} lines now: remove it from LONG_DEBT"
    else:
        assert lines <= MAX_LINES, f"{path}: {lines} lines"
