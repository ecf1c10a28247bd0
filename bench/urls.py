"""The project's URLs plus the framework floor the page bench measures against (bench/pages.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from vetpms.urls import urlpatterns as project_urls


@login_required
def floor(request):
    """A trivial authenticated view: the middleware, the session, the user and a response, nothing else."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench-floor/", floor), *project_urls]
