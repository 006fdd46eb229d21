"""Daphne's own test suite, run against this project's server.

upstream/run_suites.py copies this file, as `conftest.py`, into the tests/
folder of Daphne's unpacked sdist (the pinned version of requirements.txt);
the sdist is never committed. Daphne's integration tests start a server in
a child process (daphne/testing.py, DaphneProcess.run), which reinstalls
Twisted's reactor, drops `daphne.server` from sys.modules and builds
`daphne.server.Server`. Here that child builds RealtimeServer instead,
with the protocol classes configured as the entry point configures them
(cli.py, RealtimeCommandLineInterface), so that every Daphne test that
talks to a server talks to ours. Daphne's CLI tests (test_cli.py) subclass
the `CommandLineInterface` they import from `daphne.cli`: while that
module is imported, the name is RealtimeCommandLineInterface, so that they
test our entry point.

Three checks make a silent fall-back to stock Daphne fail the run: every
child refuses to report its port unless its server is a RealtimeServer
(so every server-backed test fails), the session fails unless at least
one child did report one, and test_cli.py fails collection unless each
CommandLineInterface subclass it defines (one at least) is a subclass of
RealtimeCommandLineInterface. A fourth fails a CLI test at once, rather
than let it start a real server, when the CLI ignores the server class
the test names.
"""

import os
import sys
from pathlib import Path

import daphne.testing
import pytest

SERVER_PACKAGE = "realtime_project.realtime.server"
CLI_TESTS = "test_cli.py"
# Its name only: importing the server package here would import daphne.server.
SOCKET_EXTENSION = "realtime.socket"
# One file per child that served as a RealtimeServer, for the session check.
SERVED_DIR = Path(os.environ["REALTIME_UPSTREAM_SERVED_DIR"])

# Daphne tests whose failure against this server is deliberate:
# {node id: why}. Deselected, and listed in the run's summary.
SCOPE_EXTENSION = (
    "a WebSocket scope carries the `extensions` key (ASGI's own scope key) with `realtime.socket`, "
    "the handle of the one-pass writes (realtime/server/extension.py); "
    "Daphne's test asserts the exact key set"
)
DELIBERATE_DIFFERENCES: dict[str, str] = {
    "tests/test_websocket.py::TestWebsocket::test_accept": SCOPE_EXTENSION,
    "tests/test_websocket.py::TestWebsocket::test_http_bits": SCOPE_EXTENSION,
    "tests/test_websocket.py::TestWebsocket::test_subprotocols": SCOPE_EXTENSION,
    "tests/test_websocket.py::TestWebsocket::test_xff": SCOPE_EXTENSION,
}

_deselected: list[str] = []

_stock_reinstall_reactor = daphne.testing._reinstall_reactor
_stock_resolve_port = daphne.testing.DaphneProcess.resolve_port


def _reinstall_reactor_with_realtime_server():
    """Daphne's reactor reinstall, then this project's Server in the place
    DaphneProcess.run imports `Server` from (only in the forked child)."""
    _stock_reinstall_reactor()
    # Our server modules hold the reactor they were imported with (the one
    # just uninstalled), and RealtimeServer must subclass the Server the
    # child imports anew: import them afresh too.
    for name in [
        name for name in sys.modules if name == SERVER_PACKAGE or name.startswith(SERVER_PACKAGE + ".")
    ]:
        del sys.modules[name]
    import daphne.server

    from realtime_project.realtime.server.server import RealtimeServer

    daphne.server.Server = RealtimeServer


def _resolve_port_of_realtime_server_only(self):
    """Report the port (which lets the test go on) only for a RealtimeServer."""
    from realtime_project.realtime.server.server import RealtimeServer

    if not isinstance(self.server, RealtimeServer):
        from twisted.internet import reactor

        served = type(self.server)
        message = f"the test server is {served.__module__}.{served.__qualname__}, not RealtimeServer"
        self.errors.put((RuntimeError(message), message))
        reactor.stop()
        return
    (SERVED_DIR / str(os.getpid())).touch()
    _stock_resolve_port(self)


_stock_save_result = daphne.testing.TestApplication.save_result.__func__


