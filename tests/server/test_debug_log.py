"""autobahn's per-connection debug lines cost nothing unless written
(realtime/server/debug_log.py).

install_lazy_debug_formatting replaces autobahn's module-level `pformat`
for the whole process, as only the server entry point should: each test
runs it in a fresh interpreter so this test process keeps autobahn as it is."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_with_lazy_formatting(script: str) -> subprocess.CompletedProcess:
    prelude = (
        "from realtime_project.realtime.server.debug_log import install_lazy_debug_formatting\n"
        "install_lazy_debug_formatting()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_new_connection_does_not_format_autobahns_options_for_a_debug_line_nobody_writes():
    ran = run_with_lazy_formatting(
        """
        from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
        from twisted.internet.testing import StringTransport

        class CountedText(str):
            # An option value that counts how often it is pretty-printed.
            formatted = 0

            def __repr__(self):
                CountedText.formatted += 1
                return super().__repr__()

        factory = WebSocketServerFactory()
        factory.protocol = WebSocketServerProtocol  # Twisted's, as Daphne's subclasses
        connection = factory.buildProtocol(None)
        connection.flashSocketPolicy = CountedText("<cross-domain-policy/>")
        CountedText.formatted = 0
        connection.makeConnection(StringTransport())
        assert connection.flashSocketPolicy == "<cross-domain-policy/>", "autobahn read its options"
        print(CountedText.formatted)
        """
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["0"]


def test_a_debug_line_that_is_written_reads_as_autobahn_wrote_it():
    ran = run_with_lazy_formatting(
        """
        import pprint
        from autobahn.websocket import protocol

        options = [("openHandshakeTimeout", 5, "Factory"), ("versions", [8, 13], "Factory")]
        assert "\\n{attrs}".format(attrs=protocol.pformat(options)) == "\\n" + pprint.pformat(options)
        assert str(protocol.pformat(options)) == pprint.pformat(options)

        timings = protocol.Timings()
        timings.track("onOpen")
        assert isinstance(str(timings), str) and "onOpen" in str(timings)
        """
    )
    assert ran.returncode == 0, ran.stderr
