"""Data in and out of the practice (DESIGN.md section 8).

- ``exchange.fhir``: the FHIR R4 server at /fhir/R4/ and the Bulk Data ``$export`` operation;
- ``exchange.webhooks``: Standard Webhooks endpoints, the event outbox and its delivery;
- ``exchange.importing``: import from another practice system (CSV, XLSX) with a dry run, and the export zip;
- ``exchange.datarights``: owners' data rights (subject access, erasure, retention);
- ``exchange.backup``: ``manage.py backup`` / ``restore``.

The top app of the dependency chain: it reads through the other apps' selectors and writes through their services only.
"""
