"""The seeding kernel for ``manage.py seed_demo``: what every app's seeding steps share.

``common.py`` holds the context handed from step to step (``SeedContext``), ``run_steps``, the staff (the demo
logins and the practice-scale vets) and the bulk-insert helpers; ``names.py`` the made-up names, places and pets.
Each app seeds its own records next to its code (``clients/seeding.py``, ``animals/seeding.py``,
``appointments/seeding.py``, ``invoicing/seeding.py``, ``reminders/seeding.py``, ``clinical/seeding.py``,
``exchange/seeding.py``): one function per step, the demo's through the services (so audit entries exist), the
practice scale's with bulk inserts (``insert_rows``: COPY on PostgreSQL), listed in that module's ``DEMO_STEPS``
and ``PRACTICE_STEPS``. The ``seed_demo`` command composes them
in dependency order and knows which tables ``--reset`` and ``--only`` empty.

This package imports no app: the apps import it.
"""
