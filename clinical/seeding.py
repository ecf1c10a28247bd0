"""Clinical records for ``manage.py seed_demo`` (composed by vetpms/management/commands/seed_demo.py).

Demo scale, through the clinical services as the vets would write them: the practice's diagnosis list and quick
texts, which catalogue items fit which species, a signed consultation for each completed appointment of the past
weeks (one left unsigned), the vaccines those visits gave with their batches (the reminders the invoices renewed
link to them), medicines dispensed where the visit was charged for one, a radiograph and a laboratory report, and
a problem list on a few older patients. The services date what they write "now", so each visit is written with
the services' clock stopped at the visit (nothing else is patched).

Practice scale: about 500,000 consultations, 300,000 vaccinations and 400,000 prescriptions over the ten years of
appointments, bulk-inserted like the rest of the practice seeder (children before their signed consultations: the
database refuses rows added to a signed record, and the foreign keys are checked at commit).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from vetpms.management.seeding.common import SeedContext, Step, services_at

# --- Reference lists ----------------------------------------------------------------------------------------------

DIAGNOSES = [
    "Healthy animal",
    "Otitis externa",
    "Atopic dermatitis",
    "Flea allergy dermatitis",
    "Gastroenteritis",
    "Dietary indiscretion",
    "Osteoarthritis",
    "Cruciate ligament rupture",
    "Soft tissue injury",
    "Conjunctivitis",
    "Corneal ulcer",
    "Kennel cough (infectious tracheobronchitis)",
    "Chronic kidney disease",
    "Diabetes mellitus",
    "Hyperthyroidism",
    "Lipoma",
    "Mast cell tumour",
    "Periodontal disease",
    "Fractured tooth",
    "Obesity",
    "Anal sac impaction",
    "Heart murmur",
    "Inappetence",
    "Weight loss",
    "Post-operative check: healing well",
    "Elective neutering",
]

QUICK_TEXTS = [
    # (title, section, appointment type or "", text)
    ("Healthy exam", "objective", "",
     "BAR, well hydrated. MM pink, CRT < 2 s. Heart and lungs auscultate normally. Abdomen soft, non-painful. "
     "Lymph nodes normal. Coat and skin good."),
    ("Booster given", "plan", "Vaccination",
     "Booster given SC. Owner advised of possible mild lethargy for 24 h. Next booster due in 12 months."),
    ("Vaccination history", "subjective", "Vaccination",
     "Well in himself/herself, eating and drinking normally. No concerns."),
    ("Dental plan", "plan", "Dental", "Scale and polish under GA. Dental chart updated. Recheck in 6 months."),
    ("Post-op healing", "objective", "Post-op check", "Wound clean and dry, edges apposed, no swelling or discharge."),
    ("Recheck if no better", "plan", "", "Recheck in 5-7 days, sooner if worse. Owner happy with plan."),
]  # fmt: skip

# What each vaccine is called by its maker; the batch numbers follow the maker's pattern.
VACCINE_MAKERS = {"VAC-DHPP": ("Zoetis", "DH"), "VAC-FELV": ("Boehringer Ingelheim", "FL"),
                  "VAC-RHD": ("Virbac", "RH"), "VAC-RAB": ("MSD Animal Health", "RB"),
                  "VAC-KC": ("MSD Animal Health", "KC")}  # fmt: skip
SPECIES_ONLY = {"VAC-DHPP": "Dog", "VAC-FELV": "Cat", "VAC-RHD": "Rabbit"}
# Practice scale: what else a booster visit gives beside the charged vaccine, each recorded as its own vaccination
# (its own product, maker and batch) and included in the booster's price: a dog's DHP booster comes with
# leptospirosis (L4), parainfluenza and the intranasal kennel cough dose (unless that visit charged kennel cough on
# its own line, which is then the one recorded), a cat's FeLV with flu and enteritis (RCP) and chlamydophila, a
# rabbit's myxomatosis-RHD with RHD2. With them the ten years hold about 290,000 vaccinations (issue 10: "about
# 300k"; the charged boosters and the first three kinds of component alone gave 223,000).
# Charged vaccine -> [(code, name, maker, batch prefix)].
BOOSTER_COMPONENTS = {
    "VAC-DHPP": [("VAC-L4", "Leptospirosis (L4) vaccination", "MSD Animal Health", "L4"),
                 ("VAC-PI", "Parainfluenza vaccination", "Zoetis", "PI"),
                 ("VAC-KC", "Kennel cough vaccine (intranasal)", "MSD Animal Health", "KC")],
    "VAC-FELV": [("VAC-RCP", "Cat flu and enteritis (RCP) vaccination", "Boehringer Ingelheim", "RC"),
                 ("VAC-CH", "Chlamydophila felis vaccination", "Boehringer Ingelheim", "CH")],
    "VAC-RHD": [("VAC-RHD2", "RHD2 vaccination", "Virbac", "R2")],
}  # fmt: skip
# Practice scale: one medicine line in TAKE_HOME_EVERY is dispensed to take home (a prescription with its label);
# the others are given in the clinic (an injection, a first dose), charged but not prescribed.
TAKE_HOME_EVERY = 2

# Consultation reasons of the demo book -> (history, examination, assessment, plan, diagnoses)
CASES: dict[str, tuple[str, str, str, str, list[str]]] = {
    "Limping on the left hind": (
        "Lame on the left hind since a walk three days ago. No known trauma.",
        "Weight-bearing lameness LH 3/10. Pain on extension of the left stifle, mild effusion. Drawer test equivocal.",
        "Soft tissue injury LH stifle; cruciate disease not ruled out.",
        "Meloxicam, lead walks only for 2 weeks. Radiographs if not improving.",
        ["Soft tissue injury"],
    ),
    "Itchy ears": (
        "Scratching both ears and shaking head for a week.",
        "Both ear canals erythematous with brown waxy discharge, L > R. Tympanic membranes intact.",
        "Bilateral otitis externa.",
        "Ear cleaner and drops twice daily for 7 days. Recheck in 10 days.",
        ["Otitis externa"],
    ),
    "Vomiting since yesterday": (
        "Vomited 4 times since yesterday, last this morning. Scavenged on a walk. Still drinking.",
        "Bright. Mildly tender cranial abdomen, no masses. Hydration normal.",
        "Acute gastroenteritis, probably dietary indiscretion.",
        "Bland diet 3 days, small frequent meals. Call if vomiting continues.",
        ["Gastroenteritis", "Dietary indiscretion"],
    ),
    "Off food": (
        "Eating half of usual for five days. Otherwise normal.",
        "Quiet but alert. Mild dental tartar. Abdomen palpates normally.",
        "Inappetence, cause not yet clear.",
        "Bloods taken. Appetite diary; recheck in 3 days.",
        ["Inappetence"],
    ),
    "Lump on the chest": (
        "Owner found a soft lump on the left chest wall a month ago; not growing.",
        "2 cm soft, mobile subcutaneous mass left lateral thorax. FNA: fat droplets.",
        "Lipoma most likely.",
        "Monitor; measure at each visit. Remove if it grows.",
        ["Lipoma"],
    ),
    "Skin rash": (
        "Itchy, red skin on the belly for two weeks. Flea treatment lapsed.",
        "Papular rash ventral abdomen and tail base. Flea dirt seen.",
        "Flea allergy dermatitis.",
        "Flea treatment for all pets in the house, treat the home. Recheck in 3 weeks.",
        ["Flea allergy dermatitis"],
    ),
    "Coughing": (
        "Harsh honking cough for 4 days after boarding kennels. Eating well.",
        "Cough on tracheal palpation. Chest auscultates clear. T normal.",
        "Infectious tracheobronchitis.",
        "Rest, harness not collar. Antibiotics if not improving in 5 days.",
        ["Kennel cough (infectious tracheobronchitis)"],
    ),
    "Diarrhoea": (
        "Soft to watery faeces for 2 days, no blood. Bright and eating.",
        "Well hydrated, abdomen non-painful, rectal exam normal.",
        "Acute diarrhoea, probably dietary.",
        "Probiotic paste, bland diet. Faecal sample if not resolved in 3 days.",
        ["Gastroenteritis"],
    ),
    "Sore eye": (
        "Left eye closed and watering since yesterday.",
        "Blepharospasm OS, conjunctival hyperaemia. Fluorescein: small central uptake.",
        "Superficial corneal ulcer OS.",
        "Antibiotic eye drops four times daily, buster collar. Recheck in 3 days.",
        ["Corneal ulcer"],
    ),
    "Drinking a lot": (
        "Drinking more for a month, urinating more. Lost a little weight.",
        "Thin body condition. Kidneys small on palpation. Mild dehydration.",
        "Polydipsia; chronic kidney disease suspected, diabetes to rule out.",
        "Bloods and urine sample today. Results by phone tomorrow.",
        ["Chronic kidney disease"],
    ),
    "Second opinion": (
        "Seen elsewhere for recurrent ear disease; owner wants another view.",
        "Chronic changes both ear canals, narrowed. Otherwise well.",
        "Chronic otitis externa, likely allergic background.",
        "Cytology, allergy work-up discussed. Recheck in 2 weeks.",
        ["Otitis externa", "Atopic dermatitis"],
    ),
    "Weight loss": (
        "Lost weight over three months despite eating well.",
        "Thin, palpable thyroid nodule, heart rate high-normal.",
        "Weight loss; hyperthyroidism suspected.",
        "Total T4 sent. Discuss treatment when back.",
        ["Weight loss"],
    ),
}
OTHER_TYPES: dict[str, tuple[str, str, str, str, list[str]]] = {
    "Vaccination": ("Well, eating and drinking normally. No concerns.", "", "Healthy; fit to vaccinate.", "",
                    ["Healthy animal"]),
    "Dental": ("Bad breath, tartar noticed by owner.", "Grade 2 tartar, gingivitis upper premolars.",
               "Periodontal disease.", "Scale and polish under GA. Recheck in 6 months.", ["Periodontal disease"]),
    "Surgery admit": ("Starved from 10 pm. No concerns.", "Fit for GA. Pre-anaesthetic exam normal.",
                      "Fit for surgery.", "Admitted for surgery. Collect at 4 pm.", ["Elective neutering"]),
    "Post-op check": ("Doing well at home, eating, wound left alone.", "", "Healing well.",
                      "Keep the collar on until stitches out.", ["Post-operative check: healing well"]),
    "Nurse clinic": ("Routine nurse clinic.", "Nails trimmed, anal glands checked. Weight recorded.", "Healthy.",
                     "Next nurse clinic in 3 months.", []),
}  # fmt: skip
HEALTHY_EXAM = (
    "BAR, well hydrated. MM pink, CRT < 2 s. Heart and lungs auscultate normally. Abdomen soft and non-painful. "
    "Coat and skin good."
)
DOSES = {  # medicines dispensed to take home: catalogue code -> (strength, dose, frequency, duration, instructions)
    "MED-MELOX": ("1.5 mg/ml", "0.1 ml per kg", "once daily", "10 days", "Give with food. Shake well."),
    "MED-AMOXI": ("250 mg", "1 tablet", "twice daily", "7 days", "Complete the course."),
    "MED-PRED": ("5 mg", "1 tablet", "once daily", "5 days, then every other day", "Give in the morning with food."),
    "MED-GABA": ("100 mg", "1 capsule", "twice daily", "14 days", "May cause drowsiness."),
    "MED-WORM": ("", "1 tablet", "once", "", "Repeat every 3 months."),
}
VITALS = {  # species -> (temperature, heart rate, respiratory rate) typical of a calm patient
    "Dog": (Decimal("38.6"), 90, 22),
    "Cat": (Decimal("38.7"), 170, 28),
    "Rabbit": (Decimal("39.0"), 220, 50),
    "Ferret": (Decimal("38.9"), 220, 36),
}
# The demo dispenses a few take-home medicines; its other medicine lines stay invoice lines only.
DEMO_PRESCRIPTIONS = 15
PROBLEMS = [
    # (species, minimum age in years, diagnosis, status, alert)
    ("Dog", 8, "Osteoarthritis", "chronic", False),
    ("Cat", 10, "Chronic kidney disease", "chronic", True),
    ("Dog", 6, "Heart murmur", "chronic", True),
    ("Cat", 8, "Hyperthyroidism", "active", False),
]


@contextmanager
def services_clock(at: dt.datetime) -> Iterator[None]:
    """Write as if it were ``at``: the clocks of the services a visit goes through, and nothing else."""
    from animals import services as animal_services
    from clinical import services as clinical_services
    from invoicing import services as invoicing_services
    from reminders import services as reminder_services

    modules = [clinical_services, animal_services, invoicing_services, reminder_services]
    with services_at(min(at, timezone.now()), modules):
        yield


# --- Demo scale ---------------------------------------------------------------------------------------------------


def seed_clinical_lists(ctx: SeedContext) -> None:
    """The practice's diagnosis list and quick texts (as the manager), and which catalogue items are for which
    species (the consultation's charges panel offers only what fits)."""
    from animals.models import Species
    from appointments.models import AppointmentType
    from clinical.models import ProductSpecies
    from clinical.services import diagnosis_save, quick_text_save
    from invoicing.models import Product

    manager = ctx.staff["manager"]
    types = ctx.types or {t.name: t for t in AppointmentType.objects.all()}
    products = ctx.products or {p.code: p for p in Product.objects.all()}
    for name in DIAGNOSES:
        diagnosis_save(by=manager, data={"name": name})
    for title, section, type_name, text in QUICK_TEXTS:
        data = {"title": title, "section": section, "text": text, "appointment_type": types.get(type_name)}
        quick_text_save(by=manager, data=data)
    species = {s.name: s for s in Species.objects.all()}
    ProductSpecies.objects.bulk_create(
        [
            ProductSpecies(product=products[code], species=species[name])
            for code, name in SPECIES_ONLY.items()
            if code in products and name in species
        ]
    )
    ctx.counts["diagnoses"] = len(DIAGNOSES)


@dataclass
class _Seen:
    appointment: Any
    consultation: Any


def _case_of(type_name: str, reason: str) -> tuple[str, str, str, str, list[str]]:
    if type_name == "Consultation" and reason in CASES:
        return CASES[reason]
    history, exam, assessment, plan, diagnoses = OTHER_TYPES.get(type_name, OTHER_TYPES["Nurse clinic"])
    return history, exam or HEALTHY_EXAM, assessment, plan, diagnoses


def _batch(code: str, day: dt.date) -> tuple[str, str, dt.date]:
    """The batch in the fridge on ``day``: one per vaccine and month, expiring 8 months after it arrived."""
    maker, prefix = VACCINE_MAKERS.get(code, ("", "VX"))
    delivered = day.replace(day=1)
    return maker, f"{prefix}{delivered:%y%m}{len(code):02d}A", delivered + dt.timedelta(days=240)


def seed_consultations(ctx: SeedContext) -> None:
    """A consultation for each completed appointment of the past weeks, written and signed by its vet through
    the services at the time of the visit; the vaccine a vaccination visit was charged for, with its batch; the
    medicines its invoice charged, dispensed with their directions. The latest visit but two days old is left
    unsigned, so the vet's list of unsigned records has one."""
    from appointments.models import Appointment
    from clinical.models import Diagnosis, Prescription, Vaccination
    from clinical.services import (
        consultation_open,
        consultation_save_draft,
        consultation_set_diagnoses,
        consultation_sign,
        prescription_dispense,
        vaccination_record,
    )
    from invoicing.models import InvoiceLine
    from vetpms.timeutils import to_local

    diagnoses = {d.name: d for d in Diagnosis.objects.all()}
    completed = list(
        Appointment.objects.filter(status="completed", start__lt=timezone.now())
        .select_related("animal__species", "animal__breed", "vet__user", "type")
        .order_by("start", "pk")
    )
    unsigned_day = ctx.today - dt.timedelta(days=2)
    unsigned = next((a for a in reversed(completed) if to_local(a.start).date() <= unsigned_day), None)
    lines: dict[int | None, list[Any]] = {}  # by appointment (the query asks for charges of appointments only)
    latest: dict[tuple[int | None, int | None], dt.date] = {}  # the last day each animal was charged each vaccine
    for line in InvoiceLine.objects.filter(appointment__in=completed).select_related("product"):
        lines.setdefault(line.appointment_id, []).append(line)
        key = (line.animal_id, line.product_id)
        latest[key] = max(latest.get(key, line.service_date), line.service_date)
    counts = {"consultations": 0, "vaccinations given": 0, "prescriptions": 0}
    for appointment in completed:
        animal, vet_user = appointment.animal, appointment.vet.user
        history, exam, assessment, plan, names = _case_of(appointment.type.name, appointment.reason)
        day = to_local(appointment.start).date()
        with services_clock(appointment.start + dt.timedelta(minutes=1)):
            consultation = consultation_open(appointment=appointment, by=vet_user)
            notes = {"complaint": appointment.reason, "history": history, "examination": exam}
            notes |= {"assessment": assessment, "plan": plan}
            consultation_save_draft(consultation=consultation, by=vet_user, data=notes | _vitals(ctx, animal))
            chosen = [(diagnoses[n], "confirmed") for n in names if n in diagnoses]
            if chosen:
                consultation_set_diagnoses(consultation=consultation, by=vet_user, diagnoses=chosen)
            for line in lines.get(appointment.pk, []):
                product = line.product
                if product is None:
                    continue
                # A vaccine charged again on a later visit (a rare double booking of the demo) is recorded for
                # that visit only: recorded here, after all the charges, the earlier dose would move the reminder
                # the later invoice renewed.
                later = latest.get((animal.pk, product.pk), day) > day
                if product.category == "vaccine" and not later:
                    maker, batch, expiry = _batch(product.code, day)
                    nasal = product.code == "VAC-KC"
                    vaccination = vaccination_record(
                        animal=animal, consultation=consultation, product=product, batch=batch, batch_expiry=expiry,
                        manufacturer=maker, route="in" if nasal else "sc", site="" if nasal else "scruff",
                        given_on=day, by=vet_user,
                    )  # fmt: skip
                    Vaccination.objects.filter(pk=vaccination.pk).update(invoice_line=line)
                    counts["vaccinations given"] += 1
                elif product.code in DOSES and counts["prescriptions"] < DEMO_PRESCRIPTIONS:
                    strength, dose, frequency, duration, instructions = DOSES[product.code]
                    prescription = prescription_dispense(
                        animal=animal, consultation=consultation, product=product, by=vet_user,
                        strength=strength, dose=dose, frequency=frequency, duration=duration,
                        quantity=line.quantity, instructions=instructions, dispensed_on=day, charge=False,
                    )  # fmt: skip
                    Prescription.objects.filter(pk=prescription.pk).update(invoice_line=line)
                    counts["prescriptions"] += 1
        if appointment != unsigned:
            with services_clock(appointment.end + dt.timedelta(minutes=ctx.rng.randint(2, 90))):
                consultation_sign(consultation=consultation, by=vet_user)
        counts["consultations"] += 1
    ctx.counts.update(counts)


def _vitals(ctx: SeedContext, animal: Any) -> dict[str, Any]:
    """Calm-patient vitals for the species (a little scatter), and the weight near the last one on record."""
    last = animal.weights.order_by("-measured_on", "-id").first()
    vitals: dict[str, Any] = {}
    if last is not None:
        vitals["weight_kg"] = (last.kg * Decimal(str(ctx.rng.uniform(0.98, 1.02)))).quantize(Decimal("0.01"))
    typical = VITALS.get(animal.species.name)
    if typical is not None:
        temperature, heart, breathing = typical
        vitals.update(
            temperature_c=temperature + Decimal(ctx.rng.randint(-4, 4)) / 10,
            heart_rate=heart + ctx.rng.randint(-10, 10),
            respiratory_rate=breathing + ctx.rng.randint(-4, 4),
            body_condition_score=ctx.rng.choice([4, 5, 5, 5, 6, 7]),
            mucous_membranes="pink",
            capillary_refill="lt2",
        )
    return vitals


def seed_files_and_problems(ctx: SeedContext) -> None:
    """A radiograph (a generated PNG) on the first limping dog's consultation, a laboratory report (a PDF) on the
    first drinking-a-lot visit, and a problem list on a few older patients, linked to their consultations."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from animals.models import Animal
    from clinical.models import Consultation, Diagnosis
    from clinical.services import attachment_add, problem_save

    consultations = Consultation.objects.select_related("animal__owner", "animal__species", "vet__user")
    limping = consultations.filter(complaint__startswith="Limping").order_by("opened_at").first()
    if limping is not None:
        attachment_add(
            animal=limping.animal, consultation=limping, by=limping.vet.user, kind="radiograph",
            title="Left stifle, mediolateral", upload=SimpleUploadedFile("stifle-ml.png", radiograph_png()),
        )  # fmt: skip
    thirsty = consultations.filter(complaint="Drinking a lot").order_by("opened_at").first()
    lab_for = thirsty or consultations.order_by("opened_at").first()
    if lab_for is not None:
        attachment_add(
            animal=lab_for.animal, consultation=lab_for, by=lab_for.vet.user, kind="lab",
            title="Biochemistry and haematology", upload=SimpleUploadedFile("lab-report.pdf", lab_report_pdf(lab_for)),
        )  # fmt: skip
    diagnoses = {d.name: d for d in Diagnosis.objects.all()}
    taken: set[int] = set()
    added = 0
    for species, min_years, name, status, alert in PROBLEMS:
        born_before = ctx.today - dt.timedelta(days=365 * min_years)
        animal = (
            Animal.objects.filter(
                pk__in=[a.pk for a in ctx.animals], species__name=species, date_of_birth__lte=born_before,
                deceased_on__isnull=True, is_active=True,
            )
            .exclude(pk__in=taken)
            .order_by("pk")
            .first()
        )  # fmt: skip
        if animal is None or name not in diagnoses:
            continue
        taken.add(animal.pk)
        own = list(consultations.filter(animal=animal))
        problem_save(
            by=ctx.staff["vet"], animal=animal, consultations=own,
            data={"diagnosis": diagnoses[name], "condition": "", "status": status, "is_alert": alert,
                  "onset": ctx.today - dt.timedelta(days=ctx.rng.randint(200, 900))},
        )  # fmt: skip
        added += 1
    ctx.counts["problems"] = added


def radiograph_png(width: int = 640, height: int = 480) -> bytes:
    """A plausible-looking greyscale radiograph: dark field, soft-tissue glow and two long bones meeting at a
    joint (drawn, not a real patient's image)."""
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.new("L", (width, height), 12)
    draw = ImageDraw.Draw(image)
    draw.ellipse((120, 40, 540, 460), fill=60)  # soft tissue
    draw.polygon([(250, 0), (300, 0), (330, 230), (290, 240)], fill=205)  # femur
    draw.polygon([(300, 250), (340, 245), (380, 480), (330, 480)], fill=195)  # tibia
    draw.ellipse((280, 215, 350, 265), fill=215)  # condyles
    draw.ellipse((345, 200, 372, 236), fill=190)  # patella
    image = image.filter(ImageFilter.GaussianBlur(3))
    ImageDraw.Draw(image).text((16, 16), "L  ML", fill=240)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def lab_report_pdf(consultation: Any) -> bytes:
    """A one-page laboratory report (the external lab's layout, made here with reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from vetpms.timeutils import to_local

    rows = [
        ("Urea", "14.8", "mmol/l", "2.5 - 9.6", "H"),
        ("Creatinine", "248", "umol/l", "44 - 159", "H"),
        ("SDMA", "22", "ug/dl", "0 - 14", "H"),
        ("Phosphate", "1.9", "mmol/l", "0.8 - 2.2", ""),
        ("Glucose", "5.6", "mmol/l", "3.9 - 8.0", ""),
        ("Total T4", "28", "nmol/l", "10 - 55", ""),
        ("PCV", "0.33", "l/l", "0.30 - 0.45", ""),
        ("USG", "1.012", "", "> 1.035", "L"),
    ]
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle("Laboratory report")
    y = 280 * mm
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(20 * mm, y, "Northfield Veterinary Laboratories")
    canvas.setFont("Helvetica", 9)
    animal = consultation.animal
    day = to_local(consultation.opened_at).date()
    canvas.drawString(
        20 * mm, y - 8 * mm, f"Patient: {animal.name} ({animal.species.name})   Owner: {animal.owner.last_name}"
    )
    canvas.drawString(20 * mm, y - 13 * mm, f"Sample received: {day:%d %b %Y}   Clinician: {consultation.vet}")
    y -= 25 * mm
    canvas.setFont("Helvetica-Bold", 9)
    for x, head in zip((20, 70, 100, 130, 170), ("Test", "Result", "Unit", "Reference", "Flag"), strict=True):
        canvas.drawString(x * mm, y, head)
    canvas.setFont("Helvetica", 9)
    for test, value, unit, reference, flag in rows:
        y -= 6 * mm
        for x, text in zip((20, 70, 100, 130, 170), (test, value, unit, reference, flag), strict=True):
            canvas.drawString(x * mm, y, text)
    canvas.drawString(20 * mm, y - 12 * mm, "Comment: azotaemia with poorly concentrated urine, consistent with CKD.")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


DEMO_STEPS: list[Step] = [seed_clinical_lists, seed_consultations, seed_files_and_problems]


# --- Practice scale -------------------------------------------------------------------------------------------

PRACTICE_PROBLEMS = [  # (diagnosis, status, alert, every n-th animal)
    ("Osteoarthritis", "chronic", False, 37),
    ("Chronic kidney disease", "chronic", True, 61),
    ("Atopic dermatitis", "chronic", False, 43),
    ("Heart murmur", "chronic", True, 89),
    ("Obesity", "active", False, 29),
]


def _plus_days(column: str, days: int) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"({column} + {int(days)})"
    return f"date({column}, '+{int(days)} days')"


def _year_month(column: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"to_char({column}, 'YYMM')"
    return f"substr(strftime('%%Y%%m', {column}), 3)"  # SQLite's strftime has no two-digit year


def _case(column: str, mapping: dict[str, Any], default: Any) -> tuple[str, list[Any]]:
    """A portable CASE over ``mapping`` (values as parameters)."""
    parts, params = [], []
    for key, value in mapping.items():
        parts.append("WHEN %s THEN %s")
        params += [key, value]
    return f"CASE {column} {' '.join(parts)} ELSE %s END", [*params, default]


def seed_practice_clinical(ctx: SeedContext) -> None:
    """The record of ten years in a few statements: a consultation for every completed appointment (opened at its
    start by its vet, the reason as the complaint, the case's notes and diagnosis), a vaccination for every vaccine
    line charged at those visits (with its batch, next due a year later) and for the other components of that
    booster (BOOSTER_COMPONENTS), a prescription for every other medicine line (the rest are given in the clinic),
    then all signed except the last two days' (left for the vets to sign), and a problem list on some patients.
    About 500k consultations, 300k vaccinations and 400k prescriptions (issue 10)."""
    from django.db import connection, transaction

    from animals.models import Species
    from appointments.models import Appointment
    from clinical.models import (
        Consultation,
        ConsultationDiagnosis,
        Diagnosis,
        Prescription,
        Problem,
        ProductSpecies,
        Vaccination,
    )
    from invoicing.models import Product

    seed_clinical_lists(ctx)
    components = []  # (charged vaccine code, component product id, maker, batch prefix)
    for charged, parts in BOOSTER_COMPONENTS.items():
        booster = Product.objects.filter(code=charged).first()
        if booster is None:
            continue
        for code, name, maker, prefix in parts:
            product, _ = Product.objects.get_or_create(
                code=code,
                defaults={"name": name, "category": Product.Category.VACCINE, "unit_price": Decimal("0.00"),
                          "tax_category": booster.tax_category},
            )  # fmt: skip
            components.append((charged, product.pk, maker, prefix))
            if charged in SPECIES_ONLY:  # offered only for the booster's species, as the booster is
                ProductSpecies.objects.get_or_create(
                    product=product, species=Species.objects.get(name=SPECIES_ONLY[charged])
                )
    diagnoses = dict(Diagnosis.objects.values_list("name", "pk"))
    now = timezone.now()
    q = connection.ops.quote_name
    texts = {reason: _case_of("Consultation", reason) for reason in CASES}
    for type_name in OTHER_TYPES:
        texts[type_name] = _case_of(type_name, "")
    by_reason = {reason: t for reason, t in texts.items() if reason in CASES}
    by_type = {name: t for name, t in texts.items() if name in OTHER_TYPES}
    columns, params = [], []
    for index in range(4):  # history, examination, assessment, plan
        type_case, type_params = _case("t.name", {k: v[index] for k, v in by_type.items()}, "")
        reason_case, reason_params = _case("a.reason", {k: v[index] for k, v in by_reason.items()}, None)
        columns.append(f"COALESCE({reason_case}, {type_case})")
        params += [*reason_params, *type_params]
    diagnosis_of = {reason: diagnoses.get(t[4][0]) for reason, t in by_reason.items() if t[4]}
    diagnosis_of_type = {name: diagnoses.get(t[4][0]) for name, t in by_type.items() if t[4]}
    consultation, appointment = q(Consultation._meta.db_table), q(Appointment._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
                INSERT INTO {consultation} (animal_id, vet_id, appointment_id, status, opened_at, opened_by_id,
                    updated_at, complaint, history, examination, assessment, {q("plan")}, temperature_c,
                    mucous_membranes, capillary_refill)
                SELECT a.animal_id, a.vet_id, a.id, 'draft', a.start, v.user_id, a."end", a.reason,
                    {columns[0]}, {columns[1]}, {columns[2]}, {columns[3]},
                    38.1 + (a.id %% 11) * 0.1, 'pink', 'lt2'
                FROM {appointment} a
                JOIN vetpms_vet v ON v.id = a.vet_id
                JOIN appointments_appointmenttype t ON t.id = a.type_id
                WHERE a.status = 'completed' AND a."end" <= %s
                """,  # noqa: S608 - table names from the models, values as parameters
            [*params, now],
        )
        reason_case, reason_params = _case("a.reason", diagnosis_of, None)
        type_case, type_params = _case("t.name", diagnosis_of_type, None)
        cursor.execute(
            f"""
                INSERT INTO {q(ConsultationDiagnosis._meta.db_table)}
                    (consultation_id, diagnosis_id, certainty, position)
                SELECT c.id, COALESCE({reason_case}, {type_case}), 'confirmed', 0
                FROM {consultation} c
                JOIN {appointment} a ON a.id = c.appointment_id
                JOIN appointments_appointmenttype t ON t.id = a.type_id
                WHERE COALESCE({reason_case}, {type_case}) IS NOT NULL
                """,  # noqa: S608
            [*reason_params, *type_params, *reason_params, *type_params],
        )
        prefix_case, prefix_params = _case("p.code", {k: v[1] for k, v in VACCINE_MAKERS.items()}, "VX")
        maker_case, maker_params = _case("p.code", {k: v[0] for k, v in VACCINE_MAKERS.items()}, "")
        cursor.execute(
            f"""
                INSERT INTO {q(Vaccination._meta.db_table)} (animal_id, consultation_id, product_id, manufacturer,
                    batch, batch_expiry, route, site, given_on, given_by_id, supervising_vet_id, next_due_on,
                    invoice_line_id, created_at)
                SELECT c.animal_id, c.id, l.product_id, {maker_case},
                    {prefix_case} || {_year_month("l.service_date")} || 'A', {_plus_days("l.service_date", 240)},
                    CASE p.code WHEN 'VAC-KC' THEN 'in' ELSE 'sc' END,
                    CASE p.code WHEN 'VAC-KC' THEN '' ELSE 'scruff' END,
                    l.service_date, c.opened_by_id, c.vet_id, {_plus_days("l.service_date", 365)}, l.id, c.updated_at
                FROM invoicing_invoiceline l
                JOIN invoicing_product p ON p.id = l.product_id
                JOIN {consultation} c ON c.appointment_id = l.appointment_id
                WHERE p.category = 'vaccine' AND l.quantity > 0
                """,  # noqa: S608
            [*maker_params, *prefix_params],
        )
        for charged, product_id, maker, prefix in components:
            cursor.execute(
                f"""
                    INSERT INTO {q(Vaccination._meta.db_table)} (animal_id, consultation_id, product_id, manufacturer,
                        batch, batch_expiry, route, site, given_on, given_by_id, supervising_vet_id, next_due_on,
                        invoice_line_id, created_at)
                    SELECT c.animal_id, c.id, %s, %s, %s || {_year_month("l.service_date")} || 'A',
                        {_plus_days("l.service_date", 240)}, 'sc', 'scruff', l.service_date, c.opened_by_id, c.vet_id,
                        {_plus_days("l.service_date", 365)}, NULL, c.updated_at
                    FROM invoicing_invoiceline l
                    JOIN invoicing_product p ON p.id = l.product_id
                    JOIN {consultation} c ON c.appointment_id = l.appointment_id
                    WHERE p.code = %s AND l.quantity > 0 AND NOT EXISTS (
                        SELECT 1 FROM invoicing_invoiceline own
                        WHERE own.appointment_id = l.appointment_id AND own.product_id = %s AND own.quantity > 0)
                    """,  # noqa: S608 - a component charged on its own line at that visit is recorded from it
                [product_id, maker, prefix, charged, product_id],
            )
        dose_params: list[Any] = []
        dose_columns = []
        for index in range(5):
            case, case_params = _case(
                "p.code", {k: v[index] for k, v in DOSES.items()}, ("", "as directed", "once daily", "", "")[index]
            )
            dose_columns.append(case)
            dose_params += case_params
        cursor.execute(
            f"""
                INSERT INTO {q(Prescription._meta.db_table)} (animal_id, consultation_id, product_id, strength, dose,
                    route, frequency, duration, quantity, instructions, repeats, prescribed_by_id, dispensed_by_id,
                    dispensed_on, invoice_line_id, created_at)
                SELECT c.animal_id, c.id, l.product_id, {dose_columns[0]}, {dose_columns[1]}, 'po', {dose_columns[2]},
                    {dose_columns[3]}, l.quantity, {dose_columns[4]}, 0, c.vet_id, c.opened_by_id, l.service_date,
                    l.id, c.updated_at
                FROM invoicing_invoiceline l
                JOIN invoicing_product p ON p.id = l.product_id
                JOIN {consultation} c ON c.appointment_id = l.appointment_id
                WHERE p.category = 'medication' AND l.quantity > 0 AND l.id %% %s = 0
                """,  # noqa: S608
            [*dose_params, TAKE_HOME_EVERY],
        )
        # Signed at the end of the visit, except the last two days' (the vets' list of unsigned records).
        cursor.execute(
            f"""
                UPDATE {consultation} SET status = 'signed', signed_at = updated_at, signed_by_id = opened_by_id
                WHERE status = 'draft' AND opened_at < %s
                """,  # noqa: S608
            [now - dt.timedelta(days=2)],
        )
        manager_id = ctx.staff["manager"].pk
        for name, status, alert, every in PRACTICE_PROBLEMS:
            cursor.execute(
                    f"""
                    INSERT INTO {q(Problem._meta.db_table)} (animal_id, diagnosis_id, condition, onset, status,
                        is_alert, notes, created_by_id, created_at, updated_at)
                    SELECT id, %s, %s, {_plus_days("date_of_birth", 6 * 365)}, %s, %s, '', %s, %s, %s
                    FROM animals_animal WHERE id %% %s = 0 AND date_of_birth < %s
                    """,  # noqa: S608
                    [diagnoses.get(name), name, status, alert, manager_id, now, now, every,
                     ctx.today - dt.timedelta(days=7 * 365)],
                )  # fmt: skip
    ctx.counts["consultations"] = Consultation.objects.count()
    ctx.counts["vaccinations given"] = Vaccination.objects.count()
    ctx.counts["prescriptions"] = Prescription.objects.count()
    ctx.counts["problems"] = Problem.objects.count()


PRACTICE_STEPS: list[Step] = [seed_practice_clinical]
