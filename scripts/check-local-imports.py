#!/usr/bin/env python3
"""Lists imports of the project's own modules written inside a function without a comment
saying why (on the import's line or on the line above its block of imports).

Module-level imports show each file's dependencies at its top, where the import contracts
(pyproject.toml, lint-imports) see them; an import inside a function hides one. Exit status 1
when any is found."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "accounts",
    "agent",
    "api",
    "billing",
    "integrations",
    "partners",
    "records",
    "severa",
    "subscriptions",
)


def _is_project(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return True
        names = [node.module or ""]
    else:
        names = [alias.name for alias in node.names]
    return any(name.split(".")[0] in PACKAGES for name in names)


def _explained(lines: list[str], node: ast.stmt, block_start: int) -> bool:
    """A comment on the import's own lines, or above it within its block of imports (or on
    the line above the block)."""
    own = lines[node.lineno - 1 : node.end_lineno]
    if any("#" in line for line in own):
        return True
    above = lines[max(block_start - 2, 0) : node.lineno - 1]
    return any(line.strip().startswith("#") for line in above)


def _block_start(parent: ast.AST, node: ast.stmt) -> int:
    """The first line of the run of imports that ``node`` belongs to."""
    for field in ("body", "orelse", "finalbody"):
        siblings = getattr(parent, field, None)
        if isinstance(siblings, list) and node in siblings:
            start = node.lineno
            for sibling in reversed(siblings[: siblings.index(node)]):
                if not isinstance(sibling, ast.Import | ast.ImportFrom):
                    break
                start = sibling.lineno
            return start
    return node.lineno


def local_imports(path: Path) -> list[tuple[int, str]]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or not _is_project(node):
            continue
        ancestor = parents.get(node)
        in_function = False
        while ancestor is not None:
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
                in_function = True
                break
            ancestor = parents.get(ancestor)
        if in_function and not _explained(lines, node, _block_start(parents[node], node)):
            found.append((node.lineno, lines[node.lineno - 1].strip()))
    return sorted(found)


def main() -> int:
    count = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for lineno, text in local_imports(path):
                print(f"{path.relative_to(ROOT)}:{lineno}: {text}")
                count += 1
    if count:
        print(f"{count} import(s) of the project's modules inside a function without a comment")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
