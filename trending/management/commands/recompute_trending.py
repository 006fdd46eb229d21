import time
from datetime import timedelta

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from trending import conf, services

NOT_LIVE = (
    "The channel layer is in-memory (REDIS_URL is empty): this process cannot reach the "
    "server's WebSocket clients, so nothing is broadcast from here. Snapshots are stored; "
    "clients get them on connect and from GET /api/trending/, and a server running its own "
    "recompute (TRENDING_RECOMPUTE_IN_SERVER, on by default) broadcasts the change within "
    "its interval. Set REDIS_URL for the servers and this command to broadcast from here."
)


class Command(BaseCommand):
    help = (
        "Recompute the trending topics and store a snapshot; broadcast it if it changed. "
        "With --loop, repeat every --interval seconds, broadcasting only on change and at "
        "most once per interval."
    )

    def add_arguments(self, parser):
        parser.add_argument("--window", type=int, help="window in minutes (default: settings)")
        parser.add_argument("--limit", type=int, help="how many topics (default: settings)")
        parser.add_argument("--loop", action="store_true", help="keep recomputing until stopped")
        parser.add_argument(
            "--interval",
            type=float,
            help="seconds between recomputes with --loop (default: TRENDING_RECOMPUTE_SECONDS, 60)",
        )
        parser.add_argument("--iterations", type=int, help="with --loop, stop after this many recomputes")

    def handle(self, *args, window, limit, loop, interval, iterations, **options):
        for name, value in (("--window", window), ("--limit", limit), ("--iterations", iterations)):
            if value is not None and value < 1:
                raise CommandError(f"{name} must be a positive integer")
        if interval is not None and interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        live = not isinstance(get_channel_layer(), InMemoryChannelLayer | None)
        if not live:
            self.stderr.write(self.style.WARNING(NOT_LIVE))
        if not loop:
            refresh = services.trending_refresh(window_minutes=window, limit=limit, broadcast=live)
            self.report(refresh, live=live)
            return
        interval = interval or conf.recompute_seconds()
        self.stdout.write(f"Recomputing every {interval:g}s; Ctrl-C stops.")
        done = 0
        try:
            while True:
                refresh = services.trending_refresh(
                    window_minutes=window,
                    limit=limit,
                    broadcast=live,
                    min_interval=timedelta(seconds=interval),
                )
                self.report_tick(refresh)
                done += 1
                if iterations is not None and done >= iterations:
                    break
                # A full interval after each recompute: broadcasts stay at
                # least `interval` apart whatever a recompute costs.
                time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def report(self, refresh, *, live: bool) -> None:
        topics = refresh.snapshot.topics
        if not topics:
            self.stdout.write("Nothing trending.")
        for position, topic in enumerate(topics, start=1):
            self.stdout.write(
                f"{position:>2}. {topic['topic']:<24} tweets={topic['tweet_count']:<6} "
                f"engagement={topic['engagement_score']:<4} growth={topic['growth_rate']:+}"
            )
        if refresh.broadcast:
            self.stdout.write(self.style.SUCCESS("Changed: stored and broadcast."))
        elif refresh.changed and not live:
            self.stdout.write("Changed: stored, not broadcast from this process (see above).")
        elif refresh.changed:
            self.stdout.write("Changed: stored; broadcast held back (too soon after the last).")
        else:
            self.stdout.write("Unchanged since the last broadcast: stored, nothing broadcast.")

    def report_tick(self, refresh) -> None:
        status = "broadcast" if refresh.broadcast else "changed" if refresh.changed else "unchanged"
        self.stdout.write(
            f"{timezone.localtime(refresh.snapshot.computed_at):%H:%M:%S} "
            f"{len(refresh.snapshot.topics)} topics, {status}"
            + (f", {refresh.pruned} old counters pruned" if refresh.pruned else "")
        )
