"""The Content-Security-Policy every page is served with (django-csp).

Scripts, styles and images come from the site itself, nothing is inline, no
eval, and no page may be framed. ``CSP_REPORT_ONLY`` sends the same policy
without enforcing it, for a rollout. The templates hold no inline style or
script, so the policy needs no exception.
"""

import json
import re
import runpy
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings

from accounts.models import Profile, User
from catalog.models import Title
from tests.activity.conftest import watch_as
from tests.factories import GenreFactory, ProfileFactory, TitleFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
ENFORCED = "Content-Security-Policy"
REPORT_ONLY = "Content-Security-Policy-Report-Only"


def directives(header: str) -> dict[str, list[str]]:
    """A policy header as {directive: [sources]} (django-csp orders them freely)."""
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


@pytest.fixture
def title() -> Title:
    return TitleFactory(title="Heat", year=1995, genres=[GenreFactory(name="Drama")])


@pytest.fixture
def profile() -> Profile:
    return ProfileFactory(name="Robin")


@pytest.fixture
def viewer(client: Client, profile: Profile) -> Client:
    """A signed-in account with its profile chosen."""
    return watch_as(client, profile)


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(
        User.objects.create_superuser(email="curator@example.com", password="x" * 16)
    )
    return client


def viewer_pages(title: Title, profile: Profile) -> list[str]:
    return [
        "/",
        f"/titles/{title.pk}/",
        "/search/?q=heat",
        "/genres/drama/",
        "/privacy/",
        f"/api/v1/profiles/{profile.pk}/ratings/",
    ]


ADMIN_PAGES = [
    "/admin/",
    "/admin/catalog/title/",
    "/admin/recommendations/modelversion/",
]


def test_every_page_is_served_with_the_strict_policy(viewer, staff, title, profile):
    responses = {path: viewer.get(path) for path in viewer_pages(title, profile)}
    responses |= {path: staff.get(path) for path in ADMIN_PAGES}
    responses["/accounts/login/"] = Client().get("/accounts/login/")

    for path, response in responses.items():
        assert response.status_code == 200, path
        assert directives(response[ENFORCED]) == POLICY, path
        assert REPORT_ONLY not in response, path
    assert responses[f"/api/v1/profiles/{profile.pk}/ratings/"].json()["results"] == []


