"""Every environment variable the code reads is in `.env.example` and in the
README's table ("Running in production"), so neither can drift again."""

import ast
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
#: Code that runs the site (tests, benchmarks and developer tools aside).
NOT_SITE = {"tests", "bench", "tools", "var", "node_modules", "static", "templates"}
#: django-environ's readers (``env.str("NAME")``, ``environ.Env().str(...)``).
ENV_READERS = {"str", "bool", "int", "float", "list", "tuple", "dict", "json"}
ENV_READERS |= {"url", "db", "db_url", "cache", "cache_url", "email", "path"}
#: Set by the code for itself, not by whoever deploys it.
INTERNAL = {"DJANGO_SETTINGS_MODULE"}


def site_modules() -> list[Path]:
    modules = [ROOT / "gunicorn.conf.py", ROOT / "manage.py"]
    for package in sorted(ROOT.glob("*/__init__.py")):
        if package.parent.name not in NOT_SITE:
            modules += sorted(package.parent.rglob("*.py"))
    return modules


def _reads_environment(node: ast.AST) -> bool:
    """``env.str(...)``, ``environ.Env().int(...)``, ``os.environ.get(...)``,
    ``os.getenv(...)`` or ``os.environ[...]`` (read, not written)."""
    if isinstance(node, ast.Subscript):
        return (
            isinstance(node.ctx, ast.Load) and ast.unparse(node.value) == "os.environ"
        )
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    reader, method = ast.unparse(node.func.value), node.func.attr
    return (
        (reader in ("env", "environ.Env()") and method in ENV_READERS)
        or (reader == "os.environ" and method == "get")
        or (reader == "os" and method == "getenv")
    )


def variables_read(source: str) -> set[str]:
    """Names read through django-environ, ``os.environ`` or ``os.getenv``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if _reads_environment(node):
            name = node.slice if isinstance(node, ast.Subscript) else node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.add(name.value)
    return found - INTERNAL


def read_by_the_site() -> set[str]:
    names = set()
    for module in site_modules():
        names |= variables_read(module.read_text())
    return names


def in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def in_readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE))


def test_the_scan_finds_each_way_of_reading_the_environment():
    source = """
import os, environ
env = environ.Env()
A = env.str("ONE", default="x")
B = env.db("TWO")
C = environ.Env().int("THREE", default=1)
D = os.environ.get("FOUR")
E = os.environ["FIVE"]
F = os.getenv("SIX")
os.environ["NOT_READ"] = "set"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
"""
    assert variables_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}


def test_the_scan_sees_the_settings_and_gunicorn():
    names = read_by_the_site()

    assert {"DATABASE_URL", "SECRET_KEY", "PRIVACY_EXPORT_DIR"} <= names
    assert {"WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "LOG_FORMAT"} <= names


def test_every_variable_the_site_reads_is_in_env_example():
    assert read_by_the_site() - in_env_example() == set()


def test_every_variable_the_site_reads_is_in_the_readme_table():
    assert read_by_the_site() - in_readme_table() == set()


def test_the_docs_name_no_variable_the_site_does_not_read():
    read = read_by_the_site()

    assert in_env_example() - read == set()
    assert in_readme_table() - read == set()
