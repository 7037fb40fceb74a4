"""The taste the privacy centre shows and exports is the one the home rows use.

The rows' genre mix is read from the home page's own builder
(``page_builder``: Top picks' calibration target, the genre rows); the
centre's from ``privacy.selectors.taste_profile``. They must agree share for
share, whatever the profile did.
"""

import numpy as np
import pytest

from accounts.models import Profile
from privacy.selectors import taste_profile
from recommendations.engine.ranking import RankingModel
from recommendations.engine.recommender import Recommender
from recommendations.home.page import page_builder
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services import training
from tests.factories import (
    FeedbackFactory,
    GenreFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def genres():
    return {
        name: GenreFactory(name=name)
        for name in ("Comedy", "Drama", "Sci-Fi", "Thriller", "Western")
    }


def rows_taste(profile: Profile, monkeypatch) -> dict[str, float]:
    """The genre shares the profile's home rows are built with."""
    candidate = TitleFactory()
    ids = np.array([candidate.pk], dtype=np.int64)
    model = Recommender(None, RankingModel(ids, np.zeros((1, 1), np.float32)))
    monkeypatch.setattr(training, "recommender_for", lambda version: model)
    version = ModelVersion.objects.create(
        algorithm="svd", status=ModelVersion.Status.ACTIVE
    )
    ProfileCandidates.objects.create(
        profile=profile,
        model_version=version,
        title_ids=[candidate.pk],
        scores=[1.0],
        predicted=[4.0],
    )
    profile = Profile.objects.select_related("privacy").get(pk=profile.pk)
    builder, note = page_builder(profile=profile)
    assert note == "" and builder.personal
    snap = builder.snap
    return {
        snap.genre_names[g]: float(builder.taste[j])
        for j, g in enumerate(snap.genre_order)
        if builder.taste[j] > 0
    }


def centre_taste(profile: Profile) -> dict[str, float]:
    return {g.name: g.weight for g in taste_profile(profile).genres}


def test_the_centre_shows_the_genre_mix_the_rows_use(genres, monkeypatch):
    ada = ProfileFactory(name="Ada")
    comedy = TitleFactory(genres=[genres["Comedy"]])
    drama = TitleFactory(genres=[genres["Drama"]])
    scifi = TitleFactory(genres=[genres["Sci-Fi"]])
    RatingFactory(profile=ada, title=comedy, value=3.0)
    ViewingEventFactory(profile=ada, title=drama, progress=0.5, completed=False)
    RatingFactory(profile=ada, title=scifi, value=4.5)

    centre = centre_taste(ada)

    # 3★ weighs 0.6, half watched 0.8, 4.5★ 0.9: out of 2.3.
    assert centre == pytest.approx(
        {"Sci-Fi": 0.9 / 2.3, "Drama": 0.8 / 2.3, "Comedy": 0.6 / 2.3}
    )
    assert list(centre) == ["Sci-Fi", "Drama", "Comedy"]
    assert taste_profile(ada).liked_titles == 3
    assert centre == rows_taste(ada, monkeypatch)


def test_a_title_turned_down_is_in_neither_taste(genres, monkeypatch):
    ada = ProfileFactory(name="Ada")
    comedy = TitleFactory(genres=[genres["Comedy"], genres["Drama"]])
    thriller = TitleFactory(genres=[genres["Thriller"]])
    western = TitleFactory(genres=[genres["Western"]])
    RatingFactory(profile=ada, title=comedy, value=5.0)
    # Rated well, then turned down: the "no" wins.
    RatingFactory(profile=ada, title=thriller, value=4.0)
    FeedbackFactory(profile=ada, title=thriller, kind="not_interested")
    ViewingEventFactory(profile=ada, title=western, progress=1.0, completed=True)
    FeedbackFactory(profile=ada, title=western, kind="thumbs_down")

    centre = centre_taste(ada)

    assert centre == {"Comedy": 0.5, "Drama": 0.5}
    assert taste_profile(ada).liked_titles == 1
    assert centre == rows_taste(ada, monkeypatch)
