"""Staff roles and what each may do.

The matrix below is the single source: data migrations call ``sync_roles`` to create the groups and grant the
permissions (each app's migration calls it again once its own permissions exist), ``manage.py roles_matrix``
prints it for docs/roles.md, and a test checks the two agree. Views and API endpoints check permissions, never
group names, so a practice may also grant a single permission to a single person.
"""

from __future__ import annotations

from vetpms.models import Role

_VIEW_REFERENCE = ["animals.view_species", "animals.view_breed", "vetpms.view_vet", "appointments.view_appointmenttype"]
_CATALOGUE_READ = [
    "invoicing.view_product",
    "invoicing.view_taxcategory",
    "invoicing.view_taxrate",
    "invoicing.view_payor",
]
_CHARGING = ["invoicing.view_invoice", "invoicing.add_invoice", "invoicing.change_invoice", *_CATALOGUE_READ]
_FRONT_DESK_MONEY = [
    "invoicing.finalise_invoice",
    "invoicing.view_payment",
    "invoicing.add_payment",
    "invoicing.view_policy",
    "invoicing.add_policy",
    "invoicing.change_policy",
    "invoicing.view_claim",
    "invoicing.manage_claims",
]
_REMINDERS = [
    "reminders.view_reminder",
    "reminders.add_reminder",
    "reminders.change_reminder",
    "reminders.view_remindertype",
    "reminders.view_reminderdelivery",
    "reminders.change_reminderdelivery",
]
_BOOKING = ["appointments.view_appointment", "appointments.add_appointment", "appointments.change_appointment"]
# The clinical record (clinical app). Everyone with a role sees the patient history, diagnoses, problems,
# vaccinations, prescriptions and attachments; the text of notes needs view_clinical_notes (or, for receptionists,
# the practice setting CLINICAL_NOTES_FOR_RECEPTION).
_CLINICAL_READ = [
    "clinical.view_consultation",
    "clinical.view_diagnosis",
    "clinical.view_problem",
    "clinical.view_vaccination",
    "clinical.view_prescription",
    "clinical.view_attachment",
]
_CLINICAL_NURSING = [
    "clinical.view_clinical_notes",
    "clinical.view_quicktext",
    "clinical.add_consultation",
    "clinical.change_consultation",
    "clinical.add_addendum",
    "clinical.add_vaccination",
    "clinical.add_attachment",
    "clinical.dispense_repeat",
]

# Webhook endpoints and their delivery logs (exchange.webhooks): managers only.
_WEBHOOKS = [
    "exchange.view_webhookendpoint",
    "exchange.add_webhookendpoint",
    "exchange.change_webhookendpoint",
    "exchange.delete_webhookendpoint",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.RECEPTIONIST: [
        "clients.view_client",
        "clients.add_client",
        "clients.change_client",
        "clients.deactivate_client",
        "animals.view_animal",
        "animals.add_animal",
        "animals.change_animal",
        "animals.transfer_animal",
        "animals.mark_animal_deceased",
        "animals.deactivate_animal",
        "animals.add_weight",
        *_VIEW_REFERENCE,
        *_BOOKING,
        "appointments.override_working_hours",
        *_CHARGING,
        *_FRONT_DESK_MONEY,
        *_REMINDERS,
        *_CLINICAL_READ,
        "clinical.add_attachment",
    ],
    Role.VET: [
        "clients.view_client",
        "clients.change_client",
        "animals.view_animal",
        "animals.add_animal",
        "animals.change_animal",
        "animals.mark_animal_deceased",
        "animals.add_weight",
        *_VIEW_REFERENCE,
        *_BOOKING,
        *_CHARGING,
        "invoicing.view_policy",
        *_REMINDERS,
        "reports.view_own_figures",
        "animals.delete_weight",
        *_CLINICAL_READ,
        *_CLINICAL_NURSING,
        "clinical.sign_consultation",
        "clinical.add_prescription",
        "clinical.add_problem",
        "clinical.change_problem",
    ],
    Role.NURSE: [
        "clients.view_client",
        "animals.view_animal",
        "animals.add_weight",
        "animals.delete_weight",
        *_VIEW_REFERENCE,
        "appointments.view_appointment",
        "appointments.change_appointment",
        *_CHARGING,
        "reminders.view_reminder",
        "reminders.view_remindertype",
        *_CLINICAL_READ,
        *_CLINICAL_NURSING,
    ],
    Role.MANAGER: [
        "clients.view_client",
        "clients.add_client",
        "clients.change_client",
        "clients.deactivate_client",
        "animals.view_animal",
        "animals.add_animal",
        "animals.change_animal",
        "animals.transfer_animal",
        "animals.mark_animal_deceased",
        "animals.deactivate_animal",
        "animals.add_weight",
        "animals.view_species",
        "animals.add_species",
        "animals.change_species",
        "animals.view_breed",
        "animals.add_breed",
        "animals.change_breed",
        "vetpms.view_vet",
        "vetpms.add_vet",
        "vetpms.change_vet",
        "vetpms.view_auditentry",
        "vetpms.manage_staff",
        "vetpms.manage_api_tokens",
        "exchange.run_bulk_export",
        *_BOOKING,
        "appointments.view_appointmenttype",
        "appointments.override_working_hours",
        "appointments.manage_books",
        *_CHARGING,
        *_FRONT_DESK_MONEY,
        "invoicing.issue_credit_note",
        "invoicing.override_price",
        "invoicing.record_refund",
        "invoicing.void_payment",
        "invoicing.add_product",
        "invoicing.change_product",
        "invoicing.add_taxrate",
        "invoicing.add_payor",
        "invoicing.change_payor",
        *_REMINDERS,
        "reminders.add_remindertype",
        "reminders.change_remindertype",
        "reminders.view_reminderrun",
        "reminders.run_reminders",
        "reports.view_reports",
        "reports.view_own_figures",
        "animals.delete_weight",
        *_CLINICAL_READ,
        "clinical.view_clinical_notes",
        "clinical.view_quicktext",
        "clinical.add_diagnosis",
        "clinical.change_diagnosis",
        "clinical.add_quicktext",
        "clinical.change_quicktext",
        "exchange.run_import",
        *_WEBHOOKS,
        "exchange.manage_data_rights",
        "exchange.view_erasure",
    ],
}


def sync_roles(apps, schema_editor) -> None:
    """Create the role groups and grant every permission of the matrix that exists by now. Idempotent."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Migration-state app configs have no models module, which makes create_permissions skip them.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        wanted = set()
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            wanted.add((app_label, codename))
        existing = Permission.objects.filter(content_type__app_label__in={a for a, _ in wanted}).select_related(
            "content_type"
        )
        group.permissions.add(*[p for p in existing if (p.content_type.app_label, p.codename) in wanted])


def matrix_markdown() -> str:
    """The permission matrix as a Markdown table (docs/roles.md embeds it)."""
    roles = [str(r) for r in ROLE_PERMISSIONS]
    every = sorted({p for perms in ROLE_PERMISSIONS.values() for p in perms})
    lines = ["| permission | " + " | ".join(roles) + " |", "|---|" + "---|" * len(roles)]
    for perm in every:
        marks = ["yes" if perm in ROLE_PERMISSIONS[role] else "" for role in ROLE_PERMISSIONS]
        lines.append(f"| `{perm}` | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"
