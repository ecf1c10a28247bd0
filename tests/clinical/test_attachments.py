"""Attachments: recognised by their bytes, limited in size, stored through the storage API, thumbnails."""

from __future__ import annotations

import io
import os
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from clinical.models import Attachment
from clinical.services import attachment_add

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _jpeg(size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def test_a_pdf_is_stored_without_thumbnail(dog, vet_user):
    attachment = attachment_add(
        animal=dog, by=vet_user, upload=SimpleUploadedFile("bloods.pdf", PDF), title="Bloods", kind="lab"
    )
    assert attachment.content_type == "application/pdf" and attachment.size == len(PDF)
    assert not attachment.thumbnail
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    assert "bloods" not in attachment.file.name  # stored under a random name


def test_an_image_gets_a_thumbnail(dog, vet_user):
    attachment = attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("x.jpg", _jpeg()), title="Lateral")
    assert attachment.content_type == "image/jpeg"
    with attachment.thumbnail.open("rb") as thumb, Image.open(thumb) as image:
        assert image.size == (320, 240)


def test_the_name_and_declared_type_are_not_trusted(dog, vet_user):
    fake = SimpleUploadedFile("report.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    with pytest.raises(ValidationError) as err:
        attachment_add(animal=dog, by=vet_user, upload=fake, title="Report")
    assert "PDF, JPEG and PNG" in err.value.message_dict["file"][0]
    assert not Attachment.objects.exists()


def test_a_damaged_image_is_refused(dog, vet_user):
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(ValidationError):
        attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("x.png", broken), title="Photo")


def test_the_size_limit_is_a_setting(dog, vet_user, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PDF) - 1
    with pytest.raises(ValidationError) as err:
        attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("a.pdf", PDF), title="Too big")
    assert "larger than the limit" in err.value.message_dict["file"][0]
    settings.ATTACHMENT_MAX_BYTES = len(PDF)
    assert attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("a.pdf", PDF), title="Fits").pk


def test_attachments_may_join_a_signed_consultation(walk_in, vet_user):
    from clinical.services import consultation_save_draft, consultation_sign

    consultation_save_draft(consultation=walk_in, by=vet_user, data={"plan": "Bloods sent"})
    consultation_sign(consultation=walk_in, by=vet_user)
    attachment = attachment_add(
        animal=walk_in.animal, by=vet_user, upload=SimpleUploadedFile("r.pdf", PDF), title="Results",
        consultation=walk_in,
    )  # fmt: skip
    assert attachment.consultation == walk_in


def _age(storage, name: str, hours: float) -> None:
    """Make a stored file look ``hours`` old (the tests' storage is the file system)."""
    then = time.time() - hours * 3600
    os.utime(storage.path(name), (then, then))


def test_files_of_an_upload_rolled_back_by_an_outer_transaction_are_swept(dog, vet_user):
    from django.db import transaction

    from clinical.services import attachment_orphans_sweep

    kept = attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("x.jpg", _jpeg()), title="Kept")
    storage = kept.file.storage
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = attachment_add(animal=dog, by=vet_user, upload=SimpleUploadedFile("y.jpg", _jpeg()), title="Lost")
        lost_names = [lost.file.name, lost.thumbnail.name]
        raise RuntimeError("the outer transaction fails after the upload")
    assert not Attachment.objects.filter(title="Lost").exists()
    assert all(storage.exists(name) for name in lost_names)  # the files outlived their row

    # Young orphans are left alone: their transaction may simply not have committed yet.
    assert attachment_orphans_sweep() == []
    for name in [*lost_names, kept.file.name, kept.thumbnail.name]:
        _age(storage, name, hours=7)
    assert sorted(attachment_orphans_sweep(dry_run=True)) == sorted(lost_names)
    assert all(storage.exists(name) for name in lost_names)  # a dry run deletes nothing
    assert sorted(attachment_orphans_sweep()) == sorted(lost_names)
    assert not any(storage.exists(name) for name in lost_names)
    assert storage.exists(kept.file.name) and storage.exists(kept.thumbnail.name)  # named by a row: kept
    assert attachment_orphans_sweep() == []


def test_the_sweep_is_scheduled_daily_once():
    from django_q.models import Schedule

    from clinical.schedule import SWEEP_NAME, ensure_schedule

    ensure_schedule()
    ensure_schedule()
    schedule = Schedule.objects.get(name=SWEEP_NAME)
    assert schedule.func == "clinical.tasks.sweep_attachment_orphans" and schedule.schedule_type == Schedule.DAILY
