"""No import cycles among rmeeto's modules: the graph of module-level imports (relative and
absolute, ``if TYPE_CHECKING:`` blocks left out) has no strongly connected component; nor has the
graph that also counts the imports inside functions, which hide a dependency without removing it."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "rmeeto").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _top_level_imports(tree: ast.Module):
    """Import statements run when the module is imported: at top level, in module-level
    ``if``/``try``/``with`` blocks and class bodies, but not in functions or ``if TYPE_CHECKING``."""
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            test = ast.unparse(node.test)
            todo.extend(node.orelse if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING") else
                        node.body + node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
        elif isinstance(node, (ast.With, ast.ClassDef)):
            todo.extend(node.body)


def _targets(name: str, node, modules) -> set[str]:
    """The rmeeto modules that ``node`` in module ``name`` runs: the imported modules and those of
    their parent packages that are not already being imported around ``name``."""
    is_pkg = modules[name].name == "__init__.py"
    if isinstance(node, ast.Import):
        named = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = name.split(".") if is_pkg else name.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
        named = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    out = set()
    for target in named:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            if mod in modules and (mod == target or mod not in ancestors):
                out.add(mod)
    out.discard(name)
    return out


def import_graph(in_functions: bool = False) -> dict[str, set[str]]:
    """Module -> the rmeeto modules it imports when imported (or anywhere, with ``in_functions``)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        nodes = ([n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))] if in_functions
                 else _top_level_imports(tree))
        graph[name] = set().union(set(), *(_targets(name, n, modules) for n in nodes))
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component (Tarjan)."""
    index, low, stack, on_stack, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_a_cycle(graph, set(comp), comp[0]) for comp in sccs]


def _a_cycle(graph, comp: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside the component (breadth first)."""
    prev, frontier = {}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & comp):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1] + [start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


def test_the_checker_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    cycles = sorted(find_cycles(graph))
    assert cycles == [["a", "b", "c", "a"], ["e", "e2", "e"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_reads_relative_imports_and_skips_function_bodies():
    graph = import_graph()
    assert "rmeeto.merge" in graph["rmeeto.patch"]  # `from .merge import ...` at top level
    assert "rmeeto.models" in graph["rmeeto"]  # the package's __init__
    assert all(t.startswith("rmeeto") for ts in graph.values() for t in ts)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_cycles_through_imports_in_functions():
    cycles = find_cycles(import_graph(in_functions=True))
    text = "\n".join(" -> ".join(c) for c in cycles)
    assert not cycles, "import cycles (counting imports inside functions):\n" + text
