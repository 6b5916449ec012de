"""E-invoice validation in tests: the official artefacts, loaded once per session, and the
two assertions every generated document must pass.

- ``einvoice_artefacts`` (session): finds ``../shared/einvoice`` (or the folder named by
  ``SEVERA_EINVOICE_ARTEFACTS``), parses the schemas and compiles both XSLTs once. Where the
  folder is absent every test that needs it is skipped, and the skip says why.
- ``assert_finvoice_valid(xml)``: zero errors from ``finvoice_errors`` (XSD + our checks).
- ``assert_ubl_valid(xml)``: zero fatal from ``ubl_errors`` (XSD + EN 16931 + Peppol).
  Schematron warnings do not fail a test: Peppol access points deliver documents with
  warnings. Each one is recorded and printed in a section of the terminal summary, by rule;
  ``SEVERA_EINVOICE_WARNINGS=error`` makes them fail the test instead.
"""

import os
from collections import Counter

import pytest

from billing.einvoice.validation import (
    ArtefactsMissing,
    artefacts_dir,
    finvoice_errors,
    ubl_errors,
    warm_up,
)

_WARNINGS: Counter = Counter()


@pytest.fixture(scope="session")
def einvoice_artefacts():
    try:
        folder = artefacts_dir()
        warm_up()
    except ArtefactsMissing as error:
        pytest.skip(str(error))
    return folder


@pytest.fixture
def assert_finvoice_valid(einvoice_artefacts):
    def check(xml: bytes) -> None:
        errors = finvoice_errors(xml)
        assert errors == [], "\n".join(errors) + "\n\n" + xml.decode("iso-8859-15")

    return check


@pytest.fixture
def assert_ubl_valid(einvoice_artefacts, request):
    def check(xml: bytes) -> list[str]:
        fatal, warnings = ubl_errors(xml)
        assert fatal == [], "\n".join(fatal) + "\n\n" + xml.decode("utf-8")
        for warning in warnings:
            _WARNINGS[warning.split(" (at ")[0]] += 1
            print(f"e-invoice warning in {request.node.nodeid}: {warning}")  # noqa: T201
        if os.environ.get("SEVERA_EINVOICE_WARNINGS") == "error":
            assert warnings == []
        return warnings

    return check


def pytest_terminal_summary(terminalreporter):
    if not _WARNINGS:
        return
    terminalreporter.section("e-invoice schematron warnings (advisory, not failures)")
    for text, count in _WARNINGS.most_common():
        terminalreporter.write_line(f"{count:4d} × {text}")
