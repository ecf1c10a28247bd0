"""Settings for the test suite: the real settings, with a throwaway key and a fast password hasher."""

import os

os.environ.setdefault("VETPMS_TESTING", "1")

from vetpms.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
