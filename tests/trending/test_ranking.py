"""The figures and the rank order, on plain numbers."""

from trending import ranking
from trending.ranking import TopicTally


def tally(topic_id, tweets, engagements=0, previous=0):
    return TopicTally(topic_id=topic_id, tweets=tweets, engagements=engagements, previous=previous)


def test_engagement_score_is_zero_to_ten_with_five_per_tweet_at_half():
    assert ranking.engagement_score(engagements=0, tweets=4) == 0.0
    assert ranking.engagement_score(engagements=20, tweets=4) == 5.0
    assert ranking.engagement_score(engagements=10**9, tweets=1) == 10.0
    assert ranking.engagement_score(engagements=3, tweets=0) == 0.0


def test_growth_of_a_new_topic_counts_as_from_one_tweet_without_dividing_by_zero():
    assert ranking.growth_rate(current=7, previous=0) == 7.0
    assert ranking.growth_rate(current=0, previous=0) == 0.0


def test_growth_of_rising_steady_and_fading_topics():
    assert ranking.growth_rate(current=15, previous=10) == 0.5
    assert ranking.growth_rate(current=10, previous=10) == 0.0
    assert ranking.growth_rate(current=3, previous=12) == -0.75


def test_topics_below_the_minimum_support_are_not_ranked():
    ranked = ranking.rank([tally(1, 1, engagements=5000), tally(2, 2)], limit=10, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [2]


def test_one_viral_tweet_cannot_outrank_a_busy_topic():
    viral = tally(1, 2, engagements=100_000)  # just at the support, liked to saturation
    busy = tally(2, 40, previous=40)  # steady, nobody likes anything
    ranked = ranking.rank([viral, busy], limit=10, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [2, 1]
    assert ranked[1].engagement_score == 10.0


def test_velocity_lifts_a_rising_topic_above_a_bigger_steady_one():
    steady = tally(1, 100, previous=100)
    rising = tally(2, 40, previous=5)
    fading = tally(3, 90, previous=400)
    ranked = ranking.rank([steady, rising, fading], limit=10, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [2, 1, 3]


def test_volume_wins_between_topics_growing_alike():
    small = tally(1, 10, previous=5)
    large = tally(2, 100, previous=50)
    ranked = ranking.rank([small, large], limit=10, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [2, 1]


def test_engagement_breaks_otherwise_equal_topics_and_at_most_doubles_the_score():
    quiet = tally(1, 10, previous=10)
    liked = tally(2, 10, engagements=10**6, previous=10)
    ranked = ranking.rank([quiet, liked], limit=10, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [2, 1]
    assert ranked[0].rank_score == 2 * ranked[1].rank_score


def test_ties_go_to_more_tweets_then_the_topic_seen_first():
    ranked = ranking.rank([tally(9, 5), tally(3, 5), tally(4, 5)], limit=2, min_tweets=2)
    assert [topic.tally.topic_id for topic in ranked] == [3, 4]


def test_figures_carry_exactly_the_seed_fields():
    [topic] = ranking.rank([tally(1, 4, engagements=20, previous=2)], limit=1, min_tweets=2)
    assert topic.figures(spelling="AI") == {
        "topic": "AI",
        "tweet_count": 4,
        "engagement_score": 5.0,
        "growth_rate": 1.0,
    }


def test_most_used_spelling_wins_and_ties_are_stable():
    assert ranking.most_used_spelling({"ai": 2, "AI": 5, "Ai": 1}) == "AI"
    assert ranking.most_used_spelling({"ai": 2, "AI": 2}) == "AI"
