"""Run docker-compose.yml's app services outside Docker, as Docker would, with production
settings against the local PostgreSQL and Redis (scripts/check-compose.sh).

- ``migrate`` runs to completion;
- ``web`` runs on a free port and its own healthcheck command must pass, with
  ``SECURE_SSL_REDIRECT`` on and an ``ALLOWED_HOSTS`` that is not 127.0.0.1;
- ``worker`` and ``beat`` start and are still running a few seconds later.

The compose file's own commands and environment are used: ``${VAR:-default}`` and
``${VAR:?message}`` are resolved as Compose does, the services' addresses (db, redis) are
replaced by the local servers', paths under /app by this checkout and named volumes by
temporary folders. Exit status 1 when any service fails.
"""

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = "/app"
CONTAINER_PORT = "8000"
STAY_UP_SECONDS = float(os.environ.get("COMPOSE_CHECK_STAY_UP", "8"))
HEALTHY_WITHIN_SECONDS = 90

# What an operator would set: a real host name and the HTTPS redirect on.
OPERATOR_ENVIRONMENT = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DEFAULT_FROM_EMAIL": "Severa billing <billing@example.com>",
    "ALLOWED_HOSTS": "billing.example.com",
    "SITE_URL": "https://billing.example.com",
    "SECURE_SSL_REDIRECT": "true",
}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = variables.get(name)
        if op in (":-", "-"):
            return current if current else arg
        if op in (":?", "?"):
            if not current:
                raise SystemExit(f"compose: {name} is required: {arg}")
            return current
        return current or ""

    return INTERPOLATION.sub(replace, value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


class Services:
    def __init__(self, compose: dict, scratch: Path, database_url: str, redis_url: str) -> None:
        self.compose = compose
        self.scratch = scratch
        self.database_url = database_url
        self.redis_url = redis_url
        self.volumes: dict[str, Path] = {}
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _local_path(self, value: str, service: dict) -> str:
        """A path inside the container as the same path on this machine."""
        for mount in service.get("volumes", []):
            volume, target = mount.split(":")[:2]
            if value == target or value.startswith(target + "/"):
                folder = self.volumes.setdefault(volume, self.scratch / "volumes" / volume)
                return str(folder) + value[len(target) :]
        if value == APP_DIR or value.startswith(APP_DIR + "/"):
            return str(ROOT) + value[len(APP_DIR) :]
        return value

    def environment(self, name: str) -> dict[str, str]:
        service = self.compose["services"][name]
        variables = {**os.environ, **OPERATOR_ENVIRONMENT}
        env = {
            key: self._local_path(interpolate(str(value), variables), service)
            for key, value in (service.get("environment") or {}).items()
        }
        for key, value in list(env.items()):
            if value.startswith("postgres://"):
                env[key] = self.database_url
            elif value.startswith("redis://"):
                env[key] = self.redis_url
        for folder in self.volumes.values():
            folder.mkdir(parents=True, exist_ok=True)
        bin_dir = str(Path(sys.executable).parent)
        return {
            **{k: v for k, v in os.environ.items() if k not in OPERATOR_ENVIRONMENT},
            **env,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        }

    def command(self, name: str, port: int | None = None) -> list[str]:
        command = self.compose["services"][name].get("command")
        if command is None:
            raise SystemExit(f"compose: {name} has no command")
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if port is not None:
            # Published on this machine's loopback only, on a free port.
            argv = [
                arg.replace(f"0.0.0.0:{CONTAINER_PORT}", f"127.0.0.1:{port}") for arg in argv
            ]
        return argv

    def run(self, name: str) -> None:
        print(f"check-compose: {name}: {shlex.join(self.command(name))}", flush=True)
        result = subprocess.run(  # noqa: S603
            self.command(name), cwd=ROOT, env=self.environment(name), check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"check-compose: {name} exited with status {result.returncode}")

    def start(self, name: str, port: int | None = None) -> subprocess.Popen:
        argv = self.command(name, port)
        print(f"check-compose: {name}: {shlex.join(argv)}", flush=True)
        log = self.scratch / f"{name}.log"
        self.logs[name] = log
        process = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env=self.environment(name),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[name] = process
        return process

    def healthcheck(self, name: str, port: int) -> bool:
        test = self.compose["services"][name]["healthcheck"]["test"]
        if test[0] == "CMD-SHELL":
            argv = ["sh", "-c", test[1]]
        elif test[0] == "CMD":
            argv = list(test[1:])
        else:
            raise SystemExit(f"compose: {name}'s healthcheck must be CMD or CMD-SHELL")
        argv = [arg.replace(f":{CONTAINER_PORT}/", f":{port}/") for arg in argv]
        result = subprocess.run(  # noqa: S603
            argv, cwd=ROOT, env=self.environment(name), capture_output=True, check=False
        )
        return result.returncode == 0

    def failed(self, name: str, reason: str) -> SystemExit:
        log = self.logs.get(name)
        tail = "\n".join(log.read_text().splitlines()[-30:]) if log else ""
        return SystemExit(f"check-compose: {name} {reason}\n--- {name}'s output:\n{tail}")

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def main() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    database_url = os.environ.get(
        "COMPOSE_CHECK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/severa_compose_check"
    )
    redis_url = os.environ.get("COMPOSE_CHECK_REDIS_URL", "redis://127.0.0.1:6379/14")
    database_recreate(database_url)
    with tempfile.TemporaryDirectory(prefix="check-compose-") as scratch:
        services = Services(compose, Path(scratch), database_url, redis_url)
        try:
            services.run("migrate")

            port = free_port()
            web = services.start("web", port)
            deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
            while not services.healthcheck("web", port):
                if web.poll() is not None:
                    raise services.failed("web", f"exited with status {web.returncode}")
                if time.monotonic() > deadline:
                    raise services.failed("web", f"not healthy in {HEALTHY_WITHIN_SECONDS} s")
                time.sleep(1)
            print(f"check-compose: web: healthcheck passed on port {port}", flush=True)

            for name in ("worker", "beat"):
                services.start(name)
            time.sleep(STAY_UP_SECONDS)
            for name in ("web", "worker", "beat"):
                process = services.running[name]
                if process.poll() is not None:
                    raise services.failed(name, f"exited with status {process.returncode}")
            if "ready" not in services.logs["worker"].read_text():
                raise services.failed("worker", "did not report ready")
            print(f"check-compose: web, worker and beat up after {STAY_UP_SECONDS:g} s")
        finally:
            services.stop()
    print("check-compose: OK")


if __name__ == "__main__":
    main()
