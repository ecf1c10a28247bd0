"""Who sees money received: one rule, applied by pages, API endpoints and PDFs alike.

Payments, refunds, what is still outstanding, a client's balance or credit and what insurers paid are payment
data: they need ``invoicing.view_payment``. A vet charges lines and reads invoices (what was charged) without it,
so an invoice shown to them leaves the payment side out rather than being refused as a whole.
"""

from __future__ import annotations

from typing import Any

VIEW_PAYMENT = "invoicing.view_payment"


def sees_payments(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(VIEW_PAYMENT))
