"""The project's import graph, read from the source with ast (every import, also those inside
functions and under TYPE_CHECKING: each is a dependency a reader has to follow)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "shared", "deploy", "bench", "tests")


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules `name` imports: `from a.b import c` is a.b.c when that is a module, else a.b."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
    return {_owner(t, known) for t in targets} - {None, name}


def _owner(target: str, known: dict[str, Path]) -> str | None:
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {name: imports(name, path, known) for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Groups of modules that import each other, directly or round about (Tarjan's strongly
    connected components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = {stack.pop()}
            while node not in group:
                group.add(stack.pop())
            if len(group) > 1:
                found.append(group)

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_project_imports_itself_round_about():
    assert circles(graph()) == []


def test_nothing_outside_the_tests_imports_them():
    leaks = {
        name: sorted(t for t in targets if t.split(".")[0] == "tests")
        for name, targets in graph().items()
        if name.split(".")[0] != "tests"
    }
    assert {name: targets for name, targets in leaks.items() if targets} == {}


def test_the_walk_sees_circles_through_lazy_relative_and_type_checking_imports(tmp_path):
    """`cli` imports `supervisor`, which imports `cli` back only inside a function (as
    services/supervisor.py once did); `web` and `submission` import each other relatively and
    for type checking only; `api` imports both and is in no circle."""
    package = tmp_path / "pkg"
    package.mkdir()
    sources = {
        "__init__": "",
        "cli": "from pkg.supervisor import WORKERS\n",
        "supervisor": "WORKERS = ()\ndef run():\n    from pkg.cli import db_init\n",
        "web": "from . import submission\n",
        "submission": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.web import Form\n",
        "api": "import pkg.web\nfrom pkg import cli, os\n",
    }
    for name, source in sources.items():
        (package / f"{name}.py").write_text(source)
    found = circles(graph(tmp_path, ("pkg",)))
    assert sorted(map(sorted, found)) == [["pkg.cli", "pkg.supervisor"], ["pkg.submission", "pkg.web"]]
    assert graph(tmp_path, ("pkg",))["pkg.api"] == {"pkg.web", "pkg.cli", "pkg"}  # `os` is no module of it
