"""The experiment harness (rmeeto.study) sits on top of the library: the library never imports it."""
import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "rmeeto"
MODULE = re.compile(r"rmeeto(\.\w+)+")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (relative imports resolved; ``from a import b`` gives
    both ``a`` and ``a.b``, since ``b`` may be a module), and every string that is a module name of rmeeto
    (what ``__import__`` or ``importlib`` would be given)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE.fullmatch(node.value):
            found.add(node.value)  # a name for __import__ or importlib (as cli.py registers the commands)
    return found


def is_study(module: str) -> bool:
    return module == "rmeeto.study" or module.startswith("rmeeto.study.")


LIBRARY = sorted(p for p in PACKAGE.rglob("*.py")
                 if not is_study(module_name(p)) and module_name(p) != "rmeeto.cli")


def test_the_scan_finds_the_modules_and_resolves_relative_imports():
    names = {module_name(p) for p in LIBRARY}
    assert {"rmeeto", "rmeeto.patch", "rmeeto.bench", "rmeeto.train.engine"} <= names
    assert not any(is_study(n) for n in names) and "rmeeto.cli" not in names
    # the checker sees each way of importing the package (cli.py names the modules it registers)
    assert any(is_study(m) for m in imported(PACKAGE / "cli.py"))
    assert "rmeeto.env_info" in imported(PACKAGE / "study" / "video.py")  # from ..env_info import ...
    assert "rmeeto.study.results" in imported(PACKAGE / "study" / "report.py")  # from .results import ...


@pytest.mark.parametrize("path", LIBRARY, ids=module_name)
def test_the_library_never_imports_the_study_package(path):
    bad = sorted(m for m in imported(path) if is_study(m))
    assert not bad, f"{module_name(path)} imports {bad}; the library must not depend on rmeeto.study"


def test_no_import_cycle_inside_the_study_package():
    study = {module_name(p): p for p in (PACKAGE / "study").glob("*.py")}
    graph = {m: {i for i in imported(p) if i in study and i != m} for m, p in study.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, "import cycle: " + " -> ".join(path[path.index(n):] + [m, n])
            if n not in state:
                visit(n, path + [m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])
    assert "rmeeto.study.stages" not in graph["rmeeto.study.report"]
