"""Admin: the diagnosis list and quick texts are editable; the clinical record itself is read-only here.

Consultations, their diagnoses, addenda, vaccinations, prescriptions and attachments are written only through the
app's services (which check the rules and write the audit trail), so the admin shows them and changes nothing. A
signed consultation could not be changed here anyway: the models and the database refuse it (clinical.models).
"""

from django.contrib import admin

from clinical.models import (
    Addendum,
    Attachment,
    Consultation,
    ConsultationDiagnosis,
    Diagnosis,
    Prescription,
    Problem,
    QuickText,
    Vaccination,
)


@admin.register(Diagnosis)
class DiagnosisAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "code_system", "is_active"]
    list_filter = ["is_active", "code_system"]
    search_fields = ["name", "code"]


@admin.register(QuickText)
class QuickTextAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "appointment_type", "is_active"]
    list_filter = ["section", "is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DiagnosisInline(_ReadOnlyInline):
    model = ConsultationDiagnosis
    fields = readonly_fields = ["diagnosis", "certainty", "position"]


class AddendumInline(_ReadOnlyInline):
    model = Addendum
    fields = readonly_fields = ["created_at", "author", "text"]


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdmin):
    list_display = ["id", "animal", "vet", "opened_at", "status", "signed_at"]
    list_filter = ["status", "vet"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["animal", "appointment", "weight"]
    inlines = [DiagnosisInline, AddendumInline]


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ["condition", "animal", "status", "onset", "is_alert"]
    list_filter = ["status", "is_alert"]


@admin.register(Vaccination)
class VaccinationAdmin(ReadOnlyAdmin):
    list_display = ["product", "animal", "batch", "given_on", "next_due_on"]
    search_fields = ["batch"]


@admin.register(Prescription)
class PrescriptionAdmin(ReadOnlyAdmin):
    list_display = ["product", "animal", "quantity", "dispensed_on", "prescribed_by", "repeat_of"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["title", "animal", "kind", "content_type", "size", "created_at"]
    exclude = ["file", "thumbnail"]  # served only through the app's permission-checked view
