"""``make audit`` (tools/audit.py) never passes silently: vulnerabilities fail
it, an unreachable vulnerability service is said out loud (and passes, so an
offline machine can run it), a clean audit passes. pip-audit is replaced by a
fake that answers as the real one does in each case (no network needed)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

DJANGO = {"name": "django", "version": "5.2.19"}
CELERY = {"name": "celery", "version": "5.7.0"}
NOT_FOUND = "Dependency not found on PyPI and could not be audited: {name} ({version})"
#: What pip-audit prints (and exits 1 with) when PyPI cannot be reached.
CONNECTION_ERROR = (
    "Traceback (most recent call last):\n"
    '  File "requests/adapters.py", line 729, in send\n'
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', "
    "port=443): Max retries exceeded with url: /pypi/django/5.2.19/json (Caused by "
    "NameResolutionError(\"Failed to resolve 'pypi.org'\"))\n"
)


def fake_pip_audit(tmp_path: Path, *, report: dict | None, stderr: str, code: int):
    """A pip-audit that writes ``report`` where --output says, prints ``stderr``
    and exits with ``code``; it records its arguments."""
    script = tmp_path / "pip-audit"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, sys
            args = sys.argv[1:]
            open({str(tmp_path / "args.json")!r}, "w").write(json.dumps(args))
            report = {json.dumps(report)!r}
            if report != "null":
                open(args[args.index("--output") + 1], "w").write(report)
            sys.stderr.write({stderr!r})
            sys.exit({code})
            """
        )
    )
    script.chmod(0o755)
    return script


def audit(script: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "tools/audit.py"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PIP_AUDIT": str(script)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_clean_audit_passes_and_says_how_many_were_audited(tmp_path: Path) -> None:
    report = {"dependencies": [{**DJANGO, "vulns": []}, {**CELERY, "vulns": []}]}

    ran = audit(fake_pip_audit(tmp_path, report=report, stderr="", code=0))

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "audit: 2 packages audited, no known vulnerabilities." in ran.stdout
    args = json.loads((tmp_path / "args.json").read_text())
    for name in ("requirements.txt", "requirements-dev.txt"):
        assert args[args.index(name) - 1] == "--requirement"
    assert {"--no-deps", "--disable-pip"} <= set(args)


def test_a_vulnerability_found_fails_the_audit_and_is_named(tmp_path: Path) -> None:
    vuln = {"id": "PYSEC-2026-1", "fix_versions": ["5.2.20"], "aliases": []}
    report = {
        "dependencies": [{**DJANGO, "vulns": [vuln]}, {**CELERY, "vulns": []}],
        "fixes": [],
    }

    ran = audit(fake_pip_audit(tmp_path, report=report, stderr="", code=1))

    assert ran.returncode == 1
    assert "VULNERABLE django 5.2.19: PYSEC-2026-1 (fixed in: 5.2.20)" in ran.stdout
    assert "1 of 2 packages have known vulnerabilities" in ran.stdout


@pytest.mark.parametrize(
    "report, stderr, code",
    [
        (None, CONNECTION_ERROR, 1),  # no network at all
        (  # a proxy that answers 404 for every package: pip-audit exits 0
            {
                "dependencies": [
                    {"name": d["name"], "skip_reason": NOT_FOUND.format(**d)}
                    for d in (DJANGO, CELERY)
                ]
            },
            "No known vulnerabilities found\n",
            0,
        ),
    ],
    ids=["connection-error", "every-package-unanswered"],
)
def test_an_unreachable_service_is_said_out_loud_and_passes(
    tmp_path: Path, report, stderr: str, code: int
) -> None:
    ran = audit(fake_pip_audit(tmp_path, report=report, stderr=stderr, code=code))

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.startswith(
        "audit: NOT AUDITED: pip-audit could not reach its vulnerability service"
    )
    assert "no known vulnerabilities" not in ran.stdout


def test_some_packages_unanswered_fails_the_audit(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {**DJANGO, "vulns": []},
            {"name": "celery", "skip_reason": NOT_FOUND.format(**CELERY)},
        ]
    }

    ran = audit(fake_pip_audit(tmp_path, report=report, stderr="", code=0))

    assert ran.returncode == 1
    assert "NOT AUDITED celery: Dependency not found on PyPI" in ran.stdout


def test_any_other_pip_audit_failure_fails_the_audit(tmp_path: Path) -> None:
    ran = audit(
        fake_pip_audit(
            tmp_path, report=None, stderr="ERROR: invalid requirement: 'x=='\n", code=2
        )
    )

    assert ran.returncode == 2
    assert "invalid requirement" in ran.stdout
    assert "pip-audit failed (exit 2); nothing was audited." in ran.stdout


def test_make_audit_runs_the_script() -> None:
    planned = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "--always-make", "audit"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1] == ".venv/bin/python tools/audit.py"
