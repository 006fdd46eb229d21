"""The waiting room (realtime/middleware/connection_guard.py): past the
process's admission rate a new WebSocket is told when to come back
(`reconnect` with `after_ms`) and closed with 1013; the refused of a burst
are given slots spread at the rate, and a client back at its slot is let in."""

import asyncio
import logging

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from realtime_project.asgi import application
from realtime_project.realtime.middleware.connection_guard import WaitingRoom
from tests.communicator import DaphneCommunicator


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def room(*, rate=10.0, burst=2, max_wait=60.0):
    clock = Clock()
    return WaitingRoom(rate=rate, burst=burst, max_wait=max_wait, clock=clock), clock


def test_the_refused_of_a_burst_get_slots_one_interval_apart():
    waiting, _ = room(rate=10, burst=2)
    assert [waiting.admit(), waiting.admit()] == [None, None]
    waits = [waiting.admit() for _ in range(5)]
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


def test_the_first_slot_is_when_the_bucket_next_holds_a_token():
    waiting, clock = room(rate=10, burst=1)
    assert waiting.admit() is None
    clock.now += 0.04
    assert waiting.admit() == pytest.approx(0.06)


def test_clients_back_at_their_slots_are_all_admitted():
    waiting, clock = room(rate=10, burst=2)
    waiting.admit(), waiting.admit()
    start = clock.now
    slots = [start + waiting.admit() for _ in range(20)]
    for slot in slots:
        clock.now = slot
        assert waiting.admit() is None


def test_no_client_is_told_to_wait_longer_than_the_cap():
    waiting, clock = room(rate=10, burst=1, max_wait=0.3)
    waiting.admit()
    waits = [waiting.admit() for _ in range(6)]
    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3, 0.3])
    # Those told the cap hold no slot: the ones with slots still find
    # theirs, and the capped then queue again behind them.
    for slot in (0.1, 0.2, 0.3):
        clock.now = 1000.0 + slot
        assert waiting.admit() is None
    assert waiting.admit() == pytest.approx(0.1)


def test_under_the_rate_nobody_is_refused():
    waiting, clock = room(rate=10, burst=1)
    for _ in range(1000):
        assert waiting.admit() is None
        clock.now += 0.101


def test_a_rate_of_zero_turns_the_room_off():
    waiting, _ = room(rate=0, burst=1)
    assert all(waiting.admit() is None for _ in range(1000))


# Through the project's ASGI application, as Daphne runs it.


def refusals() -> float:
    return REGISTRY.get_sample_value("realtime_handshakes_refused_total", {"reason": "overload"}) or 0.0


async def welcomed():
    tab = DaphneCommunicator(application, "/ws/")
    assert (await tab.connect())[0]
    assert (await tab.receive_json_from())["type"] == "welcome"
    return tab


async def turned_away() -> int:
    """Open a tab that is to be refused; return the `after_ms` it was given."""
    tab = DaphneCommunicator(application, "/ws/")
    assert (await tab.connect())[0]
    frame = await tab.receive_json_from()
    assert frame["type"] == "reconnect", frame
    assert set(frame) == {"type", "timestamp", "data"}
    assert (await tab.receive_output(timeout=1))["code"] == 1013
    return frame["data"]["after_ms"]


async def close_all(tabs):
    for tab in tabs:
        await tab.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_over_the_rate_a_new_socket_is_told_when_to_come_back_and_closed_with_1013():
    before = refusals()
    with override_settings(REALTIME_ADMISSIONS_PER_SECOND=5, REALTIME_ADMISSIONS_BURST=1):
        first = await welcomed()
        after = await turned_away()
    assert 0 < after <= 200
    assert refusals() == before + 1
    await first.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_refused_of_a_burst_are_told_to_come_back_spread_at_the_rate():
    with override_settings(REALTIME_ADMISSIONS_PER_SECOND=10, REALTIME_ADMISSIONS_BURST=1):
        first = await welcomed()
        waits = [await turned_away() for _ in range(6)]
    gaps = [later - earlier for earlier, later in zip(waits, waits[1:], strict=False)]
    # A slot apart, less the time each refusal took.
    assert all(60 <= gap <= 101 for gap in gaps), waits
    await first.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_refused_socket_back_at_after_ms_is_admitted():
    with override_settings(REALTIME_ADMISSIONS_PER_SECOND=4, REALTIME_ADMISSIONS_BURST=1):
        first = await welcomed()
        after = await turned_away()
        await asyncio.sleep(after / 1000)
        back = await welcomed()
    await close_all([first, back])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_opened_under_the_rate_are_all_admitted():
    before = refusals()
    with override_settings(REALTIME_ADMISSIONS_PER_SECOND=20, REALTIME_ADMISSIONS_BURST=1):
        tabs = []
        for _ in range(8):
            tabs.append(await welcomed())
            await asyncio.sleep(0.06)
    assert refusals() == before
    await close_all(tabs)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_waiting_room_logs_once_however_many_it_refuses(caplog):
    caplog.set_level(logging.WARNING, logger="realtime_project.realtime.middleware.connection_guard")
    with override_settings(REALTIME_ADMISSIONS_PER_SECOND=1, REALTIME_ADMISSIONS_BURST=1):
        first = await welcomed()
        for _ in range(4):
            await turned_away()
    overloaded = [record for record in caplog.records if "overloaded" in record.getMessage()]
    assert len(overloaded) == 1, [record.getMessage() for record in caplog.records]
    await first.disconnect()
