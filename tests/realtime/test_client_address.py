"""The client's address: the TCP peer, unless a trusted proxy forwards."""

import pytest

from realtime_project.realtime.middleware.client_address import networks_of, resolve_client

NGINX = networks_of(("127.0.0.1", "10.0.0.0/8"))


def test_without_trusted_proxies_the_header_is_ignored():
    assert resolve_client("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_a_client_that_is_not_a_trusted_proxy_cannot_name_another_address():
    assert resolve_client("203.0.113.9", "198.51.100.1", NGINX) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client():
    assert resolve_client("127.0.0.1", "198.51.100.1", NGINX) == "198.51.100.1"


def test_the_rightmost_untrusted_entry_wins_over_what_the_client_wrote_to_its_left():
    # The client sent "X-Forwarded-For: 1.1.1.1"; a proxy appended its peer.
    assert resolve_client("127.0.0.1", "1.1.1.1, 198.51.100.1", NGINX) == "198.51.100.1"


def test_trusted_hops_are_skipped():
    assert resolve_client("127.0.0.1", "198.51.100.1, 10.1.2.3", NGINX) == "198.51.100.1"


@pytest.mark.parametrize("header", ["not-an-address", "198.51.100.1, junk", ""])
def test_garbage_in_the_header_falls_back_to_the_peer(header):
    assert resolve_client("127.0.0.1", header, NGINX) == "127.0.0.1"


def test_ipv6_and_mapped_ipv4_are_understood():
    assert resolve_client("::ffff:127.0.0.1", "2001:db8::1", NGINX) == "2001:db8::1"
    assert resolve_client("127.0.0.1", "[2001:db8::2]", NGINX) == "2001:db8::2"
