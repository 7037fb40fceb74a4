"""The home page's row builders (recommendations/home/) on hand-made data.

Most tests build a small catalog, a ranking model whose item-item weights
they choose (``World.model``), and a profile's stored candidates; then they
read a row straight from the builder (before de-duplication across rows) or
the whole page.
"""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Collection, CollectionItem, Title
from consent.models import PrivacySettings
from recommendations import tasks
from recommendations.engine import rerank
from recommendations.engine.ranking import RankingModel
from recommendations.engine.recommender import Recommender
from recommendations.home.page import (
    RowBuilder,
    UnknownMood,
    _dedupe,
    home_for_tastes,
    home_page,
    page_builder,
)
from recommendations.home.rows import PERSONAL_ORDER, ROW_LENGTH, RowDraft
from recommendations.home.signals import taste_of
from recommendations.home.snapshot import catalog_snapshot
from recommendations.home.why import why_this
from recommendations.models import (
    ModelVersion,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
    TitleTrend,
)
from recommendations.services import engagement, training, trending
from tests.factories import (
    FeedbackFactory,
    GenreFactory,
    ListItemFactory,
    PrivacySettingsFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)
GENRES = ("Sci-Fi", "Comedy", "Drama", "Western", "Horror", "Thriller", "Children")


class World:
    """A hand-made catalog, model and profile."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.genres = {name: GenreFactory(name=name) for name in GENRES}
        self.t: dict[str, Title] = {}
        self.version: ModelVersion | None = None

    def title(self, name: str, *genres: str, ratings: int = 0, value=4.0, **fields):
        title = TitleFactory(
            title=name, genres=[self.genres[g] for g in genres], **fields
        )
        for _ in range(ratings):
            RatingFactory(title=title, value=value, updated_at=NOW - timedelta(days=90))
        self.t[name] = title
        return title

    def titles(self, *names: str, genre: str = "Sci-Fi", **fields) -> list[Title]:
        return [self.title(name, genre, **fields) for name in names]

    def model(self, neighbours: dict[str, list[str]] | None = None) -> ModelVersion:
        """An active model whose ranking weights are ``neighbours``: each seed's
        list, most similar first."""
        ids = sorted(t.pk for t in self.t.values())
        index = {pk: n for n, pk in enumerate(ids)}
        B = np.zeros((len(ids), len(ids)), dtype=np.float32)
        for seed, near in (neighbours or {}).items():
            for rank, other in enumerate(near):
                B[index[self.t[seed].pk], index[self.t[other].pk]] = 1.0 - 0.01 * rank
        # A recommender of the ranking model alone (its rating model is never read).
        model = Recommender(None, RankingModel(np.array(ids, dtype=np.int64), B))
        self.monkeypatch.setattr(training, "recommender_for", lambda version: model)
        self.version = ModelVersion.objects.create(
            algorithm="svd", status=ModelVersion.Status.ACTIVE
        )
        return self.version

    def profile(
        self, *, exploration=0, calibration=False, rated=("Seen",), **fields
    ) -> Profile:
        """A profile (with exact-order settings unless told otherwise) that
        rated ``rated`` 4★ a while ago, so it has a signal."""
        profile = ProfileFactory(name="Ada", **fields)
        PrivacySettingsFactory(
            profile=profile, exploration=exploration, calibration=calibration
        )
        for name in rated:
            if name not in self.t:
                self.title(name, "Drama")
            RatingFactory(
                profile=profile,
                title=self.t[name],
                value=3.5,
                updated_at=NOW - timedelta(days=60),
            )
        return Profile.objects.select_related("privacy").get(pk=profile.pk)

    def candidates(self, profile, names, scores=None, predicted=None) -> None:
        if self.version is None:
            self.model()
        n = len(names)
        ProfileCandidates.objects.update_or_create(
            profile=profile,
            defaults={
                "model_version": self.version,
                "title_ids": [self.t[name].pk for name in names],
                "scores": list(scores or [float(n - i) for i in range(n)]),
                "predicted": list(predicted or [4.5] * n),
            },
        )

    def builder(self, profile, now=NOW, **kwargs) -> RowBuilder:
        cache.clear()
        profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
        builder, note = page_builder(profile=profile, now=now, **kwargs)
        assert note == ""
        return builder

    def names(self, draft) -> list[str]:
        by_id = {t.pk: name for name, t in self.t.items()}
        return [by_id[pk] for pk in draft.ids]


@pytest.fixture
def world(monkeypatch):
    return World(monkeypatch)


def row_of(page, kind: str, n: int = 0):
    return [row for row in page.rows if row.kind == kind][n]


def names(row) -> list[str]:
    return [t.title for t in row.titles]


def page_of(profile, **kwargs):
    cache.clear()
    profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    return home_page(profile=profile, now=kwargs.pop("now", NOW), **kwargs)


# --- Top picks ---------------------------------------------------------------------


def test_top_picks_are_the_candidates_without_rated_turned_down_hidden_or_withdrawn(
    world,
):
    world.titles("A", "B", "C", "D", "E", "G", "H", "I")
    world.title("F", "Horror")
    world.t["D"].is_available = False
    world.t["D"].save()
    ada = world.profile()
    RatingFactory(profile=ada, title=world.t["B"], value=2.0)
    FeedbackFactory(profile=ada, title=world.t["C"], kind=Feedback.Kind.NOT_INTERESTED)
    FeedbackFactory(profile=ada, title=world.t["E"], kind=Feedback.Kind.THUMBS_DOWN)
    ada.privacy.hidden_genres.add(world.genres["Horror"])
    world.candidates(ada, ["A", "B", "C", "D", "E", "F", "G", "H", "I"])

    page = page_of(ada)

    top = row_of(page, "top-picks")
    assert top.name == "Top picks for Ada"
    assert names(top) == ["A", "G", "H", "I"]
    shown = {t.title for row in page.rows for t in row.titles}
    assert shown.isdisjoint({"B", "C", "D", "E", "F", "Seen"})


def test_top_picks_carry_a_match_score_from_the_predicted_rating(world):
    world.titles("A", "B", "C", "D")
    ada = world.profile()
    world.candidates(ada, ["A", "B", "C", "D"], predicted=[5.0, 4.1, 2.75, 0.5])

    top = row_of(page_of(ada), "top-picks")

    assert [(t.title, t.match, t.why) for t in top.titles] == [
        ("A", 100, "100% match"),
        ("B", 80, "80% match"),
        ("C", 50, "50% match"),
        ("D", 0, "0% match"),
    ]


def test_a_curators_boost_lifts_a_title_in_a_personal_row(world):
    world.titles("A", "B", "C", "D")
    ada = world.profile()
    world.candidates(ada, ["A", "B", "C", "D"], scores=[3.0, 2.9, 1.0, 0.5])
    assert world.names(world.builder(ada).top_picks()) == ["A", "B", "C", "D"]

    Title.objects.filter(pk=world.t["B"].pk).update(boost=1.5)
    Title.objects.filter(pk=world.t["A"].pk).update(boost=0.5)

    assert world.names(world.builder(ada).top_picks()) == ["B", "A", "C", "D"]


def test_exploration_raises_the_variety_of_top_picks(world):
    names_by_genre = {g: [f"{g} {i}" for i in range(12)] for g in GENRES[:4]}
    for genre, titles in names_by_genre.items():
        world.titles(*titles, genre=genre)
    ranked = [*names_by_genre["Sci-Fi"], *names_by_genre["Comedy"]]
    ranked += [*names_by_genre["Drama"], *names_by_genre["Western"]]

    def diversity(exploration: int) -> float:
        profile = world.profile(
            exploration=exploration, user__email=f"x{exploration}@e.com"
        )
        world.candidates(profile, ranked, scores=list(np.linspace(2, 1, len(ranked))))
        picked = world.builder(profile).top_picks().ids[:ROW_LENGTH]
        snap = catalog_snapshot()
        return rerank.intra_list_diversity(snap.features[snap.index(picked)])

    # At 0, the model's order: 12 Sci-Fi and 8 Comedy titles. At 100 (MMR,
    # lambda 0.3) one title of each genre comes first, then the order by
    # score: 12 Sci-Fi, 6 Comedy, 1 Drama, 1 Western.
    assert diversity(0) == pytest.approx(1 - (12 * 11 + 8 * 7) / (20 * 19))
    assert diversity(100) == pytest.approx(1 - (12 * 11 + 6 * 5) / (20 * 19))


def test_calibration_brings_the_genre_mix_of_top_picks_towards_the_history(world):
    scifi = world.titles(*[f"Sci-Fi {i}" for i in range(30)], genre="Sci-Fi")
    comedy = world.titles(*[f"Comedy {i}" for i in range(30)], genre="Comedy")
    liked = [t.title for t in scifi[:6] + comedy[:2]]
    ranked = [t.title for t in scifi[6:] + comedy[2:]]

    def divergence(calibration: bool) -> float:
        profile = world.profile(
            calibration=calibration, rated=(), user__email=f"c{calibration}@e.com"
        )
        for name in liked:
            RatingFactory(profile=profile, title=world.t[name], value=5.0)
        world.candidates(profile, ranked)
        builder = world.builder(profile)
        picked = builder.top_picks().ids[:ROW_LENGTH]
        snap = builder.snap
        shown = rerank.genre_distribution(snap.features[snap.index(picked)])
        return rerank.kl_divergence(builder.taste, shown)

    # The history is 75 % Sci-Fi; the first 24 candidates are all Sci-Fi.
    assert divergence(calibration=True) < divergence(calibration=False) / 2


# --- Because you watched / rated ---------------------------------------------------


def test_because_rows_are_seeded_by_recent_well_liked_titles(world):
    world.titles("Heat", "Alien", "Brazil", "Old", genre="Drama")
    world.titles("N1", "N2", "N3", "N4", "N5", "M1", "M2", "M3", "M4", "O1")
    world.titles("O2", "O3", "O4", "B1", "B2", "B3", "B4")
    fillers = [f"F{n:02}" for n in range(ROW_LENGTH)]
    world.titles(*fillers)
    world.model(
        {
            "Heat": ["N1", "N2", "N3", "N4", "N5"],
            "Alien": ["M1", "M2", "M3", "M4"],
            "Brazil": ["B1", "B2", "B3", "B4"],
            "Old": ["O1", "O2", "O3", "O4"],
        }
    )
    ada = world.profile(rated=())
    RatingFactory(profile=ada, title=world.t["Heat"], value=5.0, updated_at=NOW)
    ViewingEventFactory(
        profile=ada,
        title=world.t["Alien"],
        progress=1.0,
        completed=True,
        updated_at=NOW - timedelta(days=1),
    )
    # 3★ is not "well liked": never a seed.
    RatingFactory(profile=ada, title=world.t["Brazil"], value=3.0, updated_at=NOW)
    RatingFactory(
        profile=ada, title=world.t["Old"], value=4.0, updated_at=NOW - timedelta(days=9)
    )
    world.candidates(ada, [*fillers, "N4", "M3", "N2"])

    drafts = world.builder(ada).because()

    assert [(d.name, d.reason) for d in drafts] == [
        (
            "Because you rated {seed}",
            "You rated it 5★; viewers who liked it also loved these.",
        ),
        (
            "Because you watched {seed}",
            "You watched it to the end; viewers who liked it also loved these.",
        ),
        (
            "Because you rated {seed}",
            "You rated it 4★; viewers who liked it also loved these.",
        ),
    ]
    assert [d.seed_id for d in drafts] == [
        world.t["Heat"].pk,
        world.t["Alien"].pk,
        world.t["Old"].pk,
    ]
    # Closeness to the seed times the profile's liking: N2 (second closest, a
    # candidate) passes N1 (closest, not one), and N4 (a candidate, but the
    # fourth closest) follows them.
    assert world.names(drafts[0]) == ["N2", "N1", "N4", "N3", "N5"]
    assert world.names(drafts[1]) == ["M1", "M3", "M2", "M4"]
    assert world.names(drafts[2]) == ["O1", "O2", "O3", "O4"]

    page = page_of(ada)
    assert [row.name for row in page.rows if row.kind == "because"] == [
        "Because you rated Heat",
        "Because you watched Alien",
        "Because you rated Old",
    ]
    assert row_of(page, "because").titles[-1].why == "Because you liked Heat"


def test_a_seed_excluded_loses_its_row_but_the_history_stays(world):
    world.titles("Heat", "Alien", genre="Drama")
    world.titles("N1", "N2", "N3", "N4", "M1", "M2", "M3", "M4", "X1", "X2")
    world.model({"Heat": ["N1", "N2", "N3", "N4"], "Alien": ["M1", "M2", "M3", "M4"]})
    ada = world.profile(rated=())
    RatingFactory(profile=ada, title=world.t["Heat"], value=5.0, updated_at=NOW)
    RatingFactory(
        profile=ada, title=world.t["Alien"], value=4.5, updated_at=NOW - timedelta(1)
    )
    world.candidates(ada, ["X1", "X2"])

    engagement.seed_exclude(profile=ada, title=world.t["Heat"])

    page = page_of(ada)
    assert [row.name for row in page.rows if row.kind == "because"] == [
        "Because you rated Alien"
    ]
    assert [t.title for t in page.excluded_seeds] == ["Heat"]
    assert Rating.objects.filter(profile=ada, title=world.t["Heat"]).exists()
    assert "Heat" not in {t.title for row in page.rows for t in row.titles}

    assert engagement.seed_restore(profile=ada, title=world.t["Heat"]) is True
    assert not SeedExclusion.objects.exists()
    assert [row.name for row in page_of(ada).rows if row.kind == "because"] == [
        "Because you rated Heat",
        "Because you rated Alien",
    ]


# --- Trending, Top 10, New -----------------------------------------------------------


def test_trending_refresh_halves_weights_every_week_back_from_the_newest_activity(
    world,
):
    a, b, c, d, e = world.titles("A", "B", "C", "D", "E")
    newest = datetime(2018, 9, 24, 12, 0, tzinfo=UTC)  # long before the clock's now
    RatingFactory(title=a, updated_at=newest)
    for _ in range(3):
        RatingFactory(title=b, updated_at=newest - timedelta(days=7))
    ViewingEventFactory(title=c, started_at=newest - timedelta(days=14))
    ListItemFactory(title=c, added_at=newest - timedelta(days=14))
    RatingFactory(title=d, updated_at=newest - timedelta(days=57))  # past 8 weeks
    RatingFactory(title=e, updated_at=newest, title__is_available=True)
    Title.objects.filter(pk=e.pk).update(is_available=False)

    assert trending.trending_refresh() == 3
    assert trending.trending_refresh() == 3  # twice: the same table

    assert list(
        TitleTrend.objects.order_by("-score").values_list("title__title", "score")
    ) == [("B", 1.5), ("A", 1.0), ("C", 0.5)]


def test_the_beat_task_refreshes_trending(world):
    world.titles("A")
    RatingFactory(title=world.t["A"], updated_at=NOW)

    assert tasks.refresh_trending.delay().get() == 1

    assert list(TitleTrend.objects.values_list("title__title", "score")) == [("A", 1.0)]


def test_trending_now_follows_the_trend_table_and_computes_it_when_empty(world):
    world.titles("A", "B", "C", "D", "E")
    ada = world.profile()
    world.candidates(ada, ["E"])
    for name in ("A", "B", "B", "C", "C", "C"):
        RatingFactory(title=world.t[name], updated_at=NOW)

    assert world.names(world.builder(ada).trending()) == ["C", "B", "A"]
    assert not TitleTrend.objects.exists()  # computed for the page, not stored

    for score, name in enumerate(["C", "A", "D", "B"]):
        TitleTrend.objects.create(title=world.t[name], score=score)
    assert world.names(world.builder(ada).trending()) == ["B", "D", "A", "C"]


def test_every_card_of_a_row_says_the_same_kind_of_line(world):
    ranked = [f"C{n:02}" for n in range(1, 26)]
    world.titles(*ranked, "T1", "T2", "T3", "T4")
    ada = world.profile()
    world.candidates(ada, ranked)  # C25 is a candidate, but past Top picks
    for name in ("C25", "T1", "T2", "T3", "T4"):
        for _ in range(3):
            RatingFactory(title=world.t[name], updated_at=NOW)

    page = page_of(ada)

    # Trending says why on every card, the one that is also a candidate too
    # (it said "…% match" there, "Trending in Sci-Fi" on the rest).
    trending = row_of(page, "trending")
    assert "C25" in names(trending)
    assert [(t.match, t.why) for t in trending.titles] == [
        (None, "Trending in Sci-Fi")
    ] * len(trending.titles)
    # Rows ranked for the profile give a match on every card.
    top = row_of(page, "top-picks")
    assert all(t.match is not None for t in top.titles)
    for row in page.rows:
        assert len({t.match is None for t in row.titles}) == 1, row.kind


def test_top_10_counts_the_last_day_of_activity(world):
    day = [f"T{n:02}" for n in range(12)]
    world.titles(*day, "Week")
    ada = world.profile(rated=("T00",))
    world.candidates(ada, ["Week"])
    latest = NOW - timedelta(days=30)  # after Ada's rating; the clock does not matter
    for n, name in enumerate(day):
        for _ in range(1 + n % 3):
            RatingFactory(title=world.t[name], updated_at=latest - timedelta(hours=n))
    for _ in range(9):
        RatingFactory(title=world.t["Week"], updated_at=latest - timedelta(days=3))

    draft = world.builder(ada).top10()

    # By count (3, 2, 1 ratings), then id; T00 is rated by Ada; Week is older.
    assert world.names(draft) == [
        "T02", "T05", "T08", "T11", "T01", "T04", "T07", "T10", "T03", "T06",
    ]  # fmt: skip
    assert draft.why[world.t["T02"].pk] == "#1 today"
    assert draft.ranks[world.t["T06"].pk] == 10


def test_top_10_widens_to_a_week_a_month_eight_weeks_when_a_day_is_quiet(world):
    world.titles("A", "B", "C", "D", "E")
    ada = world.profile()
    world.candidates(ada, ["D"])
    latest = NOW - timedelta(days=30)
    for name, count, days in [("A", 3, 0), ("B", 2, 0.5), ("C", 5, 3), ("D", 9, 40)]:
        for _ in range(count):
            RatingFactory(title=world.t[name], updated_at=latest - timedelta(days))
    RatingFactory(title=world.t["E"], updated_at=latest - timedelta(days=57))

    assert world.names(world.builder(ada).top10()) == ["D", "C", "A", "B"]


def test_new_on_marquee_puts_titles_with_few_ratings_after_the_others(world):
    day = timedelta(days=1)
    world.title("Old", "Drama", year=1990, ratings=12, added_at=NOW - 30 * day)
    world.title("Recent", "Drama", year=2024, ratings=10, added_at=NOW - 30 * day)
    world.title("Added", "Drama", year=1970, ratings=10, added_at=NOW - day)
    world.title("Oddity", "Drama", year=2025, ratings=1, added_at=NOW)
    ada = world.profile(rated=("Old",))
    world.candidates(ada, ["Recent"])

    draft = world.builder(ada).new()

    assert world.names(draft) == ["Added", "Recent", "Oddity"]
    assert draft.why[world.t["Recent"].pk] == "New · 2024"


# --- Genres, gems, outside your usual -----------------------------------------------


def test_genre_rows_follow_the_profiles_affinity_and_its_scores(world):
    liked = world.titles("S1", "S2", "S3") + world.titles("C1", genre="Comedy")
    world.titles("S4", "S5", "S6", "S7", "S8")
    world.titles("C2", "C3", "C4", "C5", genre="Comedy")
    world.title("SC", "Sci-Fi", "Comedy")
    ada = world.profile(rated=())
    for title in liked:
        RatingFactory(profile=ada, title=title, value=5.0)
    world.candidates(ada, ["C5", "S8", "SC", "S4", "C2", "S7", "C3", "S6", "C4"])

    drafts = world.builder(ada).genre_rows()

    assert [(d.name, d.kind, d.key) for d in drafts] == [
        ("Sci-Fi you’ll like", "genre", "genre-sci-fi"),
        ("Comedy you’ll like", "genre", "genre-comedy"),
    ]
    assert (
        drafts[0].reason == "Sci-Fi is 75% of what you rated; these are ranked for you."
    )
    assert world.names(drafts[0]) == ["S8", "SC", "S4", "S7", "S6"]
    assert world.names(drafts[1]) == ["C5", "SC", "C2", "C3", "C4"]


def test_a_genre_row_says_its_share_is_of_what_was_rated_or_picked_not_watched(world):
    rated = world.titles("S1", "S2")
    picked = world.titles("S3") + world.titles("C1", genre="Comedy")
    world.titles("S4", "S5", "S6", "S7", "S8")
    ada = world.profile(rated=())
    for title in rated:
        RatingFactory(profile=ada, title=title, value=5.0)
    for title in picked:
        FeedbackFactory(profile=ada, title=title, kind=Feedback.Kind.PICK)
    world.candidates(ada, ["S8", "S4", "S7", "S6", "S5"])
    builder = world.builder(ada)

    drafts = builder.genre_rows()

    # Nothing was watched: the sentence names what the share is of, and the
    # number is the taste the privacy centre shows (the same function).
    share = next(g.share for g in taste_of(ada).genres if g.name == "Sci-Fi")
    assert drafts[0].reason == (
        f"Sci-Fi is {round(share * 100)}% of what you rated or picked; "
        "these are ranked for you."
    )
    assert taste_of(ada).made_of == "what you rated or picked"


def test_hidden_gems_are_well_predicted_and_less_rated(world):
    counts = {"P1": 50, "G1": 2, "P2": 40, "G2": 1, "P3": 30, "L1": 1, "P4": 20}
    for name, n in counts.items():
        world.title(name, "Drama", ratings=n)
    ada = world.profile()
    order = list(counts)
    predicted = [4.8, 4.7, 4.6, 4.5, 4.4, 3.0, 2.9]
    world.candidates(ada, order, predicted=predicted)

    draft = world.builder(ada).gems()

    # Best third by prediction (>= 4.6) and under the median count (20).
    assert world.names(draft) == ["G1"]
    assert draft.why[world.t["G1"].pk] == "Hidden gem · 4.0★ · 2 ratings"


def test_outside_your_usual_holds_well_liked_titles_of_rare_genres(world):
    world.titles("S1", "S2", "S3", "S4")
    for name, n, value in [("W1", 20, 4.5), ("W2", 9, 4.0), ("W3", 20, 1.5)]:
        world.title(name, "Western", ratings=n, value=value)
    world.title("WS", "Western", "Sci-Fi", ratings=20, value=4.5)
    world.title("H1", "Horror", ratings=30, value=4.0)
    ada = world.profile(rated=())
    for name in ("S1", "S2", "S3"):
        RatingFactory(profile=ada, title=world.t[name], value=5.0)
    world.candidates(ada, ["S4"])

    draft = world.builder(ada).outside()

    assert world.names(draft) == ["W1", "H1", "W2"]
    assert draft.why[world.t["H1"].pk] == "Horror"
    assert draft.max_len == 6 + round(14 * 0 / 100)


def test_exploration_lengthens_outside_your_usual_and_moves_it_up(world):
    world.titles("S1", "S2")
    ada = world.profile()
    world.candidates(ada, ["S1"])
    builder = world.builder(ada)
    drafts = [_draft(slot) for slot in PERSONAL_ORDER]
    at_zero = [d.slot for d in builder.order(drafts)].index("outside")

    builder.exploration = 100

    assert [d.slot for d in builder.order(drafts)].index("outside") == at_zero - 5
    PrivacySettings.objects.filter(profile=ada).update(exploration=100)
    world.title("W1", "Western", ratings=20)
    assert world.builder(ada).outside().max_len == 20


# --- Collections, shelves ------------------------------------------------------------


def test_collections_in_their_window_for_their_audience_at_their_pinned_place(world):
    world.titles("A", "B", "C", "D", "E")
    world.title("K", "Children")
    ada = world.profile(rated=())
    for name in ("A", "B"):
        RatingFactory(profile=ada, title=world.t[name], value=5.0)
    world.candidates(ada, ["C", "D"])

    def collection(name, position, titles, **fields):
        made = Collection.objects.create(
            name=name, slug=name.lower().replace(" ", "-"), position=position, **fields
        )
        for n, title in enumerate(titles):
            CollectionItem.objects.create(
                collection=made, title=world.t[title], position=n
            )
        return made

    collection("Staff picks", 0, ["D", "C", "A"], description="Our favourites.")
    collection("Later", 2, ["C"], starts_at=NOW + timedelta(days=1))
    collection("Over", 2, ["C"], ends_at=NOW - timedelta(days=1))
    collection("For kids", 1, ["K"], audience=Collection.Audience.KIDS)
    scifi = collection("Sci-Fi fans", 1, ["E"], audience=Collection.Audience.GENRES)
    scifi.audience_genres.add(world.genres["Sci-Fi"])
    westerns = collection("Western fans", 1, ["D"], audience=Collection.Audience.GENRES)
    westerns.audience_genres.add(world.genres["Western"])

    page = page_of(ada)

    assert [(row.kind, row.name) for row in page.rows[:2]] == [
        ("collection", "Staff picks"),
        ("collection", "Sci-Fi fans"),
    ]
    assert names(page.rows[0]) == ["D", "C"]  # A is rated
    assert page.rows[0].reason == "Our favourites."
    assert page.rows[1].titles[0].why == "Picked by our editors"
    assert {row.name for row in page.rows}.isdisjoint(
        {"Later", "Over", "For kids", "Western fans"}
    )


def test_continue_watching_and_my_list(world):
    world.titles("A", "B", "C", "D", "E", "F")
    ada = world.profile()
    world.candidates(ada, ["F"])
    ViewingEventFactory(
        profile=ada, title=world.t["A"], progress=0.4, started_at=NOW - timedelta(2)
    )
    ViewingEventFactory(
        profile=ada, title=world.t["B"], progress=0.7, started_at=NOW - timedelta(1)
    )
    ViewingEventFactory(profile=ada, title=world.t["C"], progress=1, completed=True)
    ViewingEventFactory(profile=ada, title=world.t["D"], dismissed=True)
    ListItemFactory(profile=ada, title=world.t["E"], added_at=NOW - timedelta(1))
    ListItemFactory(profile=ada, title=world.t["A"], added_at=NOW)

    page = page_of(ada)

    assert page.rows[0].kind == "continue"
    assert [(t.title, t.why, t.progress, t.match) for t in page.rows[0].titles] == [
        ("B", "70% watched", 70, None),
        ("A", "40% watched", 40, None),
    ]
    assert (
        page.rows[0].titles[0].viewing_id
        == ViewingEvent.objects.get(title=world.t["B"]).pk
    )
    # A shelf is the list it names: A is in progress and on My List, in both.
    assert names(row_of(page, "my-list")) == ["A", "E"]
    assert ListItem.objects.filter(profile=ada).count() == 2


# --- The page: order, de-duplication, what never shows --------------------------------


def _draft(slot: str, ids=(), **fields) -> RowDraft:
    kind = slot.rsplit("-", 1)[0] if slot[-1].isdigit() else slot
    return RowDraft(
        slot=slot,
        key=slot,
        kind=kind,
        name=slot,
        reason="",
        ids=list(ids),
        why={},
        **fields,
    )


def test_rows_the_profile_engages_with_rise_two_places_per_doubling(world):
    world.titles("A")
    ada = world.profile()
    world.candidates(ada, ["A"])
    RowEngagement.objects.create(profile=ada, row_kind="gems", count=3)
    RowEngagement.objects.create(profile=ada, row_kind="because", count=1)
    RowEngagement.objects.create(profile=ada, row_kind="continue", count=50)
    builder = world.builder(ada)
    builder.exploration = 0

    order = builder.order([_draft(slot) for slot in PERSONAL_ORDER])

    # Each rising row passes exactly its rise: because (1) 2 places, gems (3) 4.
    assert [d.slot for d in order] == [
        "continue",
        "because-0",
        "short",
        "top-picks",
        "trending",
        "because-1",
        "region",
        "gems",
        "my-list",
        "top10",
        "because-2",
        "genre-0",
        "genre-1",
        "new",
        "outside",
        "genre-2",
    ]


def test_a_title_shows_in_one_row_of_suggestions_and_once_on_the_first_screen():
    drafts = [
        _draft("continue", [1, 30], min_len=1),
        _draft("top-picks", [1, 2, 3, 4, 5]),
        _draft("trending", [1, 2, 6, 7, 8, 9]),
        _draft("gems", [1, 2, 3, 4]),  # left with nothing new: dropped
        _draft("because-0", [10, 6, 11, 12, 13]),
        _draft("new", [1, 6, 14, 15, 16, 17]),
        _draft("top10", [20, 1, 6, 10, 21, 22], max_len=4),
        _draft("genre-0", [20, 21, 1, 23, 24, 25, 26]),
        _draft("my-list", [1], min_len=1),
    ]

    kept = _dedupe(drafts)

    assert [(d.slot, d.ids) for d in kept] == [
        ("continue", [1, 30]),  # a shelf holds nothing back...
        ("top-picks", [1, 2, 3, 4, 5]),
        ("trending", [6, 7, 8, 9]),
        ("because-0", [10, 11, 12, 13]),  # the fourth row: still the first screen
        ("new", [14, 15, 16, 17]),
        ("top10", [20, 1, 6, 10]),  # a chart may show 1, 6 and 10 a second time
        ("genre-0", [21, 23, 24, 25, 26]),  # suggestions never repeat
        ("my-list", [1]),  # ...and is kept whole
    ]


def test_a_kids_profile_sees_only_kids_titles(world):
    kids_titles = world.titles("K1", "K2", "K3", "K4", "K5", genre="Children")
    world.titles("A1", "A2", "A3", "A4", genre="Horror")
    world.title("R", "Children", maturity_rating="R")
    for title in Title.objects.all():
        RatingFactory(title=title, updated_at=NOW)
    kid = world.profile(is_kids=True, rated=())
    RatingFactory(profile=kid, title=kids_titles[0], value=5.0)
    world.model({"K1": ["A1", "K2", "R", "K3", "A2", "K4", "K5"]})
    world.candidates(kid, ["A1", "K2", "R", "K3", "A2", "K4", "K5"])

    page = page_of(kid)

    assert page.personalized
    shown = {t.title for row in page.rows for t in row.titles}
    assert shown == {"K2", "K3", "K4", "K5"}


# --- Mood and context ----------------------------------------------------------------


def test_moods_rerank_rows_by_the_documented_table(world):
    world.title("Laughs", "Comedy")
    world.title("Chase", "Thriller")
    world.title("Slow", "Drama", runtime_minutes=190)
    world.title("Tiny", "Comedy", runtime_minutes=80)
    ada = world.profile()
    world.candidates(ada, ["Laughs", "Chase", "Slow", "Tiny"], scores=[4, 3.9, 3.8, 1])

    def top(mood):
        return names(row_of(page_of(ada, mood=mood), "top-picks"))

    assert top(None) == ["Laughs", "Chase", "Slow", "Tiny"]
    # normalised 1, .967, .933, 0; Thriller ×1.5, Comedy avoids nothing
    assert top("thrilling") == ["Chase", "Laughs", "Slow", "Tiny"]
    # Comedy ×1.5; Thriller avoided ×0.4
    assert top("feel-good") == ["Laughs", "Slow", "Chase", "Tiny"]
    # light & short: Comedy ×1.5, over 100 minutes ×0.3
    assert top("light-short") == ["Laughs", "Chase", "Slow", "Tiny"]
    with pytest.raises(UnknownMood):
        home_page(profile=ada, mood="sleepy")


def test_late_at_night_short_titles_lead_and_the_rows_say_why(world):
    world.title("Epic", "Drama", runtime_minutes=200)
    world.title("Long", "Drama", runtime_minutes=150)
    world.title("Brief", "Drama", runtime_minutes=85)
    world.title("Quick", "Drama", runtime_minutes=95)
    world.title("Short", "Drama", runtime_minutes=70)
    world.title("Snack", "Drama", runtime_minutes=60)
    ada = world.profile()
    world.titles("L1", "L2", "L3", "L4", runtime_minutes=180)
    world.candidates(
        ada, ["Epic", "Long", "Brief", "Quick", "Short", "Snack", "L1", "L2", "L3"]
    )
    late, afternoon = NOW.replace(hour=23), NOW.replace(hour=15)

    # Without contextual signals allowed, the hour changes nothing.
    page = page_of(ada, now=late)
    assert [row.kind for row in page.rows].count("short") == 0
    assert names(row_of(page, "top-picks"))[:3] == ["Epic", "Long", "Brief"]

    ada.privacy.contextual_signals = True
    ada.privacy.save()
    page = page_of(ada, now=late)
    assert [row.kind for row in page.rows][:2] == ["short", "top-picks"]
    short = row_of(page, "short")
    assert short.name == "Short on time"
    assert short.reason == (
        "Because it's late: titles of 100 minutes or less, ranked for you."
    )
    assert names(short) == ["Brief", "Quick", "Short", "Snack"]
    assert row_of(page, "top-picks").reason.endswith(
        "Because it's late: shorter titles first."
    )
    # normalised scores; runtime <= 100 ×1.3, over 130 ×0.6
    top = world.builder(ada, now=late).top_picks()
    assert world.names(top)[:3] == ["Brief", "Quick", "Short"]

    afternoon_page = page_of(ada, now=afternoon, device="desktop")
    assert "short" not in [row.kind for row in afternoon_page.rows]
    phone = page_of(ada, now=afternoon, device="mobile")
    assert row_of(phone, "short").reason.startswith("Because you're on your phone")


# --- Why this? --------------------------------------------------------------------------


def test_why_this_names_the_seed_and_changes_once_its_rating_is_deleted(world):
    world.title("Heat", "Drama")
    world.titles("N1", "N2", "N3", "N4")
    world.model({"Heat": ["N1", "N2", "N3", "N4"]})
    ada = world.profile(rated=())
    heat = RatingFactory(profile=ada, title=world.t["Heat"], value=5.0)
    RatingFactory(profile=ada, title=world.t["N4"], value=3.0)
    world.candidates(ada, ["N1", "N2"], predicted=[4.1, 3.0])

    before = why_this(profile=ada, title=world.t["N1"])
    heat.delete()
    cache.clear()
    after = why_this(profile=ada, title=world.t["N1"])

    assert before[0] == ("You rated Heat 5★; viewers who liked Heat loved this.")
    assert "We predict you’d rate it 4.1★ (80% match)." in before
    assert not any("Heat" in line for line in after)
    assert after[0] == "We predict you’d rate it 4.1★ (80% match)."


# --- Not personalized ---------------------------------------------------------------------


def _shared_kinds(page) -> list[str]:
    return [row.kind for row in page.rows]


def test_personalization_off_gets_everyones_rows_without_reading_its_history(world):
    for n in range(6):
        world.title(f"D{n}", "Drama", ratings=n + 1)
    ada = world.profile()
    world.candidates(ada, ["D0"])
    ListItemFactory(profile=ada, title=world.t["D1"])
    ViewingEventFactory(profile=ada, title=world.t["D2"])
    ada.privacy.personalization = False
    ada.privacy.save()
    home_page(profile=None)  # the rows everyone gets, cached

    with CaptureQueriesContext(connection) as queries:
        page = home_page(profile=ada)

    assert not page.personalized
    assert page.note.startswith("Personalized rows are off for Ada")
    assert "continue" not in _shared_kinds(page)
    assert "my-list" not in _shared_kinds(page)
    builder, note = page_builder(profile=ada)
    assert note == page.note
    (drama,) = builder.popular_genres()
    assert drama.name == "Popular in Drama"
    assert world.names(drama) == ["D5", "D4", "D3", "D2", "D1", "D0", "Seen"]
    # Only the viewer's own controls are read ("not interested" and "show
    # fewer", which hold with personalization off too), never its history.
    controls = ("'not_interested'", "'show_fewer'")
    mine = f'"profile_id" = {ada.pk}'
    touched = [
        q["sql"]
        for q in queries.captured_queries
        if mine in q["sql"]
        and "privacy" not in q["sql"]
        and not any(kind in q["sql"] for kind in controls)
    ]
    assert touched == []
    tables = ("activity_", "profilecandidates", "seedexclusion", "rowengagement")
    assert not [
        q
        for q in queries.captured_queries
        if any(t in q["sql"] for t in tables)
        and not any(kind in q["sql"] for kind in controls)
    ]


def test_a_new_profile_and_a_site_without_a_model_get_everyones_rows(world):
    world.titles("A", "B", "C", "D")
    for title in world.t.values():
        RatingFactory(title=title, updated_at=NOW)
    newbie = ProfileFactory(name="Bo")

    page = home_page(profile=newbie)
    assert not page.personalized
    assert page.note.startswith("Personal recommendations aren’t ready yet")

    version = world.model()
    world.candidates(newbie, ["A"])
    page = page_of(newbie)
    assert not page.personalized
    assert page.note.startswith("Marquee doesn’t know what Bo likes yet")
    assert _shared_kinds(page)[0] == "trending"
    assert version.status == ModelVersion.Status.ACTIVE


def test_a_visitor_gets_trending_new_popular_genres_and_top_10(world):
    for n in range(50):
        world.title(f"C{n:02}", "Comedy", year=1990, added_at=NOW - timedelta(n))
    for n in range(50):
        world.title(f"D{n:02}", "Drama", year=1990, added_at=NOW - timedelta(90))
    latest = NOW - timedelta(days=1)
    for n, title in enumerate(Title.objects.order_by("id")):
        for _ in range((2 if n < 50 else 1) + n % 3):
            RatingFactory(title=title, updated_at=latest - timedelta(hours=n))

    page = home_page(profile=None, now=NOW)

    assert [(row.kind, row.name) for row in page.rows] == [
        ("trending", "Trending now"),
        ("new", "New on Marquee"),
        ("genre", "Popular in Comedy"),
        ("genre", "Popular in Drama"),
        ("top10", "Top 10 today"),
    ]
    # Trending: the 4-rating comedies, then 3-rating ones (most recent first).
    assert names(page.rows[0])[:3] == ["C02", "C05", "C08"]
    assert names(page.rows[1])[:3] == ["C00", "C03", "C06"]  # not yet on screen
    assert [t.rank for t in page.rows[4].titles] == list(range(1, 11))
    assert page.note == ""
    assert not page.personalized
    shown = [t.pk for row in page.rows[:4] for t in row.titles]
    assert len(shown) == len(set(shown))


# --- Staff preview ----------------------------------------------------------------------


def test_home_for_tastes_folds_picks_into_the_model_and_writes_nothing(trained):
    scifi = Title.objects.filter(genres__name="Sci-Fi").order_by("id")[:3]
    counts = {
        model: model.objects.count()
        for model in (Rating, Feedback, ListItem, ProfileCandidates, Profile)
    }

    page = home_for_tastes(genre_ids=[], title_ids=[t.pk for t in scifi])

    assert page.personalized
    assert row_of(page, "top-picks").name == "Top picks for this taste"
    because = [row.name for row in page.rows if row.kind == "because"]
    assert because and all(name.startswith("Because you liked ") for name in because)
    assert {model: model.objects.count() for model in counts} == counts
