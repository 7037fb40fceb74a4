"""catalog's API routes, included under /api/v1/ by config/api_urls.py."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