def _save_result_without_socket(cls, scope, messages):
    """Daphne's TestApplication pickles each scope for the test to read. The
    `realtime.socket` extension (server.py) is the live protocol, which no
    pickle can hold (and the failed pickle leaves the test's lock held, so
    the test hangs): it is stored as its class's name instead, which is
    also a check that WebSocket scopes carry it."""
    extensions = scope.get("extensions") or {}
    if SOCKET_EXTENSION in extensions:
        socket = extensions[SOCKET_EXTENSION]
        scope = {**scope, "extensions": {**extensions, SOCKET_EXTENSION: type(socket).__name__}}
    _stock_save_result(cls, scope, messages)


daphne.testing._reinstall_reactor = _reinstall_reactor_with_realtime_server
daphne.testing.TestApplication.save_result = classmethod(_save_result_without_socket)
daphne.testing.DaphneProcess.resolve_port = _resolve_port_of_realtime_server_only


def pytest_configure(config):
    # The suite must test the Daphne our server subclasses (the venv's),
    # not the copy unpacked beside it.
    installed = Path(daphne.__file__).resolve()
    assert "site-packages" in installed.parts, f"daphne imported from {installed}, not the installed package"


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Collect test_cli.py with our CLI class as the name it imports,
    `daphne.cli.CommandLineInterface`, and put Daphne's back once it is
    imported (which collecting it does): nothing else sees the swap."""
    if not (isinstance(collector, pytest.Module) and collector.path.name == CLI_TESTS):
        return (yield)
    import daphne.cli

    from realtime_project.realtime.server.cli import RealtimeCommandLineInterface

    stock = daphne.cli.CommandLineInterface
    daphne.cli.CommandLineInterface = RealtimeCommandLineInterface
    try:
        report = yield
    finally:
        daphne.cli.CommandLineInterface = stock
    problem = report.passed and _stock_cli_tested(collector.obj, stock, RealtimeCommandLineInterface)
    if problem:
        report.outcome = "failed"
        report.longrepr = problem
    return report


# The CommandLineInterface subclasses test_cli.py defines (_stock_cli_tested).
_cli_classes: list[type] = []


@pytest.fixture(autouse=True)
def _cli_builds_its_class_server(request):
    """Fail a CLI test at once when its CLI class would not build the
    server class it names. Daphne's test CLI names a server that records
    its arguments and serves nothing; any other would serve on port 8000,
    in the test process, until the test's timeout."""
    for cli_class in _cli_classes:
        if request.cls is not None and cli_class in vars(request.cls).values():
            built = cli_class().server_class
            if built is not cli_class.server_class:
                pytest.fail(
                    f"{cli_class.__qualname__}() would build {built.__module__}.{built.__qualname__}, "
                    f"not its class's server_class {cli_class.server_class.__qualname__}: "
                    "the CLI ignores a subclass's server_class"
                )
    yield


def _stock_cli_tested(module, stock, ours) -> str:
    """Why `module`'s CLI tests would test Daphne's class rather than
    `ours`; empty when they test ours."""
    classes = []
    pending = list(vars(module).values())
    while pending:
        value = pending.pop()
        if isinstance(value, type) and value.__module__ == module.__name__:
            classes.append(value)
            pending.extend(vars(value).values())
    tested = [cls for cls in classes if issubclass(cls, stock)]
    _cli_classes.extend(tested)
    if not tested:
        return f"{CLI_TESTS} defines no CommandLineInterface subclass: the substitution no longer applies"
    stock_only = [cls.__qualname__ for cls in tested if not issubclass(cls, ours)]
    if stock_only:
        return f"{', '.join(stock_only)} in {CLI_TESTS} would test Daphne's CommandLineInterface, not ours"
    return ""


def pytest_collection_modifyitems(config, items):
    deselected = [item for item in items if item.nodeid in DELIBERATE_DIFFERENCES]
    _deselected.extend(item.nodeid for item in deselected)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid not in DELIBERATE_DIFFERENCES]


def pytest_sessionfinish(session, exitstatus):
    server_tests = [
        item
        for item in session.items
        if item.path.name
        in ("test_http_protocol.py", "test_http_request.py", "test_http_response.py", "test_websocket.py")
    ]
    if server_tests and not any(SERVED_DIR.iterdir()):
        print("\nno test server was a RealtimeServer: the harness fell back to stock Daphne", file=sys.stderr)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    # Only this session's: the runner's second session (test_checks.py) has none.
    for node_id in _deselected:
        why = DELIBERATE_DIFFERENCES[node_id]
        terminalreporter.write_line(f"deliberate difference, deselected: {node_id}: {why}")
