"""No two modules of the project's packages import each other, however indirectly
(an import inside a function counts: it is the same dependency, only later). Read from the
source (the AST), so nothing is imported to check it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The packages checked (with their subpackages), together: a cycle across them counts too.
PACKAGES = ("datasets", "models", "optimizer", "inyear", "api")


def module_name(root: Path, path: Path) -> str:
    """``pkg.sub.mod`` for ``pkg/sub/mod.py``, ``pkg.sub`` for ``pkg/sub/__init__.py``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, packages) -> dict[str, set[str]]:
    """Each module of ``packages`` and the modules of those packages it imports, wherever in
    the file (relative imports resolved against the module's package)."""
    files = {
        module_name(root, f): f for pkg in packages for f in sorted((root / pkg).rglob("*.py"))
    }
    graph = {}
    for name, path in files.items():
        package = name.split(".") if path.stem == "__init__" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                found.add(module)
                found |= {f"{module}.{a.name}" for a in node.names}  # from pkg import module
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_packages_have_no_import_cycle():
    graph = imports(ROOT, [p for p in PACKAGES if (ROOT / p).is_dir()])
    assert "optimizer.solve" in graph and "api.service.plans" in graph  # the packages were read
    assert "api.service.plans" in graph["api.routes.plans"]  # relative imports resolved
    assert cycles(graph) == []


def test_a_cycle_is_found_even_through_an_import_inside_a_function(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from .c import g\n    return g\n")
    (pkg / "c.py").write_text("from pkg import a\n")
    (pkg / "d.py").write_text("from . import a\n")  # depends on the cycle, not in it
    graph = imports(tmp_path, ["pkg"])
    assert graph["pkg.d"] == {"pkg", "pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
