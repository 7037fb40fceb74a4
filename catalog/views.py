from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/landing.html", {"rows": selectors.landing_rows()})
