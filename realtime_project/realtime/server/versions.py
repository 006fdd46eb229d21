"""The version fence: the libraries this package subclasses or reads the
private attributes of, at the versions it was tested with.

requirements.txt pins the same versions. A deployment that installs others
(a loosened pin, a distribution's packages) still runs, but the entry point
says so loudly and turns the fast path off (RealtimeServer.fast_path, and
the protocol's direct writes): those read Twisted's transport internals and
autobahn's framing, which a new version may change without notice. The
subclassed methods themselves are fingerprinted by the tripwire test
(tests/server/test_upstream_fence.py) at these versions.
"""

import logging
from importlib import metadata

logger = logging.getLogger(__name__)

TESTED = {
    "daphne": "4.2.3",
    "twisted": "26.10.0",
    "autobahn": "26.11.1",
    "txaio": "26.6.1",
    "asgiref": "3.13.0",
    "channels": "4.3.2",
    "channels-redis": "4.3.0",
    "redis": "8.1.0",
}


def installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def mismatches(tested: dict[str, str] = TESTED) -> dict[str, tuple[str, str | None]]:
    """{library: (tested version, installed version or None)} for each library
    installed at another version than the one tested."""
    found = {name: installed(name) for name in tested}
    return {name: (version, found[name]) for name, version in tested.items() if found[name] != version}


def fast_path_allowed(tested: dict[str, str] = TESTED) -> bool:
    """Whether the fast path may run: every fenced library is at its tested
    version. Logs an error naming each one that is not."""
    wrong = mismatches(tested)
    for name, (version, found) in wrong.items():
        logger.error(
            "%s %s is installed, but the server was tested with %s: running without the fast path "
            "(direct writes); install the versions of requirements.txt",
            name,
            found or "(none)",
            version,
        )
    return not wrong
