import threading
import time

from realtime_project.realtime.throttle import Throttle


class Calls:
    def __init__(self):
        self.times: list[float] = []
        self.event = threading.Event()

    def __call__(self):
        self.times.append(time.monotonic())
        self.event.set()


def test_first_call_runs_at_once_and_a_burst_collapses_into_one_trailing_call():
    throttle, calls = Throttle(), Calls()
    start = time.monotonic()
    for _ in range(5):
        throttle.submit("tweet-1", 0.2, calls)
    assert len(calls.times) == 1 and calls.times[0] - start < 0.05
    calls.event.clear()
    assert calls.event.wait(2)
    assert len(calls.times) == 2
    assert calls.times[1] - calls.times[0] >= 0.19


def test_keys_are_throttled_independently():
    throttle, calls = Throttle(), Calls()
    throttle.submit("a", 10, calls)
    throttle.submit("b", 10, calls)
    assert len(calls.times) == 2


def test_call_after_the_interval_runs_at_once():
    throttle, calls = Throttle(), Calls()
    throttle.submit("k", 0.05, calls)
    time.sleep(0.06)
    throttle.submit("k", 0.05, calls)
    assert len(calls.times) == 2


def test_zero_interval_disables_throttling():
    throttle, calls = Throttle(), Calls()
    for _ in range(3):
        throttle.submit("k", 0, calls)
    assert len(calls.times) == 3
