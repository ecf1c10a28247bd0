"""Backup and restore of a whole practice: ``manage.py backup``, ``manage.py restore`` and the daily schedule.

A backup is one directory under ``BACKUP_DIR`` named ``vetpms-<UTC time>``:

- ``database.dump`` (PostgreSQL, ``pg_dump`` custom format) or ``database.sqlite3`` (SQLite's online backup API);
- ``files/<storage>/<name>``: the uploaded files (clinical attachments and their thumbnails) read through the storage
  API, so an S3-compatible store is backed up the same way as a directory;
- ``manifest.json``: VetPMS version, database vendor, creation time (UTC), the applied migrations, the row count of
  every table and the SHA-256 of every file above;
- ``SHA256SUMS``: the same checksums plus the manifest's, in the format ``sha256sum -c`` reads, so a copy can be
  checked on any machine without VetPMS.

``core`` holds the work, ``schedule`` the django-q2 schedule, ``tasks`` its entry point.
"""
