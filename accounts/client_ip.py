"""The address of the person making a request, behind trusted proxies.

Behind a TLS proxy every request comes from the proxy's address
(``REMOTE_ADDR``), so anything counted per IP address (log-in failures,
throttles) would be counted for everybody at once. Each proxy appends the
address it received the request from to ``X-Forwarded-For``; with
``settings.TRUSTED_PROXY_COUNT = N`` proxies in front of Django, the client
is the N-th address from the right. Addresses further left were written by
the client itself and are never believed. With 0 (the default: Django
faces the clients) the header is ignored.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: django-axes' ``AXES_CLIENT_IP_CALLABLE`` and the
    throttles' per-IP key.

    Falls back to ``REMOTE_ADDR`` when the header is missing or its entry is not
    an IP address (a misconfigured proxy). A header shorter than N entries
    (a request that skipped the outer proxies) gives its leftmost entry, the
    one nearest the client, as Django REST framework's ``NUM_PROXIES`` does.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    candidate = entries[-min(trusted, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
