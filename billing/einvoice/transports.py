"""How a queued e-invoice (``EInvoiceDelivery``) leaves: a transport sends the stored
document and returns a remote reference, or raises ``TransportError`` saying whether a later
attempt may succeed (``temporary``) or not.

- ``FileDropTransport`` (``EINVOICE_TRANSPORT = "file"``, the default): writes
  ``<channel>/<series>-<number>.xml`` into ``EINVOICE_DROP_DIR`` atomically (a temporary file
  in the same folder, then ``os.replace``), for an operator's SFTP pickup or a mounted share.
  An identical file already there counts as delivered (a retry after a crash); a different
  one is never overwritten.
- ``HttpOperatorTransport`` (``"http"``): POSTs the document to ``EINVOICE_HTTP_URL`` with
  ``Authorization: Bearer EINVOICE_HTTP_TOKEN`` and an ``Idempotency-Key`` of
  ``<series>-<number>-<channel>``, the same on every attempt, so the operator accepts a
  retried POST once. 5xx, 408, 429, timeouts and connection errors are temporary; any other
  4xx is permanent.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from billing.models import EInvoiceDelivery

# Statuses under 500 that still mean "try again later".
TEMPORARY_CLIENT_STATUSES = frozenset({408, 425, 429})
REFERENCE_MAX_LENGTH = 500


class TransportError(Exception):
    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class Transport(Protocol):
    def send(self, delivery: EInvoiceDelivery) -> str:
        """Deliver `delivery.document`; the remote reference. Raises TransportError."""
        ...


def delivery_name(delivery: EInvoiceDelivery) -> str:
    """The invoice's number as the operator sees it, e.g. INV-12."""
    return f"{delivery.invoice.series}-{delivery.invoice.number}"


def idempotency_key(delivery: EInvoiceDelivery) -> str:
    return f"{delivery_name(delivery)}-{delivery.channel}"


class FileDropTransport:
    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory or settings.EINVOICE_DROP_DIR)

    def send(self, delivery: EInvoiceDelivery) -> str:
        document = bytes(delivery.document)
        folder = self.directory / delivery.channel
        target = folder / f"{delivery_name(delivery)}.xml"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if target.exists():
                if target.read_bytes() == document:
                    return str(target)
                raise TransportError(
                    f"{target} exists with a different document; not overwritten",
                    temporary=False,
                )
            handle, temporary_path = tempfile.mkstemp(
                dir=folder, prefix=f".{target.name}.", suffix=".tmp"
            )
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(document)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary_path, target)
            except BaseException:
                Path(temporary_path).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TransportError(f"Writing {target} failed: {error}", temporary=True) from error
        return str(target)


class HttpOperatorTransport:
    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float | None = None
    ) -> None:
        self.url = url if url is not None else settings.EINVOICE_HTTP_URL
        self.token = token if token is not None else settings.EINVOICE_HTTP_TOKEN
        self.timeout = timeout if timeout is not None else settings.EINVOICE_HTTP_TIMEOUT
        if not self.url:
            raise ImproperlyConfigured("EINVOICE_TRANSPORT is http but EINVOICE_HTTP_URL is empty")

    def send(self, delivery: EInvoiceDelivery) -> str:
        key = idempotency_key(delivery)
        headers = {
            "Content-Type": "application/xml",
            "Idempotency-Key": key,
            "X-Einvoice-Channel": delivery.channel,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's, from settings)
            self.url, data=bytes(delivery.document), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                location = response.headers.get("Location", "")
                body = response.read(REFERENCE_MAX_LENGTH).decode("utf-8", "replace").strip()
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace").strip()
            temporary = error.code >= 500 or error.code in TEMPORARY_CLIENT_STATUSES
            raise TransportError(
                f"HTTP {error.code} from the operator: {detail}", temporary=temporary
            ) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise TransportError(f"The operator is unreachable: {error}", temporary=True) from error
        return (location or body or key)[:REFERENCE_MAX_LENGTH]


def transport_get() -> Transport:
    """The transport EINVOICE_TRANSPORT names ("file", the default, or "http")."""
    name = getattr(settings, "EINVOICE_TRANSPORT", "file")
    if name == "file":
        return FileDropTransport()
    if name == "http":
        return HttpOperatorTransport()
    raise ImproperlyConfigured(f"Unknown EINVOICE_TRANSPORT {name!r}: use 'file' or 'http'")
