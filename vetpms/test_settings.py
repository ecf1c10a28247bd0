"""Settings for the test suite: the real settings, with a throwaway key and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("VETPMS_TESTING", "1")
# Attachments uploaded by tests land in a throwaway directory, never in var/attachments.
os.environ.setdefault("ATTACHMENT_DIR", tempfile.mkdtemp(prefix="vetpms-test-attachments-"))
os.environ.setdefault("FHIR_EXPORT_DIR", tempfile.mkdtemp(prefix="vetpms-test-exports-"))

from vetpms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# On SQLite the tests use a real file (one per test process) rather than the shared-cache in-memory database:
# the concurrency tests need WAL, busy timeouts and IMMEDIATE transactions behaving as they do in production.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
