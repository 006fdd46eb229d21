from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from trending import services


class Command(BaseCommand):
    help = "Recompute the trending topics now; store and broadcast them if they changed."

    def add_arguments(self, parser):
        parser.add_argument("--window", type=int, help="window in minutes (default: settings)")
        parser.add_argument("--limit", type=int, help="how many topics (default: settings)")

    def handle(self, *args, window=None, limit=None, **options):
        if (window is not None and window < 1) or (limit is not None and limit < 1):
            raise CommandError("--window and --limit must be positive")
        snapshot, changed = services.trending_recompute(window_minutes=window, limit=limit)
        topics = snapshot.topics if snapshot else []
        for position, topic in enumerate(topics, start=1):
            self.stdout.write(
                f"{position:>2}. {topic['topic']:<24} tweets={topic['tweet_count']:<5} "
                f"engagement={topic['engagement_score']:<4} growth={topic['growth_rate']}"
            )
        if not changed:
            self.stdout.write("Unchanged since the last recompute: nothing broadcast.")
        elif not settings.REDIS_URL:
            self.stderr.write(
                self.style.WARNING(
                    "Stored, but not delivered live: without REDIS_URL the channel layer is "
                    "in-memory, so this process cannot reach the server's clients. They get it "
                    "on their next connect and from GET /api/trending/. Set REDIS_URL (for the "
                    "server too) to broadcast from a command."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS("Stored and broadcast."))
