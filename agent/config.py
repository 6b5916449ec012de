"""The agent's config file (INI), its log file and its ledger.

    [service]
    url = https://severa.example.com
    key = sva_…                       (the agent key: the only secret kept here)

    [vismaglobal]
    adapter = agent.vismaglobal.fake:FakeVismaGlobal
    company = DEMO
    data_file = …/fake-visma-global.json   (the fake only)

    [agent]
    log_file = …/severa-agent.log           (rotated at 5 MB, 5 kept)
    ledger_file = …/ledger.sqlite3

The file is found at `--config`, else $SEVERA_AGENT_CONFIG, else
%PROGRAMDATA%\\Severa Agent\\agent.ini (Windows) or ~/.config/severa-agent/agent.ini.
"""

from __future__ import annotations

import configparser
import importlib
import logging
import logging.handlers
import os
import sys
import uuid
from pathlib import Path
from typing import Any

DEFAULT_ADAPTER = "agent.vismaglobal.fake:FakeVismaGlobal"


def default_path() -> Path:
    if os.environ.get("SEVERA_AGENT_CONFIG"):
        return Path(os.environ["SEVERA_AGENT_CONFIG"])
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", "C:\\ProgramData")) / "Severa Agent" / "agent.ini"
    return Path.home() / ".config" / "severa-agent" / "agent.ini"


class Config:
    def __init__(self, path: Path):
        self.path = path
        self.parser = configparser.ConfigParser()
        if path.exists():
            self.parser.read(path, encoding="utf-8")
        for section in ("service", "vismaglobal", "agent"):
            if not self.parser.has_section(section):
                self.parser.add_section(section)

    def get(self, section: str, name: str, default: str = "") -> str:
        return self.parser.get(section, name, fallback=default).strip()

    def set(self, section: str, name: str, value: str) -> None:
        self.parser.set(section, name, value)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as handle:
            self.parser.write(handle)
        if os.name != "nt":
            os.chmod(self.path, 0o600)

    def problems(self) -> list[str]:
        problems = []
        url = self.get("service", "url")
        if not url:
            problems.append("No service address: run `severa-agent configure --url …`.")
        elif not url.startswith("https://") and not url.startswith(
            ("http://127.0.0.1", "http://localhost")
        ):
            problems.append("The service address must start with https://.")
        if not self.get("service", "key"):
            problems.append(
                "No agent key: copy it from the connection page (`severa-agent configure --key …`)."
            )
        return problems

    def instance_id(self) -> str:
        """This installation's id (made once and kept): `check` and `run` on one server are
        one agent to the service; another server configured with the same key is not."""
        value = self.get("agent", "instance_id")
        if not value:
            value = uuid.uuid4().hex
            self.set("agent", "instance_id", value)
            self.save()
        return value

    def ledger_path(self) -> str:
        return self.get("agent", "ledger_file") or str(self.folder / "ledger.sqlite3")

    def log_path(self) -> str:
        return self.get("agent", "log_file") or str(self.folder / "severa-agent.log")

    def visma_global(self) -> Any:
        """The adapter named in the config (the fake by default)."""
        spec = self.get("vismaglobal", "adapter") or DEFAULT_ADAPTER
        module_name, _, class_name = spec.partition(":")
        adapter_class = getattr(importlib.import_module(module_name), class_name)
        options: dict[str, Any] = {}
        if self.get("vismaglobal", "company"):
            options["company"] = self.get("vismaglobal", "company")
        if spec == DEFAULT_ADAPTER:
            options["path"] = self.get("vismaglobal", "data_file") or str(
                self.folder / "fake-visma-global.json"
            )
        return adapter_class(**options)


def logging_setup(path: str, level: str = "INFO") -> None:
    """Log to a rotating file (5 MB, 5 kept) and to the console."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("severa_agent")
    logger.setLevel(level.upper())
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(formatter)
    console = logging.StreamHandler()
    console.setFormatter(formatter)
    logger.handlers = [file_handler, console]
