"""Importing the ASGI application changes no library and nothing
process-wide: the server's own classes and process settings belong to its
entry point (realtime/server/), not to whoever imports the application (a
test, a shell, `runserver`, another ASGI server)."""

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: load the libraries, fingerprint every attribute of
# their modules and classes, import the application, fingerprint again.
PROBE = r"""
import gc, importlib, json, os, pkgutil, sys

PACKAGES = ("daphne", "autobahn", "twisted", "channels", "channels_redis", "redis", "asgiref", "txaio")
# Twisted is large: the parts a WebSocket server uses (and a reactor).
TWISTED = ("twisted.internet", "twisted.web", "twisted.protocols", "twisted.python", "twisted.logger")

# Daphne runs autobahn on Twisted; its asyncio flavour may not load beside it.
NOT_LOADED = ("autobahn.asyncio", "txaio.aio", "autobahn.wamp", "autobahn.xbr", "autobahn.nvx")

def loadable(name):
    if name.startswith(NOT_LOADED):
        return False
    if name.startswith("twisted.") and not name.startswith(TWISTED):
        return False
    return not any(part.startswith("test") or part == "__main__" for part in name.split("."))

def load(name):
    try:
        module = importlib.import_module(name)
    except Exception:
        return  # optional extras (HTTP/2, TLS, uvloop...) not installed
    for info in pkgutil.iter_modules(getattr(module, "__path__", []), name + "."):
        if loadable(info.name):
            load(info.name)

# Django is no library under test: set up first, so modules that read
# settings or models on import load.
import django
django.setup()
for package in PACKAGES:
    load(package)

def fingerprint():
    seen = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in PACKAGES:
            continue
        for attr, value in list(vars(module).items()):
            seen[f"{name}.{attr}"] = id(value)
            if isinstance(value, type) and value.__module__ == name:
                for cattr, cvalue in list(vars(value).items()):
                    seen[f"{name}.{attr}.{cattr}"] = id(cvalue)
    return seen

before = fingerprint()
gc_before = (gc.get_threshold(), gc.get_freeze_count())
import realtime_project.asgi  # noqa: F401
after = fingerprint()
changed = sorted(key for key, value in before.items() if key in after and after[key] != value)
added = sorted(
    key for key in after
    if key not in before and key.rsplit(".", 1)[0] in {k.rsplit(".", 1)[0] for k in before}
)
print(json.dumps({
    "changed": changed,
    "added": added,
    "gc_before": gc_before,
    "gc_after": (gc.get_threshold(), gc.get_freeze_count()),
}))
"""


def probe() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "realtime_project.settings",
            "SECRET_KEY": "import-purity",
            "DEBUG": "0",
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_asgi_application_replaces_no_attribute_of_any_library_and_leaves_the_collector_alone():
    found = probe()
    # Module-level state the libraries themselves keep (caches, registries)
    # may grow; what may not happen is an attribute rebound from outside.
    assert found["changed"] == [], f"replaced on import: {found['changed']}"
    assert found["added"] == [], f"added on import: {found['added']}"
    assert found["gc_after"] == found["gc_before"], "the garbage collector was tuned on import"
