"""Pages of the clinical record, mounted under /clinical/ by vetpms/web_urls.py."""

from django.urls import path

from clinical import views

app_name = "clinical"

urlpatterns = [
    path("appointments/<int:appointment_pk>/start/", views.consultation_start, name="start"),
    path("animals/<int:animal_pk>/walk-in/", views.consultation_walk_in, name="walk_in"),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/autosave/", views.consultation_autosave, name="autosave"),
    path("consultations/<int:pk>/vitals/", views.consultation_vitals, name="vitals"),
    path("consultations/<int:pk>/diagnoses/add/", views.diagnosis_add, name="diagnosis_add"),
    path("consultations/<int:pk>/diagnoses/remove/", views.diagnosis_remove, name="diagnosis_remove"),
    path("consultations/<int:pk>/vaccinations/", views.vaccination_add, name="vaccination_add"),
    path("consultations/<int:pk>/medicines/", views.prescription_add, name="prescription_add"),
    path("consultations/<int:pk>/products/", views.product_search, name="product_search"),
    path("consultations/<int:pk>/charges/", views.charge_add, name="charge_add"),
    path("consultations/<int:pk>/sign/", views.consultation_sign, name="sign"),
    path("consultations/<int:pk>/addenda/", views.addendum_add, name="addendum_add"),
    path("consultations/unsigned/", views.unsigned, name="unsigned"),
    path("diagnoses/search/", views.diagnosis_search, name="diagnosis_search"),
    path("prescriptions/<int:pk>/label.pdf", views.prescription_label, name="label"),
    path("animals/<int:animal_pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", views.attachment_file, name="attachment"),
    path("attachments/<int:pk>/thumbnail.png", views.attachment_thumbnail, name="thumbnail"),
    path("animals/<int:animal_pk>/problems/new/", views.problem_add, name="problem_add"),
    path("problems/<int:pk>/", views.problem_edit, name="problem_edit"),
    path("animals/<int:animal_pk>/history/", views.history, name="history"),
    path("animals/<int:animal_pk>/history.pdf", views.history_pdf, name="history_pdf"),
    path("animals/<int:animal_pk>/vaccinations.pdf", views.vaccination_certificate, name="certificate"),
]
