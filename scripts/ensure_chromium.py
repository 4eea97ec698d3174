"""Test setup: make sure Debian's `chromium` is installed for the report's browser test.

tests/observe/test_report_browser.py opens the HTML report in /usr/bin/chromium (driven by
playwright, which never downloads a browser of its own). This installs the `chromium`
package with apt-get when it is missing and this process may (root, apt-get present);
otherwise it says why not. It prints one line and always exits 0: a machine without
the browser still runs every other test, and the browser test skips saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_SECONDS = 900
SKIP = "; the browser test will skip"


def ensure_chromium(chromium: Path = CHROMIUM) -> str:
    """What was done, as one line."""
    if chromium.exists():
        return f"chromium: already installed ({chromium})"
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        return f"chromium: not installed and no apt-get here{SKIP}"
    if os.geteuid() != 0:
        return f"chromium: not installed and not root (`sudo apt-get install -y chromium`){SKIP}"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt_get, "install", "-y", "chromium"]
    # The package lists may already know chromium: update (the network) only when needed.
    failure = _run(install, environment)
    if failure:
        failure = _run([apt_get, "update"], environment) or _run(install, environment)
    if failure:
        return f"chromium: apt-get could not install it ({failure}){SKIP}"
    if not chromium.exists():
        return f"chromium: apt-get installed the package but {chromium} is absent{SKIP}"
    return f"chromium: installed with apt-get ({chromium})"


def _run(command: list[str], environment: dict[str, str]) -> str | None:
    """None when the command succeeded, else its last line of output (or why it could not run)."""
    try:
        done = subprocess.run(
            command,
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit {done.returncode}"


def main() -> int:
    print(ensure_chromium())
    return 0


if __name__ == "__main__":
    sys.exit(main())
