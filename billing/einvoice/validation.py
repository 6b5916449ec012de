"""Validation of e-invoices against the official artefacts, and the project's own checks.

- ``finvoice_errors(xml_bytes)``: the Finvoice 3.0 XSD (lxml) on the ``<Finvoice>`` message
  (after the SOAP routing frame, when one is in front of it), plus the checks the XSD cannot
  make: the sums (rows = totals, VAT per category and rate, total with VAT, amount to pay
  with the cash rounding), dates, and identifiers (IBAN, BIC, payment reference, business
  ids, VAT numbers, eInvoice addresses and operators; ``finvoice_checks``). No official
  Finvoice business rules exist as an artefact, so these are ours. Empty list = valid.
- ``ubl_errors(xml_bytes)``: the UBL 2.1 XSD (lxml), then the CEN EN 16931 and the Peppol
  BIS Billing 3.0 schematron, compiled XSLT run by Saxon-HE (saxonche) to SVRL. Returns
  ``(fatal, warnings)``: XSD errors and every ``failed-assert`` / ``successful-report``
  flagged ``fatal`` reject the document; those flagged ``warning`` are advice an access
  point delivers anyway. Callers fail on ``fatal`` and report ``warnings``.

The artefacts are read from ``../shared/einvoice`` beside the checkout, or from the folder
named by ``SEVERA_EINVOICE_ARTEFACTS``; they are never copied into the project. Without them
every function raises ``ArtefactsMissing`` (the tests skip, saying why). Schemas are parsed
and the two XSLTs compiled once per process (about 0.6 s; a document then costs about 10 ms).
saxonche is a test dependency: nothing at run time validates.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from billing.einvoice.finvoice_checks import finvoice_rule_errors

ARTEFACTS_ENVIRONMENT_VARIABLE = "SEVERA_EINVOICE_ARTEFACTS"
# The checkout's parent holds shared/ (billing/einvoice/validation.py -> checkout -> parent).
DEFAULT_ARTEFACTS = Path(__file__).resolve().parents[3] / "shared" / "einvoice"
FINVOICE_XSD = "finvoice3/xsd/Finvoice3.0.xsd"
# The OASIS "runtime" schemas: the same constraints without documentation, faster to load.
UBL_XSDS = {
    "Invoice": "ubl21/xsdrt/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl21/xsdrt/maindoc/UBL-CreditNote-2.1.xsd",
}
CEN_XSLT = "en16931/ubl/xslt/EN16931-UBL-validation.xslt"
PEPPOL_XSLT = "peppol-bis3/xslt/PEPPOL-EN16931-UBL.xslt"
REQUIRED = (FINVOICE_XSD, *UBL_XSDS.values(), CEN_XSLT, PEPPOL_XSLT)

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
SOAP_END = b"</SOAP-ENV:Envelope>"
EBXML = "{http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd}"
FLAG_FATAL = "fatal"

# Documents are ours or official examples, but never let a parser reach out or expand
# entities.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class ArtefactsMissing(RuntimeError):
    """The official schemas and schematron are not where they are looked for."""


def artefacts_dir() -> Path:
    """The folder of the validation artefacts; ArtefactsMissing if it is incomplete."""
    configured = os.environ.get(ARTEFACTS_ENVIRONMENT_VARIABLE)
    folder = Path(configured).expanduser() if configured else DEFAULT_ARTEFACTS
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise ArtefactsMissing(
            f"E-invoice validation artefacts not found in {folder} (missing {missing[0]}"
            f"{' and more' if len(missing) > 1 else ''}): put the shared einvoice bundle "
            f"beside the checkout or set {ARTEFACTS_ENVIRONMENT_VARIABLE}"
        )
    return folder


# Compiled once per process (per artefacts folder).

_compile_lock = threading.Lock()


@cache
def _finvoice_schema(folder: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(folder / FINVOICE_XSD), _PARSER))


@cache
def _ubl_schemas(folder: Path) -> dict[str, etree.XMLSchema]:
    return {
        root: etree.XMLSchema(etree.parse(str(folder / path), _PARSER))
        for root, path in UBL_XSDS.items()
    }


@cache
def _schematron(folder: Path) -> tuple[Any, dict[str, Any]]:
    """One Saxon processor and the two compiled stylesheets: (processor, {layer: exe})."""
    try:
        from saxonche import PySaxonProcessor
    except ImportError as error:  # a test dependency: pip install -e '.[test]'
        raise ArtefactsMissing(f"saxonche is not installed ({error})") from error
    with _compile_lock:
        processor = PySaxonProcessor(license=False)
        compiler = processor.new_xslt30_processor()
        executables = {
            layer: compiler.compile_stylesheet(stylesheet_file=str(folder / path))
            for layer, path in (("EN16931", CEN_XSLT), ("PEPPOL", PEPPOL_XSLT))
        }
    return processor, executables


def warm_up() -> None:
    """Load every schema and compile both stylesheets now (a test session's first use)."""
    folder = artefacts_dir()
    _finvoice_schema(folder)
    _ubl_schemas(folder)
    _schematron(folder)


# UBL.


@dataclass(frozen=True)
class Assertion:
    layer: str  # "EN16931" or "PEPPOL"
    id: str  # e.g. "BR-CO-16"
    flag: str  # "fatal" or "warning"
    location: str
    text: str

    def __str__(self) -> str:
        location = re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", self.location).replace("*:", "")
        return f"{self.layer} {self.text} (at {location})"


@dataclass(frozen=True)
class UblReport:
    xsd_errors: list[str] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)

    @property
    def fatal(self) -> list[str]:
        return [f"XSD {error}" for error in self.xsd_errors] + [
            str(item) for item in self.assertions if item.flag == FLAG_FATAL
        ]

    @property
    def warnings(self) -> list[str]:
        return [str(item) for item in self.assertions if item.flag != FLAG_FATAL]

    def fatal_ids(self, layer: str | None = None) -> set[str]:
        return {
            item.id
            for item in self.assertions
            if item.flag == FLAG_FATAL and (layer is None or item.layer == layer)
        }


