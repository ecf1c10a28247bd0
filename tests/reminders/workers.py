"""Environment for worker processes (manage.py reminders_run, manage.py qcluster) that a test starts against its
own test database and its local SMTP server."""

import os

from django.conf import settings as django_settings
from django.db import connection


def worker_env(smtp_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        env["SQLITE_PATH"] = str(db["NAME"])
    env.update(
        DJANGO_SETTINGS_MODULE="vetpms.settings",
        VETPMS_TESTING="1",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        TIME_ZONE=django_settings.TIME_ZONE,
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env
