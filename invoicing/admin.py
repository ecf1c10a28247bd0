"""Admin: the catalogue and payors are editable; documents, payments and claims are read-only here.

Issued documents cannot be edited or deleted through the admin (nor anywhere else: see invoicing.models); drafts
and payments are handled in the app, where the services apply the rules.
"""

from django.contrib import admin

from invoicing.models import Claim, Invoice, InvoiceLine, Payment, Payor, Policy, Product, TaxCategory, TaxRate


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "unit", "unit_price", "tax_category", "is_active"]
    list_filter = ["category", "is_active", "tax_category"]
    search_fields = ["code", "name"]


class TaxRateInline(admin.TabularInline):
    model = TaxRate
    extra = 0


@admin.register(TaxCategory)
class TaxCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    inlines = [TaxRateInline]


@admin.register(Payor)
class PayorAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_name", "claims_email", "phone", "is_active"]
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = ["position", "description", "animal", "vet", "quantity", "unit_price", "tax_rate", "net", "tax", "gross"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "status", "client", "issue_date", "gross_total"]
    list_filter = ["kind", "status"]
    search_fields = ["client_name", "number"]
    list_select_related = ["client"]
    inlines = [LineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "kind", "method", "amount", "client", "payor"]
    list_select_related = ["client", "payor"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["policy_number", "payor", "animal", "starts_on", "ends_on"]
    list_select_related = ["payor", "animal"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", "amount_claimed", "amount_accepted", "amount_paid"]
