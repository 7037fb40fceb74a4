"""factory_boy factories for the foundation models, shared by every app's tests."""

import factory
from django.contrib.auth.hashers import make_password
from django.utils.text import slugify

from accounts.models import Profile, User
from activity.models import Feedback, ListItem, Rating, ViewingEvent
from catalog.models import Episode, Genre, Season, Tag, Title


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"viewer{n}@example.com")
    # An unusable password costs no hashing; tests that log in set one.
    password = factory.LazyFunction(lambda: make_password(None))


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Viewer {n}")


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))


class TitleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Title
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Title {n}")
    sort_title = factory.LazyAttribute(lambda o: o.title.casefold())
    year = 2000

    @factory.post_generation
    def genres(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.genres.set(extracted)


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
    value = 4.0


# A password for accounts that log in; tests/accounts/conftest.py makes hashing
# it cheap.
ACCOUNT_PASSWORD = "Velvet-Curtain-2049"


class AccountFactory(UserFactory):
    """A user who can log in with :data:`ACCOUNT_PASSWORD`."""

    password = factory.LazyFunction(lambda: make_password(ACCOUNT_PASSWORD))


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag {n}")


class ViewingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ViewingEvent

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
    progress = 0.25
    seconds_watched = 1500
    device_class = ViewingEvent.Device.DESKTOP


class FeedbackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feedback

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)
    kind = Feedback.Kind.THUMBS_UP


class ListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListItem

    profile = factory.SubFactory(ProfileFactory)
    title = factory.SubFactory(TitleFactory)


class PrivacySettingsFactory(factory.django.DjangoModelFactory):
    """A profile's privacy settings; the defaults unless a test says otherwise."""

    class Meta:
        model = "consent.PrivacySettings"
        django_get_or_create = ("profile",)

    profile = factory.SubFactory(ProfileFactory)


class SearchEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "activity.SearchEvent"

    profile = factory.SubFactory(ProfileFactory)
    query = factory.Sequence(lambda n: f"search {n}")


class SeasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Season

    title = factory.SubFactory(TitleFactory, kind=Title.Kind.SERIES)
    number = factory.Sequence(lambda n: n + 1)


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    season = factory.SubFactory(SeasonFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Episode title {n}")
    runtime_minutes = 50


def series_with(*episodes_per_season: int, **title_fields) -> Title:
    """A series with that many episodes in each season (numbered from 1)."""
    series = TitleFactory(kind=Title.Kind.SERIES, runtime_minutes=45, **title_fields)
    for number, count in enumerate(episodes_per_season, start=1):
        season = SeasonFactory(title=series, number=number)
        for episode in range(1, count + 1):
            EpisodeFactory(
                season=season,
                number=episode,
                title=f"S{number} episode {episode}",
                synopsis=f"What happens in S{number}:E{episode}.",
            )
    return series
