"""Production settings: `check --deploy` is clean, secrets are required, and the database follows the environment.

The settings module is evaluated in a subprocess for each environment, because it reads the environment once.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Variables of the test process that must not leak into a "production" subprocess (the e2e conftest sets
# DJANGO_ALLOW_ASYNC_UNSAFE for Playwright, which `check --deploy` rightly refuses).
DROPPED = {"VETPMS_TESTING", "DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env["DJANGO_SETTINGS_MODULE"] = "vetpms.settings"
    env.update(overrides)
    return env


def _production_env(**overrides: str) -> dict[str, str]:
    production = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "vetpms.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://vetpms.example.org",
        # The README's production settings opt in to the HSTS preload list (check --deploy warns otherwise).
        "SECURE_HSTS_PRELOAD": "1",
        # Owners open the links in their emails, and reply to them (check --deploy refuses local addresses).
        "SITE_URL": "https://vetpms.example.org",
        "DEFAULT_FROM_EMAIL": "VetPMS <reception@vetpms.example.org>",
        "PRACTICE_EMAIL": "reception@vetpms.example.org",
    }
    return _env(**{**production, **overrides})


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(SQLITE_PATH=str(tmp_path / "deploy.sqlite3")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SITE_URL", "http://127.0.0.1:8000"),
        ("SITE_URL", "http://vetpms.example.org"),
        ("SITE_URL", "https://localhost:8443"),
        ("DEFAULT_FROM_EMAIL", "VetPMS <reception@localhost>"),
        ("PRACTICE_EMAIL", "reception@localhost"),
    ],
)
def test_check_deploy_refuses_links_and_senders_owners_cannot_use(tmp_path, variable, value):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(SQLITE_PATH=str(tmp_path / "deploy.sqlite3"), **{variable: value}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert f"{variable} is {value!r}" in result.stderr + result.stdout


def test_the_readme_deploy_example_sets_a_public_site_url_and_sender():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index("check --deploy --fail-level WARNING") - 1500 :][:1600]
    assert re.search(r"SITE_URL=https://[a-z0-9.-]+\.[a-z]+", example), example
    assert re.search(r"DEFAULT_FROM_EMAIL=.*@[a-z0-9-]+\.[a-z.]+", example), example


def test_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = _env(DEBUG="0", SQLITE_PATH=str(tmp_path / "x.sqlite3"))
    result = _python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_sqlite_database_uses_wal_and_a_busy_timeout(tmp_path):
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "cur = connection.cursor()\n"
        "print(cur.execute('PRAGMA journal_mode').fetchone()[0], cur.execute('PRAGMA busy_timeout').fetchone()[0],"
        " connection.settings_dict['OPTIONS']['transaction_mode'])\n"
    )
    result = _python(code, _production_env(SQLITE_PATH=str(tmp_path / "wal.sqlite3")))
    assert result.returncode == 0, result.stderr
    journal, timeout, mode = result.stdout.split()
    assert journal == "wal"
    assert int(timeout) >= 5000
    assert mode == "IMMEDIATE"


@pytest.mark.django_db
def test_test_database_connection_has_a_busy_timeout():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: this run is on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000


def test_postgres_database_url_selects_the_postgresql_engine():
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "print(db['ENGINE'], db['NAME'], db['HOST'], db['PORT'])\n"
    )
    env = _production_env(DATABASE_URL="postgres://vet:secret@db.internal:5433/vetpms_prod")
    result = _python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "vetpms_prod", "db.internal", "5433"]


def test_readme_documents_every_environment_variable():
    source = (ROOT / "vetpms" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", source))
    read |= set(re.findall(r"os\.environ(?:\.get)?[\(\[]\s*\"([A-Z0-9_]+)\"", source))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    undocumented = sorted(name for name in read if f"| `{name}` |" not in readme)
    assert read, "found no environment variables in vetpms/settings.py"
    assert not undocumented, f"add these to the README's configuration table: {undocumented}"
