"""`severa-agent configure | run | check`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent import __version__
from agent.config import Config, default_path, logging_setup
from agent.jobs import Ledger
from agent.runner import AgentRunner
from agent.service import Service, ServiceError
from agent.vismaglobal.interface import VismaGlobalError


def _config(args: argparse.Namespace) -> Config:
    return Config(Path(args.config) if args.config else default_path())


def configure(args: argparse.Namespace) -> int:
    config = _config(args)
    for section, name, value in (
        ("service", "url", args.url),
        ("service", "key", args.key),
        ("vismaglobal", "adapter", args.adapter),
        ("vismaglobal", "company", args.company),
        ("vismaglobal", "data_file", args.data_file),
        ("agent", "log_file", args.log_file),
    ):
        if value is not None:
            config.set(section, name, value)
    config.save()
    print(f"Saved {config.path}")
    for problem in config.problems():
        print(problem)
    return 0


def check(args: argparse.Namespace, *, service: Service | None = None) -> int:
    """Can the agent reach the service and Visma Global? Prints what is wrong in words."""
    config = _config(args)
    problems = config.problems()
    try:
        vg = config.visma_global()
        problems += vg.check()
        print(f"Visma Global {vg.version()}, company {vg.company()}: reachable.")
    except (VismaGlobalError, ImportError, AttributeError, OSError) as error:
        problems.append(f"Visma Global cannot be reached: {error}")
        vg = None
    if not config.problems():
        service = service or Service(
            config.get("service", "url"),
            config.get("service", "key"),
            instance_id=config.instance_id(),
            retries=0,
        )
        try:
            answer = service.heartbeat(
                remote_version=vg.version() if vg else "", remote_company=vg.company() if vg else ""
            )
            if answer.get("upgrade_required"):
                problems.append(
                    f"This agent ({__version__}) is too old: install version "
                    f"{answer.get('minimum_version')} or later."
                )
            else:
                print(f"The service at {config.get('service', 'url')}: reachable, key accepted.")
        except ServiceError as error:
            problems.append(str(error))
    for problem in problems:
        print(f"Problem: {problem}")
    if not problems:
        print("Everything is in order.")
    return 1 if problems else 0


def run(args: argparse.Namespace) -> int:
    config = _config(args)
    problems = config.problems()
    if problems:
        print("\n".join(problems))
        return 1
    logging_setup(config.log_path(), config.get("agent", "log_level", "INFO"))
    runner = AgentRunner(
        Service(
            config.get("service", "url"),
            config.get("service", "key"),
            instance_id=config.instance_id(),
        ),
        config.visma_global(),
        Ledger(config.ledger_path()),
    )
    try:
        runner.run()
    except KeyboardInterrupt:
        return 0
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="severa-agent", description="The Severa agent for Visma Global."
    )
    parser.add_argument("--config", help="the config file (default: %(default)s)", default=None)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("configure", help="store the service address and the agent key")
    setup.add_argument("--url")
    setup.add_argument("--key")
    setup.add_argument("--adapter", help="package.module:Class of the Visma Global adapter")
    setup.add_argument("--company", help="the Visma Global company")
    setup.add_argument("--data-file", dest="data_file", help="the fake's data file")
    setup.add_argument("--log-file", dest="log_file")
    commands.add_parser("run", help="run the agent (until stopped)")
    commands.add_parser("check", help="check the service and Visma Global can be reached")
    args = parser.parse_args(argv)
    return {"configure": configure, "run": run, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
