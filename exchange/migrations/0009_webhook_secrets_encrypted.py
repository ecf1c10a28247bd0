"""Webhook signing secrets are stored encrypted (exchange.webhooks.secret_box): the columns are renamed to say so,
widened for the sealed form, and the secrets already stored are sealed under the current SECRET_KEY (and opened
again if the migration is reversed)."""

from django.db import migrations, models

from exchange.webhooks import secret_box

COLUMNS = ("secret_encrypted", "previous_secret_encrypted")


def seal_stored_secrets(apps, schema_editor):
    Endpoint = apps.get_model("exchange", "WebhookEndpoint")
    for endpoint in Endpoint.objects.using(schema_editor.connection.alias).all():
        changed = []
        for column in COLUMNS:
            value = getattr(endpoint, column)
            if value and not secret_box.is_sealed(value):  # a second run finds them sealed and leaves them
                setattr(endpoint, column, secret_box.seal(value))
                changed.append(column)
        if changed:
            endpoint.save(update_fields=changed)


def open_stored_secrets(apps, schema_editor):
    Endpoint = apps.get_model("exchange", "WebhookEndpoint")
    for endpoint in Endpoint.objects.using(schema_editor.connection.alias).all():
        changed = []
        for column in COLUMNS:
            value = getattr(endpoint, column)
            if value and secret_box.is_sealed(value):
                setattr(endpoint, column, secret_box.unseal(value))
                changed.append(column)
        if changed:
            endpoint.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0008_webhooks_roles"),
    ]

    operations = [
        migrations.RenameField(model_name="webhookendpoint", old_name="secret", new_name="secret_encrypted"),
        migrations.RenameField(
            model_name="webhookendpoint", old_name="previous_secret", new_name="previous_secret_encrypted"
        ),
        migrations.AlterField(
            model_name="webhookendpoint", name="secret_encrypted", field=models.CharField(max_length=300)
        ),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="previous_secret_encrypted",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.RunPython(seal_stored_secrets, open_stored_secrets),
    ]
