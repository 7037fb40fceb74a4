"""Celery tasks of the accounts app: the mail a request asked for.

Sent through the outbox (``accounts.services``) and retried by
``config.celery.RETRY``, and also when the mail server is away. A copy run
twice sends the mail twice: harmless for these mails, and rarer than a mail
lost.
"""

from smtplib import SMTPException

from celery import shared_task

from accounts import services
from config.celery import RETRY

MAIL_TASK = {
    **RETRY,
    "autoretry_for": (*RETRY["autoretry_for"], SMTPException, OSError),
}


@shared_task(**MAIL_TASK)
def password_reset_mail(email: str, domain: str, use_https: bool) -> None:
    services.password_reset_mail_send(email=email, domain=domain, use_https=use_https)


@shared_task(**MAIL_TASK)
def signup_mail(email: str, created: bool, domain: str, use_https: bool) -> bool:
    return services.signup_mail_send(
        email=email, created=created, domain=domain, use_https=use_https
    )
