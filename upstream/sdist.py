"""A library's sdist, unpacked with our conftest in it, and its tests run.

What run_suites.py (Daphne) and channels_redis_suite.py (channels-redis)
share: the version requirements.txt pins, the sdist of that version
(downloaded once into .cache/upstream/, unpacked afresh on every run), this
folder's conftest for it put in its tests/ folder, the environment our code
needs there, and this venv's pytest run in the unpacked folder. The sdist
is never committed: only the wiring is.
"""

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".cache" / "upstream"


def pinned_version(package: str) -> str:
    pattern = re.compile(rf"^{re.escape(package)}==(\S+)", re.IGNORECASE | re.MULTILINE)
    found = pattern.search((ROOT / "requirements.txt").read_text())
    if not found:
        sys.exit(f"{package} is not pinned (==) in requirements.txt")
    return found.group(1)


def unpacked_sdist(package: str, conftest: str) -> Path:
    """Unpack the sdist of the version of `package` requirements.txt pins
    and put this folder's `conftest` in its tests/ folder, as conftest.py.
    Unpack it afresh from the cached archive, so no conftest or leftover of
    an earlier run stays in it. Return the unpacked folder."""
    version = pinned_version(package)
    # The sdist's name spells the package as its metadata does
    # (channels_redis), whatever requirements.txt spells (channels-redis).
    name = re.sub(r"[-_.]+", "_", package)
    archive = CACHE / f"{name}-{version}.tar.gz"
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
    folder = CACHE / f"{name}-{version}"
    shutil.rmtree(folder, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(CACHE, filter="data")
    shutil.copy(HERE / conftest, folder / "tests" / "conftest.py")
    return folder


def suite_env(**extra: str) -> dict[str, str]:
    """This process's environment, plus what importing our code in the
    suite needs (the project on the path, its settings), plus `extra`."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "realtime_project.settings",
        "SECRET_KEY": "upstream-suite-only-key-never-used-elsewhere-0123456789",
        **extra,
    }


def pytest(folder: Path, args: list[str], env: dict[str, str]) -> int:
    """Run this venv's pytest with `args` in the unpacked `folder`; return
    its exit status."""
    # The venv's pytest script, not `python -m pytest`: that would put the
    # working directory first on sys.path, and the unpacked package beside
    # the tests would shadow the installed one our code subclasses. No
    # cache provider: the sdist's folder is scratch, remade on every run.
    command = [str(Path(sys.executable).parent / "pytest"), "-p", "no:cacheprovider", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=folder, env=env).returncode
