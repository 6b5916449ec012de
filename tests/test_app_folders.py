"""The app creates the folders it writes to: the first command on a fresh clone works."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "SEVERA_TODAY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "MEDIA_ROOT",
    "EINVOICE_DROP_DIR",
}


def _manage(*args: str, var: Path, **env: str) -> subprocess.CompletedProcess:
    """manage.py with the embedded defaults, every folder under ``var``."""
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    clean.update(
        DJANGO_SETTINGS_MODULE="severa.settings.development",
        DATABASE_URL=f"sqlite:///{var / 'severa.sqlite3'}",
        EMAIL_URL=f"filemail://{var / 'mail'}",
        MEDIA_ROOT=str(var / "media"),
        EINVOICE_DROP_DIR=str(var / "einvoice"),
    )
    clean.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_migrate_on_a_fresh_clone_creates_the_folders_it_writes_to(tmp_path):
    var = tmp_path / "var"
    assert not var.exists()
    result = _manage("migrate", "--noinput", "-v0", var=var)
    assert result.returncode == 0, result.stderr
    assert (var / "severa.sqlite3").is_file()
    for folder in ("mail", "media", "einvoice"):
        assert (var / folder).is_dir(), folder


def test_a_folder_that_cannot_be_created_stops_start_up_with_a_clear_error(tmp_path):
    var = tmp_path / "var"
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    result = _manage("check", var=var, EINVOICE_DROP_DIR=str(blocker / "einvoice"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"Cannot create the folder {blocker / 'einvoice'} (set by EINVOICE_DROP_DIR)" in (
        result.stderr
    )
