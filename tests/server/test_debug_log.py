"""autobahn's per-connection debug lines cost nothing unless written
(realtime/autobahn_debug_log.py)."""

import pprint

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket import protocol
from twisted.internet.testing import StringTransport

from realtime_project.realtime.autobahn_debug_log import install_lazy_debug_formatting


class CountedText(str):
    """An option value that counts how often it is pretty-printed."""

    formatted = 0

    def __repr__(self):
        CountedText.formatted += 1
        return super().__repr__()


def test_a_new_connection_does_not_format_autobahns_options_for_a_debug_line_nobody_writes():
    install_lazy_debug_formatting()
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol  # Twisted's, as Daphne's subclasses
    connection = factory.buildProtocol(None)
    connection.flashSocketPolicy = CountedText("<cross-domain-policy/>")
    CountedText.formatted = 0

    connection.makeConnection(StringTransport())

    assert connection.flashSocketPolicy == "<cross-domain-policy/>", "autobahn read its options"
    assert CountedText.formatted == 0


def test_a_debug_line_that_is_written_reads_as_autobahn_wrote_it():
    install_lazy_debug_formatting()
    options = [("openHandshakeTimeout", 5, "Factory"), ("versions", [8, 13], "Factory")]

    assert "\n{attrs}".format(attrs=protocol.pformat(options)) == "\n" + pprint.pformat(options)
    assert str(protocol.pformat(options)) == pprint.pformat(options)

    timings = protocol.Timings()
    timings.track("onOpen")
    assert isinstance(str(timings), str) and "onOpen" in str(timings)
