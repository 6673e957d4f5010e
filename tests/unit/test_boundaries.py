"""Only the public contract crosses a service boundary: no module of one service imports another
service, and nothing outside tests/ imports tests/ (issue 10)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "workflow", "settlement", "notify")


def imported(path: Path, root: Path):
    """Every module `path` imports (absolute names), with its line."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, module
            yield from ((node.lineno, f"{module}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
        ):
            yield node.lineno, str(node.args[0].value)


def crossings(root: Path = ROOT):
    for service in SERVICES:
        for path in sorted((root / "services" / service).rglob("*.py")):
            for line, module in imported(path, root):
                parts = module.split(".")
                if parts[0] == "services" and len(parts) > 1 and parts[1] in SERVICES and parts[1] != service:
                    yield f"{path.relative_to(root)}:{line} imports {module}"


def test_no_service_imports_another():
    assert list(crossings()) == []


def test_the_walker_sees_an_import_across_a_boundary(tmp_path):
    """The test above can fail: a module of intake importing workflow is found, however it is written."""
    probe = tmp_path / "services" / "intake" / "api" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "from services.workflow import domain\nfrom ...workflow import policies\n"
        "import_module('services.notify.bootstrap')\nfrom services.intake import tenant\n"
    )
    assert [c.split(" imports ")[1] for c in crossings(tmp_path)] == [
        "services.workflow",
        "services.workflow.domain",
        "services.workflow",
        "services.workflow.policies",
        "services.notify.bootstrap",
    ]
