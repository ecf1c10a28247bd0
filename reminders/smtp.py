"""Django's SMTP backend with one hook the reminder outbox needs: a call right after the end of DATA.

A crash can make an email go twice only after the server has the whole message (the final ``.``) and before the
database records its "250 accepted", a window that spans the server's processing of the message and the commit.
The hook runs as soon as the final ``.`` has left, before the reply is read: the outbox writes "message sent,
awaiting the reply" (``ReminderDelivery.Phase.AWAITING_REPLY``), so a worker that dies while the server processes
the message leaves a row that says so, and that email is reported as possibly sent, not sent again blindly. What
remains of the window is the moment between the ``.`` leaving and that UPDATE reaching the database. A crash at any
earlier point leaves an incomplete message, which servers discard, so that email is simply sent again.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable

from django.core.mail.backends import smtp

_LEADING_DOT = re.compile(rb"(?m)^\.")


class _EndOfDataHook:
    """``data()`` as smtplib writes it (RFC 5321 section 4.5.2 dot-stuffing), with ``after_end_of_data`` called
    once the terminating ``.`` has left, before the server's reply is read."""

    after_end_of_data: Callable[[], None] | None = None

    def data(self, msg):
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = msg.encode("ascii")
        body = _LEADING_DOT.sub(b"..", msg)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body + b".\r\n")  # type: ignore[attr-defined]
        if self.after_end_of_data is not None:
            self.after_end_of_data()
        return self.getreply()  # type: ignore[attr-defined]


class HookedSMTP(_EndOfDataHook, smtplib.SMTP):
    pass


class HookedSMTPSSL(_EndOfDataHook, smtplib.SMTP_SSL):
    pass


class EmailBackend(smtp.EmailBackend):
    """The settings' SMTP backend (host, port, TLS, credentials, timeout), on an smtplib client with the hook."""

    @property
    def connection_class(self):
        return HookedSMTPSSL if self.use_ssl else HookedSMTP

    def set_end_of_data_hook(self, hook: Callable[[], None] | None) -> None:
        if isinstance(self.connection, _EndOfDataHook):
            self.connection.after_end_of_data = hook


def reminder_connection():
    """A connection for the outbox: the hooked SMTP backend when the settings name Django's SMTP backend, else the
    configured backend as it is (it has no end of DATA to mark)."""
    from django.conf import settings
    from django.core.mail import get_connection

    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return EmailBackend(fail_silently=False)
    return get_connection(fail_silently=False)
