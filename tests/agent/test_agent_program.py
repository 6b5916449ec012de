"""The agent program on its own: its config, check, log, and the fake Visma Global."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat

import pytest

from agent import cli
from agent.config import Config, logging_setup
from agent.service import Response, Service, ServiceError
from agent.vismaglobal.fake import FakeVismaGlobal
from agent.vismaglobal.interface import VismaGlobalError


class Answers:
    """A transport answering from a list (the service as the agent sees it)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, method, url, headers, body):
        self.sent.append((method, url, headers))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_configure_keeps_the_key_in_the_config_file_only_for_its_owner(tmp_path, capsys):
    path = tmp_path / "agent.ini"
    assert (
        cli.main(
            [
                "--config",
                str(path),
                "configure",
                "--url",
                "https://severa.example",
                "--key",
                "sva_k",
            ]
        )
        == 0
    )
    config = Config(path)
    assert config.get("service", "url") == "https://severa.example"
    assert config.get("service", "key") == "sva_k"
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.problems() == []


def test_check_says_in_words_what_is_wrong(tmp_path, capsys):
    path = tmp_path / "agent.ini"
    cli.main(["--config", str(path), "configure", "--url", "http://severa.example"])
    assert cli.main(["--config", str(path), "check"]) == 1
    out = capsys.readouterr().out
    assert "must start with https://" in out
    assert "No agent key" in out
    assert "Visma Global 13.4, company DEMO: reachable" in out


def test_check_reports_a_refused_key_and_an_old_agent(tmp_path, capsys):
    path = tmp_path / "agent.ini"
    cli.main(["--config", str(path), "configure", "--url", "https://s.example", "--key", "sva_x"])
    args = cli.argparse.Namespace(config=str(path))
    refused = Service(
        "https://s.example",
        "sva_x",
        retries=0,
        transport=Answers(
            Response(
                401,
                {
                    "error": {
                        "code": "unauthorized",
                        "message": "The agent key is not valid: it was revoked or replaced.",
                    }
                },
            )
        ),
    )
    assert cli.check(args, service=refused) == 1
    assert "revoked or replaced" in capsys.readouterr().out
    old = Service(
        "https://s.example",
        "sva_x",
        transport=Answers(
            Response(
                200, {"upgrade_required": True, "minimum_version": "2.0.0", "next_poll_seconds": 60}
            )
        ),
    )
    assert cli.check(args, service=old) == 1
    assert "install version 2.0.0" in capsys.readouterr().out
    fine = Service(
        "https://s.example",
        "sva_x",
        transport=Answers(
            Response(
                200,
                {"upgrade_required": False, "minimum_version": "1.0.0", "next_poll_seconds": 60},
            )
        ),
    )
    assert cli.check(args, service=fine) == 0
    assert "Everything is in order." in capsys.readouterr().out


def test_the_service_client_retries_429_and_lost_answers_then_gives_up(tmp_path):
    naps = []
    transport = Answers(
        Response(429, {}, retry_after=2.0),
        ServiceError("unreachable", "reset"),
        Response(200, {"job": None, "next_poll_seconds": 60}),
    )
    service = Service("https://s.example", "sva_x", transport=transport, sleep=naps.append)
    assert service.next_job(wait=0)["next_poll_seconds"] == 60
    assert naps == [2.0, 2.0]
    assert transport.sent[0][2]["Authorization"] == "Bearer sva_x"
    down = Service(
        "https://s.example",
        "k",
        retries=1,
        sleep=naps.append,
        transport=Answers(Response(503, {}), Response(503, {})),
    )
    with pytest.raises(ServiceError):
        down.settings()


def test_the_log_file_rotates(tmp_path):
    path = tmp_path / "logs" / "severa-agent.log"
    logging_setup(str(path))
    handler = logging.getLogger("severa_agent").handlers[0]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert handler.maxBytes == 5 * 1024 * 1024 and handler.backupCount == 5
    logging.getLogger("severa_agent").info("hello")
    handler.flush()
    assert "hello" in path.read_text()


def test_the_fake_is_strict_and_keeps_number_series_and_the_order_cycle(tmp_path):
    vg = FakeVismaGlobal(path=tmp_path / "vg.json")
    with pytest.raises(VismaGlobalError, match="Field Colour does not exist"):
        vg.create("article", {"ArticleNo": "1", "Name": "X", "Colour": "red"})
    with pytest.raises(VismaGlobalError, match="Customer type 5 does not exist"):
        vg.create("customer", {"Name": "A", "CustomerTypeNo": 5})
    first = vg.create("customer", {"Name": "A", "CustomerTypeNo": 1})
    assert first["CustomerNo"] == "10000"
    with pytest.raises(VismaGlobalError, match="lies ahead in the customer number series"):
        vg.create("customer", {"CustomerNo": "10005", "Name": "B"})
    order = vg.create("order", {"CustomerNo": "10000", "ExternalRef": "r-1", "Rows": []})
    with pytest.raises(VismaGlobalError, match="sent before it is paid"):
        vg.invoice_pay(vg.order_to_invoice(order["OrderNo"]))
    number = vg.order_to_invoice(order["OrderNo"])
    vg.invoice_send(number)
    vg.invoice_pay(number)
    assert vg.order_states() == [
        {
            "OrderNo": order["OrderNo"],
            "ExternalRef": "r-1",
            "InvoiceNo": number,
            "Sent": True,
            "Paid": True,
        }
    ]
    # Kept in its file: the agent restarted sees the same company.
    assert FakeVismaGlobal(path=tmp_path / "vg.json").get("customer", "10000")["Name"] == "A"
    vg.unlicensed.add("Project")
    with pytest.raises(VismaGlobalError) as refused:
        vg.list("project")
    assert refused.value.kind == "permission"
