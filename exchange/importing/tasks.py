"""django-q2 entry point: takes an id, calls the service."""

from __future__ import annotations


def run_import(job_id: int) -> str:
    from exchange.importing.services import job_run

    job = job_run(job_id=job_id)
    return f"import {job_id}: {job.status if job else 'not queued'}"
