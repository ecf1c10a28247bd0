from __future__ import annotations

from django.conf import settings

from vetpms import __version__


def practice(request):
    return {"PRACTICE": settings.PRACTICE, "VETPMS_VERSION": __version__}
