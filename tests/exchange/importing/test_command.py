"""manage.py import_data: dry run first, import only when it is clean (or told), and a second run updates."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from animals.models import Animal
from clients.models import Client

pytestmark = pytest.mark.django_db


def test_command_dry_runs_then_imports_and_is_idempotent(manager, tmp_path, capsys):
    (tmp_path / "owners.csv").write_text(
        "Client ID;Last Name;First Name\nC1;Smith;Ann\nC2;Jones;Bob\n", encoding="cp1252"
    )
    (tmp_path / "pets.csv").write_text("ID,Client ID,Name,Species,Sex\nP1,C1,Rex,Dog,ME\nP2,C2,Tib,Cat,FE\n")
    files = [str(tmp_path / "owners.csv"), str(tmp_path / "pets.csv")]
    call_command("import_data", *files, "--source", "OldVet", "--as", manager.username)
    assert Client.objects.count() == 0
    call_command("import_data", *files, "--source", "OldVet", "--as", manager.username, "--apply")
    assert Animal.objects.filter(owner__last_name="Smith", neuter_status="entire").count() == 1
    call_command("import_data", *files, "--source", "OldVet", "--as", manager.username, "--apply")
    assert (Client.objects.count(), Animal.objects.count()) == (2, 2)
    assert "unchanged 4" in capsys.readouterr().out


def test_command_refuses_to_import_rows_with_errors(manager, tmp_path):
    (tmp_path / "clients.csv").write_text("ID,Surname,Email\n1,Smith,not-an-email\n2,Jones,j@example.com\n")
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError, match="1 rows with errors"):
        call_command(
            "import_data",
            str(tmp_path / "clients.csv"),
            "--source",
            "S",
            "--as",
            manager.username,
            "--apply",
            "--report",
            str(report),
        )
    assert Client.objects.count() == 0
    assert "email" in report.read_text(encoding="utf-8-sig")
    call_command(
        "import_data",
        str(tmp_path / "clients.csv"),
        "--source",
        "S",
        "--as",
        manager.username,
        "--apply",
        "--allow-errors",
    )
    assert list(Client.objects.values_list("last_name", flat=True)) == ["Jones"]
