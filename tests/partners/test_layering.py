"""The partners app sits above billing and subscriptions: it imports them, and nothing below
it imports the partners app (the root URL modules include its URLs by name)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW_PARTNERS = ("accounts", "billing", "records", "severa", "subscriptions")


def _imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_no_app_below_partners_imports_it():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for app in BELOW_PARTNERS
        for path in sorted((ROOT / app).rglob("*.py"))
        for line, module in _imported_modules(path)
        if module == "partners" or module.startswith("partners.")
    ]
    assert offenders == []

