"""The training dataset and histories, read from the database in chunks.

``CHUNK_ROWS`` is set to 2 here so that every query is read over several
round trips of the cursor: the rows must come out the same as in one piece.
"""

from datetime import UTC, datetime

import numpy as np
import pytest

from activity.models import Feedback
from recommendations.services import dataset
from tests.factories import (
    FeedbackFactory,
    ProfileFactory,
    RatingFactory,
    TitleFactory,
    ViewingEventFactory,
)

pytestmark = pytest.mark.django_db

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(dataset, "CHUNK_ROWS", 2)


@pytest.fixture
def signals():
    """Two profiles that train, one opted out, six titles and one withdrawn."""
    ada, bo = ProfileFactory(), ProfileFactory()
    out = ProfileFactory(allow_training=False)
    t = TitleFactory.create_batch(6)
    gone = TitleFactory(is_available=False)
    # Ada: a rating wins over her finished viewing of the same title; a thumbs
    # up wins over an abandoned viewing; of two viewings the fuller counts,
    # with the later time.
    RatingFactory(profile=ada, title=t[0], value=2.5, updated_at=JAN)
    ViewingEventFactory(profile=ada, title=t[0], progress=1.0, completed=True)
    ViewingEventFactory(profile=ada, title=t[1], progress=0.2, updated_at=JAN)
    FeedbackFactory(profile=ada, title=t[1], kind="thumbs_up", created_at=FEB)
    ViewingEventFactory(profile=ada, title=t[2], progress=0.6, updated_at=FEB)
    ViewingEventFactory(
        profile=ada, title=t[2], progress=1.0, completed=True, updated_at=JAN
    )
    # Bo: two clear "no"s, an onboarding pick, a rating of a withdrawn title.
    FeedbackFactory(profile=bo, title=t[3], kind="not_interested", created_at=JAN)
    FeedbackFactory(profile=bo, title=t[4], kind="thumbs_down", created_at=JAN)
    FeedbackFactory(profile=bo, title=t[5], kind="pick", created_at=FEB)
    RatingFactory(profile=bo, title=t[0], value=5.0, updated_at=FEB)
    RatingFactory(profile=bo, title=gone, value=4.0)
    # The opted-out profile.
    RatingFactory(profile=out, title=t[0], value=1.0)
    FeedbackFactory(profile=out, title=t[1], kind="thumbs_up")
    return ada, bo, out, t, gone


def rows(inter) -> list[tuple]:
    return sorted(
        zip(
            inter.users.tolist(),
            inter.items.tolist(),
            inter.values.tolist(),
            inter.times.tolist(),
            inter.negative.tolist(),
            strict=True,
        )
    )


def test_training_dataset_has_one_row_per_pair_valued_by_the_implicit_rule(signals):
    ada, bo, _, t, _ = signals
    jan, feb = int(JAN.timestamp()), int(FEB.timestamp())

    inter = dataset.training_dataset()

    assert rows(inter) == sorted(
        [
            (ada.pk, t[0].pk, 2.5, jan, False),
            (ada.pk, t[1].pk, 4.5, feb, False),
            (ada.pk, t[2].pk, 4.0, feb, False),
            (bo.pk, t[0].pk, 5.0, feb, False),
            (bo.pk, t[3].pk, 1.0, jan, True),
            (bo.pk, t[4].pk, 1.5, jan, True),
            (bo.pk, t[5].pk, 4.0, feb, False),
        ]
    )
    assert inter.users.dtype == inter.items.dtype == inter.times.dtype == np.int64
    assert inter.values.dtype == np.float64


def test_chunked_reading_gives_the_rows_of_one_read(signals, monkeypatch):
    chunked = rows(dataset.training_dataset())
    monkeypatch.setattr(dataset, "CHUNK_ROWS", 1_000)

    assert rows(dataset.training_dataset()) == chunked


def test_an_opted_out_profiles_history_still_has_its_own_signals(signals):
    _, bo, out, t, gone = signals

    bo_history, out_history = dataset.profile_histories([bo.pk, out.pk])

    assert sorted(out_history.items.tolist()) == [t[0].pk, t[1].pk]
    assert sorted(bo_history.items.tolist()) == [t[0].pk, t[3].pk, t[4].pk, t[5].pk]
    # Hidden: what Bo said "not interested" to, and every withdrawn title.
    assert sorted(bo_history.hidden.tolist()) == [t[3].pk, gone.pk]
    assert out_history.hidden.tolist() == [gone.pk]


def test_no_signals_gives_an_empty_dataset():
    FeedbackFactory(kind=Feedback.Kind.THUMBS_UP, profile__allow_training=False)

    inter = dataset.training_dataset()

    assert len(inter) == 0
    assert inter.users.dtype == np.int64
