"""The pure calculation core takes values and gives values: no database, no models.

The import contracts (pyproject.toml, `make lint`) keep the project's models out of these
modules; Django's ORM is an outside package they cannot name, so this test does."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_CORE = [
    "severa/money.py",
    "severa/periods.py",
    "severa/proration.py",
    "severa/vat.py",
    "subscriptions/quotes.py",
    "subscriptions/pricebook.py",
    "subscriptions/prices.py",
    "subscriptions/quote_lines.py",
]


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("module", PURE_CORE)
def test_the_pure_core_reads_no_database(module):
    imported = _imported_modules(ROOT / module)
    assert not {name for name in imported if name.startswith(("django.db", "django_scopes"))}
    assert not {name for name in imported if name.split(".")[-1] == "models"}
