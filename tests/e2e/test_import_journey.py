"""Moving in: a manager uploads a CSV of clients and one of animals from "another system" with odd headers and
sex codes, fixes the mapping, reads the dry-run report with its two bad rows, imports for real (a django-q2 worker,
`manage.py qcluster` on the test database, runs both), and finds an imported pet by its microchip."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from animals.models import Animal
from clients.models import Client
from tests.factories import UserFactory
from tests.reminders.workers import worker_env
from vetpms.models import Role

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"

CLIENTS = (
    "Acct No;Salutation;Forename;Client Last Name;E-Mail Address;Mobile No;Post Code\r\n"
    "K-100;Mrs;Hazel;Thornbury;hazel@example.com;07911 123456;LS6 2AB\r\n"
    "K-101;Mr;Ivor;Castellane;ivor@example.com;07811 223344;LS7 3CD\r\n"
    "K-102;Ms;June;Oddbody;june@example.com;;LS8 4EF\r\n"
).encode("cp1252")
ANIMALS = (
    b"Patient Ref,Owner Acct,Pet Name,Animal Type,Breed,Gender,Birth Date,Transponder\n"
    b"P-1,K-100,Bramble,Canine,Border Collie,FS,14/03/2018,985 141 000 777 001\n"
    b"P-2,K-101,Pepper,Feline,,MN,02/11/2020,985141000777002\n"
    b"P-3,K-102,Wobble,Canine,,ZZ,01/01/2021,\n"
    b"P-4,K-999,Stray,Canine,,M,01/01/2021,\n"
)


@pytest.fixture
def qcluster(smtp_server, live_server, tmp_path):
    env = worker_env(smtp_server.port, SITE_URL=live_server.url, Q_WORKERS="1")
    log = (tmp_path / "qcluster.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:  # pragma: no cover
        process.kill()
    log.close()


def test_a_manager_moves_in_clients_and_animals_from_another_system(page, log_in, screenshot, qcluster, tmp_path):
    UserFactory(username="mona", first_name="Mona", last_name="Manager", role=Role.MANAGER)
    (tmp_path / "Owners export.csv").write_bytes(CLIENTS)
    (tmp_path / "patients.csv").write_bytes(ANIMALS)

    page.set_default_timeout(60_000)  # a shared, loaded machine: the pages come, slowly
    log_in("mona", PASSWORD)
    page.goto("/exchange/import/")
    page.fill("#id_source_system", "PetPractice 2000")
    page.set_input_files("#id_files", [str(tmp_path / "Owners export.csv"), str(tmp_path / "patients.csv")])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Import from PetPractice 2000")).to_be_visible()

    owners = page.locator(".import-file", has_text="Owners export.csv")
    pets = page.locator(".import-file", has_text="patients.csv")
    expect(owners.get_by_label("Client Last Name")).to_have_value("last_name")
    expect(pets.get_by_label("Transponder")).to_have_value("microchip")
    # "Acct No" was not recognised as the client's id: the manager maps it, and the owner reference on the pets.
    owners.get_by_label("Acct No").select_option("source_id")
    pets.get_by_label("Owner Acct").select_option("owner_source_id")
    pets.get_by_label("Patient Ref").select_option("source_id")
    # Species names of the old system, mapped to the practice's list; the sex codes are proposed.
    pets.locator(".value-map[data-column=species]").get_by_label("Canine").fill("Dog")
    pets.locator(".value-map[data-column=species]").get_by_label("Feline").fill("Cat")
    expect(pets.locator(".value-map[data-column=sex]").get_by_label("FS")).to_have_value("female neutered")
    expect(page.locator("#id_date_order")).to_have_value("dmy")
    screenshot("mapping")
    page.get_by_role("button", name="Save and run the dry run").click()

    expect(page.locator("#import-progress")).to_have_attribute("data-status", "checked", timeout=90_000)
    issues = page.locator("#import-issues tbody tr")
    expect(issues.filter(has_text="not a sex code")).to_have_count(1)
    expect(issues.filter(has_text="No client with id K-999")).to_have_count(1)
    expect(page.locator("[data-count=created]")).to_have_text("5")
    screenshot("dry-run-report")
    assert Animal.objects.count() == 0 and Client.objects.count() == 0

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import for real").click()
    expect(page.locator("#import-progress")).to_have_attribute("data-status", "applied", timeout=90_000)
    screenshot("imported")
    assert Client.objects.count() == 3 and Animal.objects.count() == 2

    search = page.locator("#global-q")
    search.fill("985141000777001")
    result = page.locator("#global-search-results a", has_text="Bramble")
    expect(result).to_be_visible()
    screenshot("found-by-microchip")
    result.click()
    expect(page).to_have_url(re.compile(r"/animals/\d+/"))
    expect(page.get_by_text("Thornbury").first).to_be_visible()
