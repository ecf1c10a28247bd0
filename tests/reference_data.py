"""Put back the rows the migrations load (content types, permissions, role groups, species and breeds, tax rates).

A transactional test (live server, threads) empties every table when it ends; Django's serialized rollback is
meant to restore them, but it does not reach the connection a Playwright test runs on. Tests that run after such
a flush call this instead: it is idempotent and cheap when the rows are there.
"""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from animals.models import Species
from invoicing.models import TaxCategory
from vetpms.roles import ROLE_PERMISSIONS, sync_roles


def ensure_reference_data() -> None:
    if Group.objects.count() < len(ROLE_PERMISSIONS):
        sync_roles(apps, None)
    if not Species.objects.exists():
        importlib.import_module("animals.migrations.0004_seed_species").seed(apps, None)
        importlib.import_module("animals.migrations.0006_fhir_species_codes").seed(apps, None)
    if not TaxCategory.objects.exists():
        importlib.import_module("invoicing.migrations.0003_reference_data").seed(apps, None)
