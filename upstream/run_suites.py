"""Run a library's own test suite against this project's server.

    .venv/bin/python upstream/run_suites.py daphne

Downloads the sdist of the version requirements.txt pins (cached in
.cache/upstream/), unpacks it, puts this folder's conftest for it in its
tests/ folder, and runs its tests with this venv's pytest. Exits non-zero
when a test fails. The sdist is never committed: only the wiring is.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "upstream"
HERE = Path(__file__).resolve().parent


def pinned_version(package: str) -> str:
    pattern = re.compile(rf"^{re.escape(package)}==(\S+)", re.IGNORECASE | re.MULTILINE)
    found = pattern.search((ROOT / "requirements.txt").read_text())
    if not found:
        sys.exit(f"{package} is not pinned (==) in requirements.txt")
    return found.group(1)


def unpacked_sdist(package: str, version: str) -> Path:
    """The sdist's folder, unpacked afresh from the cached archive (so no
    conftest or leftover of an earlier run stays in it)."""
    archive = CACHE / f"{package}-{version}.tar.gz"
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"{package}=={version}",
                "-d",
                str(CACHE),
            ],
            check=True,
        )
    folder = CACHE / f"{package}-{version}"
    shutil.rmtree(folder, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    return folder


def pytest(folder: Path, args: list[str], env: dict[str, str]) -> int:
    # The venv's pytest script, not `python -m pytest`: that would put the
    # working directory first on sys.path, and the unpacked daphne/ beside
    # the tests would shadow the installed one our server subclasses.
    command = [
        str(Path(sys.executable).parent / "pytest"),
        "--tb=short",
        "-p",
        "no:cacheprovider",
        "--timeout=60",
        *args,
    ]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=folder, env=env).returncode


def run_daphne() -> int:
    folder = unpacked_sdist("daphne", pinned_version("daphne"))
    shutil.copy(HERE / "daphne_conftest.py", folder / "tests" / "conftest.py")
    scratch = Path(tempfile.mkdtemp(prefix="upstream-daphne-"))
    try:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": "realtime_project.settings",
            "SECRET_KEY": "upstream-suite-only-key-never-used-elsewhere-0123456789",
            "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
            "REALTIME_UPSTREAM_SERVED_DIR": str(scratch / "served"),
            # TestApplication keeps its setup and results in the temporary
            # folder: one of its own, so parallel runs do not share them.
            "TMPDIR": str(scratch),
        }
        (scratch / "served").mkdir()
        # pytest-django is installed here and would load our settings while
        # pytest starts; test_checks.py configures settings of its own, so
        # it runs alone, after the rest (which read ours in the children).
        first = pytest(folder, ["-p", "no:django", "tests", "--deselect", "tests/test_checks.py"], env)
        checks_env = {name: value for name, value in env.items() if name != "DJANGO_SETTINGS_MODULE"}
        second = pytest(folder, ["-p", "no:django", "tests/test_checks.py"], checks_env)
        return first or second
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


SUITES = {"daphne": run_daphne}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="+", choices=sorted(SUITES))
    failed = [name for name in parser.parse_args().suites if SUITES[name]()]
    if failed:
        print(f"upstream suites failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
