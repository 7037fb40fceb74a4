"""``make audit``: pip-audit over every pinned requirement, never a silent pass.

pip-audit looks each pinned version up in a vulnerability service (PyPI's by
default). Its own exit code cannot tell "nothing found" from "nothing could be
looked up": a proxy that answers 404 for everything makes every package
"skipped" and pip-audit says "No known vulnerabilities found". So this script
reads its JSON report and says which it was:

- vulnerabilities found, or some packages not looked up while others were:
  the list, exit 1;
- the service could not be reached (a connection error, or not one package
  answered): says so in capitals, exit 0, so that an offline machine can run
  ``make audit`` in a pipeline without failing it, and nobody reads it as a pass;
- every package looked up, nothing found: exit 0;
- pip-audit failing in any other way: its output and its exit code.

``PIP_AUDIT`` names the pip-audit to run (default: the one beside this Python).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "requirements-engine.txt")
#: What pip-audit (requests, urllib3) prints when the service cannot be reached.
UNREACHABLE = re.compile(
    r"ConnectionError|ProxyError|ConnectTimeout|ReadTimeout|SSLError"
    r"|NameResolutionError|Max retries exceeded|Temporary failure in name resolution"
)


def main() -> int:
    pip_audit = os.environ.get("PIP_AUDIT") or str(
        Path(sys.executable).parent / "pip-audit"
    )
    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        command = [pip_audit]
        for name in REQUIREMENTS:
            command += ["--requirement", name]
        # Every requirement is pinned (transitive ones too): look the pins up
        # as they are, without resolving them in a scratch virtualenv.
        command += ["--no-deps", "--disable-pip", "--progress-spinner", "off"]
        command += ["--format", "json", "--output", str(report_path)]
        ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        report = report_path.read_text() if report_path.exists() else ""
    output = ran.stdout + ran.stderr
    if not report.strip():
        if UNREACHABLE.search(output):
            return unreachable(tail(output))
        print(output, end="")
        print(f"audit: pip-audit failed (exit {ran.returncode}); nothing was audited.")
        return ran.returncode or 1
    dependencies = json.loads(report)["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: "
                f"{vuln['id']} (fixed in: {fixes})"
            )
    if vulnerable:
        print(
            f"audit: {len(vulnerable)} of {audited} packages have known vulnerabilities."
        )
        return 1
    if dependencies and not audited:
        return unreachable(
            f"not one of {len(dependencies)} packages was answered "
            f"({skipped[0]['skip_reason']})"
        )
    if skipped:
        for dependency in skipped:
            print(f"NOT AUDITED {dependency['name']}: {dependency['skip_reason']}")
        print(f"audit: {len(skipped)} packages could not be looked up.")
        return 1
    if ran.returncode:
        print(output, end="")
        return ran.returncode
    print(f"audit: {audited} packages audited, no known vulnerabilities.")
    return 0


def unreachable(why: str) -> int:
    print(
        "audit: NOT AUDITED: pip-audit could not reach its vulnerability service: "
        f"{why}\naudit: run `make audit` where the service can be reached."
    )
    return 0


def tail(text: str) -> str:
    """The last line of ``text``: a traceback's exception."""
    return text.strip().splitlines()[-1]


if __name__ == "__main__":
    sys.exit(main())
