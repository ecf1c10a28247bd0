"""docs/roles.md shows exactly the matrix in vetpms/roles.py, and the migrated groups hold exactly it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from vetpms.management.commands.roles_matrix import docs_path, embedded_matrix
from vetpms.roles import ROLE_PERMISSIONS, matrix_markdown


def test_roles_doc_embeds_the_current_matrix():
    embedded = embedded_matrix(docs_path().read_text(encoding="utf-8"))
    assert embedded, "docs/roles.md lost its roles-matrix markers"
    assert embedded == matrix_markdown(), "docs/roles.md is stale: run `python manage.py roles_matrix --write`"


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_migrated_group_holds_exactly_the_matrix_permissions(role):
    group = Group.objects.get(name=str(role))
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == set(ROLE_PERMISSIONS[role])


def test_roles_matrix_command_prints_the_matrix(capsys):
    from django.core.management import call_command

    call_command("roles_matrix")
    assert capsys.readouterr().out == matrix_markdown()
