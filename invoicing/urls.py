"""Invoicing pages. Mounted at the site root by vetpms/web_urls.py, so a client's account lives beside the
client's own pages (/clients/<id>/account/) and a charge beside its appointment."""

from django.urls import path

from invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("invoices/", views.invoice_list, name="list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("invoices/<int:pk>/products/", views.product_search, name="product_search"),
    path("invoices/<int:pk>/lines/new/", views.line_new, name="line_new"),
    path("invoices/<int:pk>/lines/", views.line_add, name="line_add"),
    path("invoices/<int:pk>/lines/<int:line_pk>/", views.line_edit, name="line_edit"),
    path("invoices/<int:pk>/lines/<int:line_pk>/remove/", views.line_remove, name="line_remove"),
    path("invoices/<int:pk>/finalise/", views.invoice_finalise, name="finalise"),
    path("invoices/<int:pk>/delete/", views.draft_delete, name="draft_delete"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("invoices/<int:pk>/email/", views.invoice_email, name="email"),
    path("invoices/<int:pk>/credit/", views.credit_note_new, name="credit"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="void"),
    path("invoices/<int:pk>/claim/", views.claim_new, name="claim_new"),
    path("appointments/<int:appointment_pk>/charge/", views.charge, name="charge"),
    path("clients/<int:client_pk>/draft/", views.draft_open, name="draft_open"),
    path("clients/<int:client_pk>/account/", views.account, name="account"),
    path("clients/<int:client_pk>/account/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("clients/<int:client_pk>/account/apply-credit/", views.apply_credit, name="apply_credit"),
    path("clients/<int:client_pk>/pay/", views.payment_new, name="payment_new"),
    path("clients/<int:client_pk>/refund/", views.refund_new, name="refund_new"),
    path("payments/cash-up/", views.cash_up, name="cash_up"),
    path("payments/<int:pk>/void/", views.payment_void, name="payment_void"),
    path("payors/", views.payor_list, name="payor_list"),
    path("payors/new/", views.payor_edit, name="payor_create"),
    path("payors/<int:pk>/", views.payor_detail, name="payor_detail"),
    path("payors/<int:pk>/edit/", views.payor_edit, name="payor_update"),
    path("animals/<int:animal_pk>/policies/new/", views.policy_new, name="policy_create"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_update"),
    path("claims/", views.open_claims, name="open_claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/pdf/", views.claim_pdf, name="claim_pdf"),
    path("claims/<int:pk>/<str:action>/", views.claim_action, name="claim_action"),
    path("catalogue/", views.product_list, name="product_list"),
    path("catalogue/new/", views.product_edit, name="product_create"),
    path("catalogue/<int:pk>/edit/", views.product_edit, name="product_update"),
    path("catalogue/tax-rates/", views.tax_rates, name="tax_rates"),
]
