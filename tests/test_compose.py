"""The production image and docker-compose.yml, read as files (no Docker daemon here;
scripts/check-compose.sh runs the services' commands)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_an_unprivileged_user_with_a_default_command():
    instructions = _instructions()
    users = [argument.strip() for keyword, argument in instructions if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1] not in {"root", "0", "0:0"}
    cmd = [argument for keyword, argument in instructions if keyword == "CMD"]
    assert cmd and "gunicorn" in cmd[-1]


def test_the_build_context_leaves_out_history_environments_and_data():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var"} <= ignored


def test_files_written_by_the_app_live_on_named_volumes():
    compose = _compose()
    declared = set(compose["volumes"])
    for name in APP_SERVICES:
        service = compose["services"][name]
        environment = service["environment"]
        mounts = dict(reversed(mount.split(":")[:2]) for mount in service["volumes"])
        for variable in ("MEDIA_ROOT", "EINVOICE_DROP_DIR"):
            assert mounts.get(environment[variable]) in declared, (name, variable)


def test_the_app_waits_for_migrations_and_everything_restarts():
    services = _compose()["services"]
    assert "migrate" in services["migrate"]["command"]
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends_on["db"] == {"condition": "service_healthy"}, name
    for name in (*APP_SERVICES, "db", "redis"):
        assert services[name].get("restart") in {"unless-stopped", "always"}, name


def test_the_web_healthcheck_probes_healthz_and_production_needs_a_sender():
    web = _compose()["services"]["web"]
    assert any("/healthz" in part for part in web["healthcheck"]["test"])
    assert re.fullmatch(r"\$\{DEFAULT_FROM_EMAIL:\?.+\}", web["environment"]["DEFAULT_FROM_EMAIL"])
    assert web["environment"]["SECURE_COOKIES"]
