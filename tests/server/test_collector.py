"""The server process's garbage collector (realtime/server/collector.py):
its thresholds come from REALTIME_GC_THRESHOLDS, and what start-up created
is frozen. Each test loads the application in a fresh interpreter and
prepares the process as RealtimeServer.run does first, without starting
a server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
import realtime_project.asgi
from realtime_project.realtime.server.process import prepare_server_process
from realtime_project.realtime.server.versions import fast_path_allowed

# What RealtimeServer.run does first, once the application is loaded.
prepare_server_process(fast_path=fast_path_allowed())
print(*gc.get_threshold(), gc.get_freeze_count())
"""


def load_application(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "realtime_project.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_server_collects_with_the_configured_thresholds_and_leaves_startup_objects_out():
    loaded = load_application(REALTIME_GC_THRESHOLDS="12345,7,9")
    assert loaded.returncode == 0, loaded.stderr
    first, second, third, frozen = map(int, loaded.stdout.split())
    assert (first, second, third) == (12345, 7, 9)
    assert frozen > 10_000, "start-up objects (Django, the apps) should be frozen"


def test_the_default_thresholds_spare_a_server_of_many_connections_full_collections():
    loaded = load_application()
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split()[:3] == ["10000", "10", "10"]


@pytest.mark.parametrize("thresholds", ["1000,10", "a,b,c", "0,10,10"])
def test_malformed_thresholds_stop_the_server_with_a_clear_error(thresholds):
    loaded = load_application(REALTIME_GC_THRESHOLDS=thresholds)
    assert loaded.returncode != 0
    assert "REALTIME_GC_THRESHOLDS must be three positive integers" in loaded.stderr