# What the policy refuses: a style attribute or element, a script with code in
# it, an inline event handler, a javascript: link, and htmx's eval (hx-on).
INLINE_STYLE_ATTRIBUTE = re.compile(r"""[\s"'/]style\s*=""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
DATA_BLOCK = re.compile(r"""\stype=["']?application/(ld\+)?json\b""", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"""<[^>]*\son[a-z]+\s*=""", re.IGNORECASE)
HTMX_EVAL = re.compile(r"""\s(data-)?hx-on[:\-]|js:|javascript:""", re.IGNORECASE)


def inline_code(html: str) -> list[str]:
    """What in ``html`` a strict policy would block, as short descriptions."""
    found = [
        f"style attribute: {m.group(0)!r}"
        for m in INLINE_STYLE_ATTRIBUTE.finditer(html)
    ]
    found += ["<style> element" for _ in STYLE_ELEMENT.finditer(html)]
    for attributes, body in SCRIPT.findall(html):
        data_block = DATA_BLOCK.search(attributes)  # not run, so not refused
        if not data_block and (body.strip() or "src=" not in attributes):
            found.append(f"inline <script{attributes}>")
    found += [
        f"event handler: {m.group(0)[:60]!r}" for m in EVENT_HANDLER.finditer(html)
    ]
    found += [f"eval: {m.group(0)!r}" for m in HTMX_EVAL.finditer(html)]
    return found


def test_inline_code_is_recognised():
    """The scanner below finds each kind of inline code (so its silence means
    something) and lets through what the policy allows."""
    assert len(inline_code('<p style="color: red">')) == 1
    assert len(inline_code("<style>.a { color: red }</style>")) == 1
    assert len(inline_code("<script>alert(1)</script>")) == 1
    assert len(inline_code('<button onclick="go()">')) == 1
    assert len(inline_code('<a href="javascript:go()">')) == 1
    assert len(inline_code('<div hx-on:click="go()">')) == 1
    allowed = (
        '<script src="/static/js/htmx.js" defer></script>'
        '<link rel="stylesheet" href="/static/css/marquee.css">'
        '<form hx-trigger="change, submit" class="styles"><p>Our online style</p>'
        '<script type="application/json" id="data">{"a": 1}</script>'
    )
    assert inline_code(allowed) == []


TEMPLATE_COMMENT = re.compile(
    r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.DOTALL
)


def template_files() -> list[Path]:
    folders = [Path(folder) for folder in django_settings.TEMPLATES[0]["DIRS"]]
    folders += [
        Path(django_settings.BASE_DIR) / app / "templates"
        for app in ("accounts", "catalog", "activity", "recommendations", "privacy")
    ]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


def test_no_template_holds_inline_style_or_script():
    files = template_files()
    assert len(files) > 50  # the scan reads the real templates

    found = {
        str(path.relative_to(django_settings.BASE_DIR)): inline_code(
            TEMPLATE_COMMENT.sub("", path.read_text())
        )
        for path in files
    }

    assert {path: what for path, what in found.items() if what} == {}


def test_pages_as_served_hold_no_inline_style_or_script(viewer, staff, title, profile):
    """What the browser gets, Django admin's own templates included (the API
    answers JSON only: DRF renders no page)."""
    pages = {
        path: viewer.get(path, HTTP_ACCEPT="text/html")
        for path in viewer_pages(title, profile)
        if not path.startswith("/api/")
    }
    pages |= {path: staff.get(path) for path in ADMIN_PAGES}
    assert all(page["Content-Type"].startswith("text/html") for page in pages.values())

    found = {path: inline_code(page.content.decode()) for path, page in pages.items()}

    assert {path: what for path, what in found.items() if what} == {}


def test_htmx_is_told_to_use_no_eval_and_add_no_inline_style(client):
    page = client.get("/accounts/login/").content.decode()

    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert json.loads(config.group(1)) == {
        "allowEval": False,
        "includeIndicatorStyles": False,
        "attributesToSettle": ["class", "width", "height"],
    }
    # The meta comes before htmx, which reads it when it starts.
    assert config.start() < page.index("js/htmx-")


def served_with(environment: dict[str, str], client: Client, monkeypatch):
    """/accounts/login/ as served by config/settings.py read with ``environment``."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    configured = runpy.run_path(
        str(Path(django_settings.BASE_DIR) / "config" / "settings.py")
    )
    with override_settings(
        CONTENT_SECURITY_POLICY=configured.get("CONTENT_SECURITY_POLICY"),
        CONTENT_SECURITY_POLICY_REPORT_ONLY=configured.get(
            "CONTENT_SECURITY_POLICY_REPORT_ONLY"
        ),
    ):
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("value", ["true", "1"])
def test_report_only_switch_sends_the_policy_without_enforcing_it(
    client, monkeypatch, value
):
    response = served_with({"CSP_REPORT_ONLY": value}, client, monkeypatch)

    assert directives(response[REPORT_ONLY]) == POLICY
    assert ENFORCED not in response


def test_reports_go_to_the_configured_address(client, monkeypatch):
    response = served_with(
        {"CSP_REPORT_ONLY": "true", "CSP_REPORT_URI": "https://r.example.org/csp"},
        client,
        monkeypatch,
    )

    assert directives(response[REPORT_ONLY]) == POLICY | {
        "report-uri": ["https://r.example.org/csp"]
    }


@pytest.mark.parametrize("environment", [{}, {"CSP_REPORT_ONLY": "false"}])
def test_the_policy_is_enforced_unless_the_switch_is_on(
    client, monkeypatch, environment
):
    monkeypatch.delenv("CSP_REPORT_ONLY", raising=False)
    monkeypatch.delenv("CSP_REPORT_URI", raising=False)
    response = served_with(environment, client, monkeypatch)

    assert directives(response[ENFORCED]) == POLICY
    assert REPORT_ONLY not in response


def test_a_poster_keeps_its_own_stricter_policy(client, title):
    response = client.get(title.poster_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response[ENFORCED] == "default-src 'none'"


def test_an_anonymous_visitor_gets_the_policy_on_a_page_that_is_not_found(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert directives(response[ENFORCED]) == POLICY
