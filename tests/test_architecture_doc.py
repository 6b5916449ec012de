"""docs/architecture.md names, for each billing rule, the function that holds it and the test
that pins it; README.md and docs/ link to each other. Both stay true while code moves: a
function renamed or moved, a test renamed, a page moved fails here with what to update."""

import ast
import importlib
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
RULES_HEADING = "## Where each rule lives"
DESIGN_SECTIONS = {f"3.{number}" for number in range(1, 10)}

_CELL_CODE = re.compile(r"^`([^`]+)`$")
# [text](target) — not images' sources, which are links all the same.
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _rule_rows() -> list[tuple[str, str, str, str]]:
    """(section, rule, function, test) of each row of the rules table."""
    text = ARCHITECTURE.read_text()
    assert RULES_HEADING in text, f"{ARCHITECTURE} has no '{RULES_HEADING}' section"
    section = text.split(RULES_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in {"§", "---"} or set(cells[0]) <= {"-", " "}:
            continue
        rows.append(tuple(cells))
    return rows


def _code(cell: str, row: tuple[str, ...]) -> str:
    match = _CELL_CODE.match(cell)
    assert match, f"expected one `code` span, got {cell!r} in {row}"
    return match.group(1)


RULES = _rule_rows()


def _resolve(dotted: str) -> object:
    """The object at `dotted` (module.path.name, or module.path.Class.method): the longest
    importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            # Only a missing module of this very path means "try a shorter prefix".
            if error.name is not None and module_name.startswith(error.name):
                continue
            raise
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(f"no module in {dotted!r}")


@cache
def _test_names(path: Path) -> frozenset[str]:
    """Names of the test functions in `path`, at module level and inside classes."""
    names = set()
    bodies = [ast.parse(path.read_text(), filename=str(path)).body]
    while bodies:
        for node in bodies.pop():
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
            elif isinstance(node, ast.ClassDef):
                bodies.append(node.body)
    return frozenset(names)


def test_the_table_maps_every_section_of_the_rules():
    assert len(RULES) >= 60, f"only {len(RULES)} rules read from {ARCHITECTURE}"
    assert {row[0] for row in RULES} == DESIGN_SECTIONS
    assert all(row[1] for row in RULES), "a row without its rule"


@pytest.mark.parametrize("row", RULES, ids=[row[1][:60] for row in RULES])
def test_each_rules_function_exists(row):
    dotted = _code(row[2], row)
    try:
        found = _resolve(dotted)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{dotted} (docs/architecture.md, rule {row[1]!r}) cannot be found: {error}")
    assert callable(found), f"{dotted} is not a function or class"


@pytest.mark.parametrize("row", RULES, ids=[row[1][:60] for row in RULES])
def test_each_rules_test_exists(row):
    reference = _code(row[3], row)
    path_text, separator, name = reference.partition("::")
    assert separator and name, f"{reference!r} is not tests/path/test_file.py::test_name"
    path = ROOT / path_text
    assert path.is_file(), f"{path_text} (docs/architecture.md, rule {row[1]!r}) does not exist"
    assert name.startswith("test_"), f"{reference} does not name a test"
    assert name in _test_names(path), f"{path_text} has no {name} (rule {row[1]!r})"


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("document", _documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_point_at_files_that_exist(document):
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.DOTALL)
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # another site, an e-mail address, or a place on the same page
        path = target.split("#", 1)[0]
        if not (document.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to missing files: {broken}"


def test_the_readme_links_to_every_page_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    linked = {
        (ROOT / target.split("#", 1)[0]).resolve()
        for target in _LINK.findall(readme)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")
    }
    pages = set((ROOT / "docs").rglob("*.md"))
    assert sorted(str(p.relative_to(ROOT)) for p in pages - linked) == []
