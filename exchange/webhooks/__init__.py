"""Webhooks by the Standard Webhooks specification (https://www.standardwebhooks.com/).

- ``outbox``: the domain-event subscriber that writes one ``WebhookDelivery`` per interested endpoint inside the
  publishing transaction, and the payload it freezes there;
- ``signing``: secrets (``whsec_`` + base64) and the ``webhook-signature`` header;
- ``net``: the SSRF guard and the HTTP POST to the one address that was checked;
- ``delivery``: claiming, sending, retrying with backoff, ordering per object, and claims of dead workers;
- ``services`` / ``selectors``: endpoints (create, change, rotate the secret, delete) and replays; the log;
- ``tasks`` / ``schedule``: the django-q2 entry point and its schedule;
- ``api`` / ``views``: /api/v1/webhook-endpoints and the manager's pages under /exchange/webhooks/.
"""
