"""channels-redis' own pub/sub tests, run against this project's Redis layer.

upstream/channels_redis_suite.py copies this file, as `conftest.py`, into
the tests/ folder of channels-redis' unpacked sdist (the version
requirements.txt pins) and starts a private Redis and Sentinel for it; the
sdist is never committed. The pub/sub test modules build their layer from
the module global `RedisPubSubChannelLayer` and reach Redis through the
module global `TEST_HOSTS`, both read when a test runs: here, after
collection, the first becomes FanOutRedisPubSubChannelLayer and the second
the private servers, so that every test talks to our layer and never to
the machine's shared Redis on 6379.

Two checks make a silent fall-back to channels-redis' own layer (or to
6379) fail the run: a module that no longer has the globals replaced here
fails collection, and every test checks, after it ran, that each layer it
built was ours.
"""

import os
from pathlib import Path

import channels_redis
import pytest

from realtime_project.realtime.layers import redis_pubsub as realtime_layers

# The private servers the runner started (channels_redis_suite.py).
REDIS_PORT = int(os.environ["REALTIME_UPSTREAM_REDIS_PORT"])
SENTINEL_PORT = int(os.environ["REALTIME_UPSTREAM_SENTINEL_PORT"])

# What each pub/sub module's TEST_HOSTS becomes. The sentinel hosts keep
# the module's own master name and sentinel password: the private Sentinel
# is configured with them (channels_redis_suite.py).
PRIVATE_HOSTS = {
    "test_pubsub.py": lambda module: [f"redis://127.0.0.1:{REDIS_PORT}"],
    "test_pubsub_sentinel.py": lambda module: [
        {
            "sentinels": [("127.0.0.1", SENTINEL_PORT)],
            "master_name": module.SENTINEL_MASTER,
            "sentinel_kwargs": module.SENTINEL_KWARGS,
        }
    ],
}

# channels-redis pub/sub tests whose failure against this layer is
# deliberate: {node id: why}. Deselected, and listed in the run's summary.
# Empty: none is.
DELIBERATE_DIFFERENCES: dict[str, str] = {}

_built_layers: list[object] = []


class _RecordingLayer(realtime_layers.FanOutRedisPubSubChannelLayer):
    """Our layer, noting each instance, so a test can be checked to have
    built ours (and only ours)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _built_layers.append(self)


def pytest_configure(config):
    # The suite must test the channels-redis our layer subclasses (the
    # venv's), not the copy unpacked beside the tests.
    installed = Path(channels_redis.__file__).resolve()
    assert "site-packages" in installed.parts, (
        f"channels_redis imported from {installed}, not the installed package"
    )


def pytest_collection_modifyitems(config, items):
    modules = {item.module for item in items if item.path.name in PRIVATE_HOSTS}
    for module in modules:
        for name in ("RedisPubSubChannelLayer", "TEST_HOSTS"):
            if not hasattr(module, name):
                raise pytest.UsageError(
                    f"{module.__name__} has no {name}: the substitution no longer applies"
                )
        module.RedisPubSubChannelLayer = _RecordingLayer
        module.TEST_HOSTS = PRIVATE_HOSTS[Path(module.__file__).name](module)
    deselected = [item for item in items if item.nodeid in DELIBERATE_DIFFERENCES]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid not in DELIBERATE_DIFFERENCES]


@pytest.fixture(autouse=True)
def _only_our_layer():
    _built_layers.clear()
    yield
    # Every pub/sub test builds at least one layer (a fixture's, or its own).
    assert _built_layers, "the test built no FanOutRedisPubSubChannelLayer"


def pytest_terminal_summary(terminalreporter):
    for node_id, why in DELIBERATE_DIFFERENCES.items():
        terminalreporter.write_line(f"deliberate difference, deselected: {node_id}: {why}")
