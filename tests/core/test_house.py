"""The house's rules that code review would otherwise have to remember: imports at the top, and
route modules that ask services, never the database."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "app.py", *sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "blueprints").rglob("*.py"))]
ROUTE_MODULES = [p for p in CODE if "blueprints" in p.parts and "routes" in p.stem]
#: The one import kept lazy: the models' modules, loaded when the app is made (core/db.py).
LAZY = {("core/db.py", "import_models")}
QUERIES = {"select", "insert", "update", "delete", "text"}
SESSION_READS = {"execute", "scalar", "scalars", "get", "query", "merge"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_imports_are_at_the_top_of_their_module():
    inside = []
    for path in CODE:
        for fn in ast.walk(_tree(path)):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                if (str(path.relative_to(ROOT)), fn.name) in LAZY:
                    continue
                inside += [
                    f"{path.relative_to(ROOT)}:{node.lineno} in {fn.name}()"
                    for node in ast.walk(fn)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
    assert not inside


def test_route_modules_ask_services_never_the_database():
    assert len(ROUTE_MODULES) > 20
    found = []
    for path in ROUTE_MODULES:
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in QUERIES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {func.id}()")
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in SESSION_READS
                and ast.unparse(func.value) == "db.session"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(func)}()")
    assert not found
