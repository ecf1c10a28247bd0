"""Demo and practice-scale data for ``manage.py seed_demo``.

The layout is meant to grow with the product: one function per entity in ``demo.py`` (through the services, so
audit entries exist) and in ``practice.py`` (bulk inserts), each listed in that module's ``STEPS`` in dependency
order. A later issue (appointments, invoicing, reminders) adds its own ``seed_<entity>`` functions, appends them
to both ``STEPS`` lists and puts its models at the front of ``RESET_MODELS``.

This package imports every app, so it is the one place allowed to reach "upwards" from vetpms: it is a
composition root, run from the command line, never imported by application code.
"""
