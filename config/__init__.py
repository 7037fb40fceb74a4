from . import checks  # noqa: F401  (registers the system checks of the deployment)
from .celery import app as celery_app

__all__ = ("celery_app",)
