from realtime_project.realtime.cluster.registry import ConnectionRegistry, combine, online_in


def process(*opened):
    registry = ConnectionRegistry()
    for stream, user_id, per_user in opened:
        registry.opened(stream=stream, user_id=user_id, per_user=per_user)
    return registry


def test_stats_combine_processes_counting_each_user_once():
    first = process(("notifications", 1, True), ("feed", 1, True), ("trending", None, False))
    second = process(("notifications", 1, True), ("feed", 2, True), ("engagement", 3, False))
    assert combine([first.export(), second.export()]) == {
        "active_users": 2,
        "total_user_connections": 4,
        "global_connections": 2,
        "total_connections": 6,
    }


def test_closing_takes_a_connection_off_and_empty_users_leave():
    registry = process(("feed", 1, True), ("feed", 1, True))
    registry.closed(stream="feed", user_id=1)
    assert registry.snapshot()["active_users"] == 1
    registry.closed(stream="feed", user_id=1)
    assert registry.snapshot() == combine([])
    assert registry.connections_of(1) == 0


def test_online_users_of_a_stream_over_processes():
    first = process(("feed", 1, True), ("notifications", 2, True))
    second = process(("feed", 3, True))
    assert online_in([first.export(), second.export()], "feed") == {1, 3}