def ubl_report(xml_bytes: bytes) -> UblReport:
    """The UBL document checked by the XSD and both schematron layers."""
    folder = artefacts_dir()
    try:
        document = etree.fromstring(xml_bytes, _PARSER)
    except etree.XMLSyntaxError as error:
        return UblReport(xsd_errors=[f"not well-formed XML: {error}"])
    root_name = etree.QName(document).localname
    schema = _ubl_schemas(folder).get(root_name)
    if schema is None:
        return UblReport(xsd_errors=[f"root element {root_name} is neither Invoice nor CreditNote"])
    schema.validate(document)
    xsd_errors = [f"line {error.line}: {error.message}" for error in schema.error_log]
    processor, executables = _schematron(folder)
    node = processor.parse_xml(xml_text=xml_bytes.decode("utf-8"))
    assertions = []
    for layer, executable in executables.items():
        assertions += _svrl_read(layer, executable.transform_to_string(xdm_node=node))
    return UblReport(xsd_errors=xsd_errors, assertions=assertions)


def ubl_errors(xml_bytes: bytes) -> tuple[list[str], list[str]]:
    """(fatal, warnings) of a UBL 2.1 Invoice or CreditNote: XSD, EN 16931 and Peppol."""
    report = ubl_report(xml_bytes)
    return report.fatal, report.warnings


def _svrl_read(layer: str, svrl: str) -> list[Assertion]:
    root = etree.fromstring(svrl.encode("utf-8"), _PARSER)
    return [
        Assertion(
            layer=layer,
            id=element.get("id", ""),
            flag=element.get("flag", FLAG_FATAL),
            location=element.get("location", ""),
            text=" ".join((element.findtext(f"{SVRL}text") or "").split()),
        )
        for element in root.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report")
    ]


# Finvoice.


def split_soap_frame(data: bytes) -> tuple[bytes | None, bytes]:
    """A Finvoice file with the SOAP routing frame is two XML documents one after the other:
    (frame, message); (None, data) without a frame."""
    end = data.find(SOAP_END)
    if end == -1:
        return None, data
    end += len(SOAP_END)
    return data[:end], data[end:].lstrip()


def finvoice_errors(xml_bytes: bytes) -> list[str]:
    """Everything wrong with a Finvoice 3.0 file (with or without its SOAP frame)."""
    frame, body = split_soap_frame(xml_bytes)
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        return [f"xml: not well-formed: {error}"]
    errors = finvoice_schema_errors(root)
    if frame is not None:
        errors += soap_frame_errors(frame, root)
    return errors + finvoice_rule_errors(root)


def finvoice_schema_errors(root: etree._Element) -> list[str]:
    schema = _finvoice_schema(artefacts_dir())
    schema.validate(root)
    return [f"XSD line {error.line}: {error.message}" for error in schema.error_log]


def soap_frame_errors(frame: bytes, root: etree._Element) -> list[str]:
    """The routing frame names a sender, a receiver, both intermediators and a message id,
    and agrees with the message's own transmission details where it has them."""
    try:
        envelope = etree.fromstring(frame, _PARSER)
    except etree.XMLSyntaxError as error:
        return [f"frame: not well-formed XML: {error}"]
    parties = {}
    for tag in ("From", "To"):
        for party in envelope.iter(EBXML + tag):
            parties[(tag, party.findtext(EBXML + "Role"))] = party.findtext(EBXML + "PartyId")
    errors = [
        f"frame: no {tag} party with role {role}"
        for tag, role in (
            ("From", "Sender"),
            ("From", "Intermediator"),
            ("To", "Receiver"),
            ("To", "Intermediator"),
        )
        if not parties.get((tag, role))
    ]
    if not envelope.findtext(f".//{EBXML}MessageId"):
        errors.append("frame: no MessageId")
    transmission = root.find("MessageTransmissionDetails")
    if transmission is not None:
        for path, key in (
            ("MessageReceiverDetails/ToIdentifier", ("To", "Receiver")),
            ("MessageReceiverDetails/ToIntermediator", ("To", "Intermediator")),
        ):
            if transmission.findtext(path) != parties.get(key):
                errors.append(f"frame: {key[0]} {key[1]} differs from the message's {path}")
    return errors
