"""Delivering e-invoices (billing/einvoice/delivery.py, billing/einvoice/transports.py): the
invoice delivery task queues the buyer's Finvoice or Peppol document once, and the relay
sends it through the file drop or an operator's HTTP endpoint, with the e-mail outbox's
backoff, a failed state operators see, and a Retry that sends the same document."""

import datetime
import http.server
import threading

import pytest

from accounts.models import AuditEvent
from billing.delivery_tasks import invoice_deliver_task
from billing.einvoice.delivery import einvoice_delivery_send, einvoice_relay
from billing.einvoice.transports import HttpOperatorTransport, TransportError
from billing.models import EInvoiceDelivery
from severa import clock
from tests.billing.einvoice.builders import buyer_create, invoice_issue, seller_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unscoped")]
T0 = datetime.datetime(2024, 8, 19, 7, 0, tzinfo=datetime.UTC)
MAVENTA = "003721291126"


class FakeOperator(http.server.ThreadingHTTPServer):
    """An operator's endpoint on 127.0.0.1: answers the queued statuses first (503, 400…),
    then 201 with a Location; keeps every request and the documents it accepted."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeOperatorHandler)
        self.statuses: list[int] = []
        self.requests: list[dict] = []
        self.accepted: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/invoices"


class FakeOperatorHandler(http.server.BaseHTTPRequestHandler):
    server: FakeOperator

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"headers": dict(self.headers), "body": body})
        status = self.server.statuses.pop(0) if self.server.statuses else 201
        self.send_response(status)
        if status == 201:
            self.server.accepted.append(body)
            self.send_header("Location", f"/invoices/{len(self.server.accepted)}")
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"answer\n")

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_operator(settings):
    server = FakeOperator()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EINVOICE_TRANSPORT = "http"
    settings.EINVOICE_HTTP_URL = server.url
    settings.EINVOICE_HTTP_TOKEN = "operator-token"
    settings.EINVOICE_HTTP_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def drop_dir(settings, tmp_path):
    settings.EINVOICE_TRANSPORT = "file"
    settings.EINVOICE_DROP_DIR = str(tmp_path)
    return tmp_path


def deliver(invoice) -> None:
    with clock.frozen(T0):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
        ).get()


def finvoice_invoice():
    tenant = buyer_create("FI", einvoice_address="003701120389", einvoice_operator=MAVENTA)
    return invoice_issue(tenant=tenant, seller=seller_create("FI"))


def peppol_invoice():
    tenant = buyer_create("NO", peppol_id="0192:923609016")
    return invoice_issue(
        tenant=tenant, seller=seller_create("FI"), currency="NOK", invoice_date=T0.date()
    )


def test_the_file_drop_writes_the_validated_finvoice_once(drop_dir, assert_finvoice_valid):
    invoice = finvoice_invoice()
    deliver(invoice)
    deliver(invoice)  # a redelivered task queues nothing more
    delivery = EInvoiceDelivery.objects.get(invoice=invoice)
    assert (delivery.channel, delivery.status, delivery.tenant_id) == (
        "finvoice",
        "pending",
        invoice.tenant_id,
    )

    with clock.frozen(T0):
        assert einvoice_relay() == {"sent": 1}
        assert einvoice_relay() == {}

    files = [path for path in drop_dir.rglob("*") if path.is_file()]
    target = drop_dir / "finvoice" / f"{invoice.series}-{invoice.number}.xml"
    assert files == [target]
    assert target.read_bytes() == bytes(delivery.document)
    assert_finvoice_valid(target.read_bytes())
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, T0)
    assert delivery.remote_reference == str(target)

    # A resend after a crash between the write and the commit finds its own file: delivered.
    EInvoiceDelivery.objects.filter(pk=delivery.pk).update(status="pending")
    with clock.frozen(T0):
        assert einvoice_delivery_send(delivery_id=delivery.pk) == "sent"
    assert [path for path in drop_dir.rglob("*") if path.is_file()] == [target]

    # A different document under the same name is never overwritten.
    target.write_bytes(b"<other/>")
    EInvoiceDelivery.objects.filter(pk=delivery.pk).update(status="pending")
    with clock.frozen(T0):
        assert einvoice_delivery_send(delivery_id=delivery.pk) == "failed"
    assert target.read_bytes() == b"<other/>"


def test_http_retries_temporary_failures_with_one_idempotency_key(fake_operator, assert_ubl_valid):
    invoice = peppol_invoice()
    deliver(invoice)
    delivery = EInvoiceDelivery.objects.get(invoice=invoice)
    assert delivery.channel == "peppol"
    fake_operator.statuses = [503, 503]

    with clock.frozen(T0):
        assert einvoice_relay() == {"retry": 1}
        assert einvoice_relay() == {}  # not due yet
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == T0 + datetime.timedelta(minutes=1)
    assert "HTTP 503" in delivery.last_error
    with clock.frozen(T0 + datetime.timedelta(minutes=1)):
        assert einvoice_relay() == {"retry": 1}
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + datetime.timedelta(minutes=6)
    with clock.frozen(T0 + datetime.timedelta(minutes=6)):
        assert einvoice_relay() == {"sent": 1}
        assert einvoice_relay() == {}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.remote_reference) == (
        "sent",
        3,
        "/invoices/1",
    )
    key = f"{invoice.series}-{invoice.number}-peppol"
    assert [r["headers"]["Idempotency-Key"] for r in fake_operator.requests] == [key] * 3
    assert {r["headers"]["Authorization"] for r in fake_operator.requests} == {
        "Bearer operator-token"
    }
    assert {r["body"] for r in fake_operator.requests} == {bytes(delivery.document)}
    assert fake_operator.accepted == [bytes(delivery.document)]
    assert_ubl_valid(fake_operator.accepted[0])


def test_temporary_failures_end_failed_after_the_last_attempt(fake_operator):
    invoice = peppol_invoice()
    deliver(invoice)
    fake_operator.statuses = [503] * 5
    now = T0
    for delay in (0, 1, 5, 30, 120):
        now += datetime.timedelta(minutes=delay)
        with clock.frozen(now):
            einvoice_relay()
    delivery = EInvoiceDelivery.objects.get(invoice=invoice)
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    assert len(fake_operator.requests) == 5 and fake_operator.accepted == []


def test_a_rejected_document_fails_at_once_and_an_operator_retries_it(
    fake_operator, operator, verified_client, django_capture_on_commit_callbacks
):
    invoice = peppol_invoice()
    deliver(invoice)
    fake_operator.statuses = [400]
    with clock.frozen(T0):
        assert einvoice_relay() == {"failed": 1}
    delivery = EInvoiceDelivery.objects.get(invoice=invoice)
    document = bytes(delivery.document)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("TransportError: HTTP 400 from the operator")

    client = verified_client(operator)
    page = client.get("/operator/einvoices/?status=failed").content.decode()
    assert invoice.display_number in page and "HTTP 400" in page
    assert f"/operator/einvoices/{delivery.pk}/retry/" in page
    assert "Failed (1)" in page
    assert (
        invoice.display_number
        not in client.get("/operator/einvoices/?status=sent").content.decode()
    )
    assert "/operator/einvoices/" in client.get("/operator/").content.decode()

    retried_at = T0 + datetime.timedelta(hours=1)
    with clock.frozen(retried_at), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/operator/einvoices/{delivery.pk}/retry/", {"status": "failed"})
    assert response.status_code == 302
    assert response["Location"] == "/operator/einvoices/?status=failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.sent_at) == ("sent", 1, retried_at)
    assert fake_operator.accepted == [document]
    assert (
        AuditEvent.objects.get(action="einvoice_delivery.retried").details["previous_attempts"] == 1
    )

    # A second press sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/operator/einvoices/{delivery.pk}/retry/")
    assert again.status_code == 302
    assert len(fake_operator.accepted) == 1
    assert len(fake_operator.requests) == 2


def test_a_buyer_without_einvoice_address_or_peppol_id_gets_no_delivery(drop_dir):
    tenant = buyer_create("FI")
    invoice = invoice_issue(tenant=tenant, seller=seller_create("FI"))
    deliver(invoice)
    assert not EInvoiceDelivery.objects.filter(invoice=invoice).exists()
    assert einvoice_relay() == {}


def test_an_unreachable_operator_is_a_temporary_failure(fake_operator):
    invoice = peppol_invoice()
    deliver(invoice)
    delivery = EInvoiceDelivery.objects.select_related("invoice").get(invoice=invoice)
    port = fake_operator.server_address[1]
    fake_operator.shutdown()
    fake_operator.server_close()
    transport = HttpOperatorTransport(url=f"http://127.0.0.1:{port}/", timeout=2)
    with pytest.raises(TransportError) as raised:
        transport.send(delivery)
    assert raised.value.temporary
