"""Run a library's own test suite against this project's server.

    .venv/bin/python upstream/run_suites.py daphne

Unpacks the sdist of the version requirements.txt pins with this folder's
conftest for it in its tests/ folder (sdist.py) and runs its tests with
this venv's pytest. Exits non-zero when a test fails.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from sdist import pytest, suite_env, unpacked_sdist


def run_daphne() -> int:
    folder = unpacked_sdist("daphne", "daphne_conftest.py")
    scratch = Path(tempfile.mkdtemp(prefix="upstream-daphne-"))
    try:
        env = suite_env(
            DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}",
            REALTIME_UPSTREAM_SERVED_DIR=str(scratch / "served"),
            # TestApplication keeps its setup and results in the temporary
            # folder: one of its own, so parallel runs do not share them.
            TMPDIR=str(scratch),
        )
        (scratch / "served").mkdir()
        # pytest-django is installed here and would load our settings while
        # pytest starts; test_checks.py configures settings of its own, so
        # it runs alone, after the rest (which read ours in the children).
        options = ["--tb=short", "--timeout=60", "-p", "no:django"]
        first = pytest(folder, [*options, "tests", "--deselect", "tests/test_checks.py"], env)
        checks_env = {name: value for name, value in env.items() if name != "DJANGO_SETTINGS_MODULE"}
        second = pytest(folder, [*options, "tests/test_checks.py"], checks_env)
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
