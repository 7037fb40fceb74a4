"""Invariants the database itself holds for activity rows, whoever writes them."""

import pytest
from django.db import IntegrityError, transaction

from activity.models import Rating, ViewingEvent
from tests.factories import ProfileFactory, RatingFactory, TitleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", [0.0, 5.5, 3.3, -1.0])
def test_rating_outside_half_stars_is_refused_by_the_database(value):
    profile, title = ProfileFactory(), TitleFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(profile=profile, title=title, value=value)

    assert Rating.objects.count() == 0


@pytest.mark.parametrize("value", [0.5, 5.0])
def test_rating_at_either_end_of_the_scale_is_stored(value):
    rating = RatingFactory(value=value)

    assert Rating.objects.get().pk == rating.pk
    assert Rating.objects.get().value == value


def test_second_rating_for_the_same_profile_and_title_is_refused():
    first = RatingFactory(value=4.0)

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(profile=first.profile, title=first.title, value=2.0)

    assert list(Rating.objects.values_list("id", "value")) == [(first.pk, 4.0)]


def test_same_title_may_be_rated_by_two_profiles():
    first = RatingFactory(value=4.0)
    second = RatingFactory(title=first.title, value=2.0)

    assert sorted(Rating.objects.values_list("profile_id", "value")) == [
        (first.profile_id, 4.0),
        (second.profile_id, 2.0),
    ]


@pytest.mark.parametrize("progress", [-0.1, 1.01, 2.0])
def test_viewing_progress_outside_0_to_1_is_refused(progress):
    profile, title = ProfileFactory(), TitleFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ViewingEvent.objects.create(profile=profile, title=title, progress=progress)

    assert ViewingEvent.objects.count() == 0


@pytest.mark.parametrize("progress", [0.0, 1.0])
def test_viewing_progress_at_0_and_1_is_stored(progress):
    viewing = ViewingEvent.objects.create(
        profile=ProfileFactory(), title=TitleFactory(), progress=progress
    )

    assert ViewingEvent.objects.get().pk == viewing.pk
    assert ViewingEvent.objects.get().progress == progress
