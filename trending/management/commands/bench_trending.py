"""Time one trending recompute at 10k and at 1M tweets in the window.

    .venv/bin/python manage.py bench_trending                       # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python manage.py bench_trending                   # PostgreSQL

It works in a throwaway database (Django's test database of the configured
one: a file in the temporary directory, or `test_<name>` on PostgreSQL),
never in the configured one, and drops it at the end. Tweets are loaded in
bulk (executemany on SQLite, COPY on PostgreSQL) together with the counter
rows the signals would have written for them; then one recompute is timed
`--repeat` times at each size and the median and the best reported:
`compute` reads the counters and ranks (`services.trending_compute`),
`refresh` is the whole periodic recompute (`services.trending_refresh`:
compute, store the snapshot, prune). `x first` compares each size's refresh
with the first size's, by median and by best. The sizes are cumulative:
the 1M run holds the 10k tweets too.
"""

import json
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from feed.models import Tweet
from trending import conf, services
from trending.models import Topic, TopicBucket, TopicSpelling
from trending.windows import BLOCK_BUCKETS, bucket_start, bucket_time

CHUNK = 50_000


class Command(BaseCommand):
    help = "Benchmark the trending recompute at growing tweet volumes (throwaway database)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sizes",
            type=int,
            nargs="+",
            default=[10_000, 1_000_000],
            help="cumulative tweet counts to time the recompute at (default: 10000 1000000)",
        )
        parser.add_argument(
            "--topics",
            type=int,
            default=1000,
            help="distinct topics the tweets draw from, Zipf-distributed (default: 1000)",
        )
        parser.add_argument("--repeat", type=int, default=15, help="timed recomputes per size")
        parser.add_argument(
            "--history-hours",
            type=int,
            default=0,
            help="also keep this many hours of older counters before the two windows, as a "
            "server running for a day holds until the prune (default: 0)",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--keep-db", action="store_true", help="leave the throwaway database for inspection"
        )

    def handle(self, *args, sizes, topics, repeat, seed, keep_db, history_hours, **options):
        self.history_hours = history_hours
        if sorted(sizes) != sizes or sizes[0] < 1:
            raise CommandError("--sizes must be positive and increasing")
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.window = conf.window_minutes()
        self.vocabulary = [f"Topic{index:05d}" for index in range(topics)]
        # Zipf (s = 1): the k-th topic is drawn with weight 1/k.
        self.cum_weights = list(_accumulate(1 / (k + 1) for k in range(topics)))
        self.buckets: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        self.spellings: Counter = Counter()
        creation = connection.creation
        if connection.vendor == "sqlite":
            # A file, as in production: the test default would be in memory.
            connection.settings_dict["TEST"]["NAME"] = str(
                Path(tempfile.gettempdir()) / "bench-trending.sqlite3"
            )
        original = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.run(sizes, repeat)
        finally:
            if keep_db:
                self.stdout.write(f"Kept the database {connection.settings_dict['NAME']}.")
            else:
                creation.destroy_test_db(original, verbosity=0)

    def run(self, sizes, repeat):
        self.stdout.write(
            f"{connection.vendor}, window {self.window} min, buckets of {conf.bucket_seconds()} s, "
            f"{len(self.vocabulary)} topics (Zipf), tweets spread over both windows, "
            f"{self.history_hours} h of older counters"
        )
        self.authors = self.make_authors(50)
        header = (
            f"{'tweets':>10} {'load s':>7} {'bucket rows':>12} {'ranked':>7} "
            f"{'compute ms':>11} {'best':>6} {'refresh ms':>11} {'best':>6} "
            f"{'x first':>8} {'best':>6}"
        )
        self.stdout.write(header)
        loaded, first = 0, None
        for size in sizes:
            started = time.perf_counter()
            self.load_tweets(size - loaded)
            self.write_counters()
            loaded = size
            load_seconds = time.perf_counter() - started
            compute, refresh, ranked = self.time_recompute(repeat)
            first = first or refresh
            self.stdout.write(
                f"{size:>10,} {load_seconds:>7.1f} {TopicBucket.objects.count():>12,} {ranked:>7} "
                f"{statistics.median(compute):>11.1f} {min(compute):>6.1f} "
                f"{statistics.median(refresh):>11.1f} {min(refresh):>6.1f} "
                f"{statistics.median(refresh) / statistics.median(first):>8.2f} "
                f"{min(refresh) / min(first):>6.2f}"
            )

    def make_authors(self, count):
        user_model = get_user_model()
        user_model.objects.bulk_create(
            user_model(username=f"bench{index}", password="!") for index in range(count)
        )
        return list(user_model.objects.values_list("pk", flat=True))

    def tweet_rows(self, count):
        """Yield (author, content, topics, created_at, likes) and count their buckets."""
        span = 2 * self.window * 60
        for _ in range(count):
            drawn = self.rng.choices(self.vocabulary, cum_weights=self.cum_weights, k=self.rng.randint(1, 3))
            spellings = list(dict.fromkeys(t if self.rng.random() < 0.7 else t.lower() for t in drawn))
            spellings = list({s.casefold(): s for s in spellings}.values())
            created_at = self.now - timedelta(seconds=self.rng.random() * span)
            likes = int(self.rng.expovariate(0.5))
            start = bucket_start(created_at, bucket_seconds=conf.bucket_seconds())
            for spelling in spellings:
                counter = self.buckets[(spelling.casefold(), start)]
                counter[0] += 1
                counter[1] += likes
                self.spellings[(spelling.casefold(), spelling)] += 1
            content = "bench " + " ".join(f"#{s}" for s in spellings)
            yield self.rng.choice(self.authors), content, spellings, created_at, likes

    def load_tweets(self, count):
        while count > 0:
            chunk = min(count, CHUNK)
            rows = list(self.tweet_rows(chunk))
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    _copy_tweets(rows)
                else:
                    _insert_tweets(rows)
            count -= chunk

    def write_counters(self):
        """Write the counter rows as the signals would have, replacing the previous ones."""
        with transaction.atomic():
            TopicBucket.objects.all().delete()
            TopicSpelling.objects.all().delete()
            Topic.objects.all().delete()
            last_seen = defaultdict(int)
            for key, start in self.buckets:
                last_seen[key] = max(last_seen[key], start)
            Topic.objects.bulk_create(
                Topic(key=key, last_seen_at=bucket_time(seen)) for key, seen in last_seen.items()
            )
            ids = dict(Topic.objects.values_list("key", "id"))
            TopicSpelling.objects.bulk_create(
                (
                    TopicSpelling(topic_id=ids[key], spelling=s, uses=n)
                    for (key, s), n in self.spellings.items()
                ),
                batch_size=5000,
            )
            TopicBucket.objects.bulk_create(
                (
                    TopicBucket(
                        topic_id=ids[key],
                        span=span,
                        start=start,
                        tweets=tweets,
                        engagements=engagements,
                    )
                    for start, span, key, tweets, engagements in self.bucket_rows()
                ),
                batch_size=5000,
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def bucket_rows(self):
        """The counter rows (buckets and blocks), oldest first as a live server
        creates them, with older history repeating the pattern of the two windows."""
        bucket = conf.bucket_seconds()
        block = bucket * BLOCK_BUCKETS
        # The tweets' buckets cover two windows and the bucket holding `now`;
        # whole blocks apart, so that the copies' blocks do not overlap.
        span = -(-(2 * self.window * 60 + bucket) // block) * block
        copies = -(-self.history_hours * 3600 // span)
        oldest = self.now.timestamp() - span - self.history_hours * 3600
        fine = [
            (start - copy * span, key, tweets, engagements)
            for copy in range(copies, -1, -1)
            for (key, start), (tweets, engagements) in self.buckets.items()
            if start - copy * span > oldest
        ]
        blocks = defaultdict(lambda: [0, 0])
        for start, key, tweets, engagements in fine:
            sums = blocks[(start - start % block, key)]
            sums[0] += tweets
            sums[1] += engagements
        rows = [(start, bucket, key, tweets, engagements) for start, key, tweets, engagements in fine]
        rows += [(start, block, key, t, e) for (start, key), (t, e) in blocks.items()]
        rows.sort(key=lambda row: row[0])
        return rows

    def time_recompute(self, repeat):
        limit = conf.limit()
        services.trending_compute(now=self.now, window_minutes=self.window, limit=limit)  # warm-up
        computes, refreshes = [], []
        for _ in range(repeat):
            started = time.perf_counter()
            ranked = services.trending_compute(now=self.now, window_minutes=self.window, limit=limit)
            computes.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            services.trending_refresh(now=self.now, window_minutes=self.window, limit=limit, broadcast=False)
            refreshes.append((time.perf_counter() - started) * 1000)
        return computes, refreshes, len(ranked)


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


def _insert_tweets(rows):
    adapt = connection.ops.adapt_datetimefield_value
    table = Tweet._meta.db_table
    connection.ensure_connection()
    connection.connection.executemany(
        f"INSERT INTO {table} (author_id, content, topics, created_at, likes_count, "
        "retweets_count, replies_count, bookmarks_count) VALUES (?, ?, ?, ?, ?, 0, 0, 0)",
        [
            (author, content, _json(topics), adapt(created_at), likes)
            for author, content, topics, created_at, likes in rows
        ],
    )


def _copy_tweets(rows):
    table = Tweet._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {table} (author_id, content, topics, created_at, likes_count, "
            "retweets_count, replies_count, bookmarks_count) FROM STDIN"
        ) as copy:
            for author, content, topics, created_at, likes in rows:
                copy.write_row((author, content, _json(topics), created_at.isoformat(), likes, 0, 0, 0))


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)
