"""The export zip: everything a manager may take to another system, one CSV per entity with exactly the columns of
``exchange.importing.columns`` (the same spec the importer reads), streamed as one zip.

- ``rows``: for each entity, the rows in the spec's column order, read in keyset chunks (memory stays flat);
- ``zipstream``: the zip written into a streaming response as it is produced (no file, no whole zip in memory);
- ``views`` / ``api``: the manager's page and download, and ``GET /api/v1/export/zip``.
"""
