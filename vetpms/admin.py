from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from vetpms.models import ApiToken, AuditEntry, User, Vet

admin.site.register(User, UserAdmin)


@admin.register(Vet)
class VetAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "registration_number", "is_active"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = [
        "user",
        "name",
        "key_prefix",
        "key_hash",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]

    def has_add_permission(self, request):
        return False  # tokens are created through the staff pages so the secret is shown exactly once


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
