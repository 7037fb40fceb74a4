"""Deleting a profile from the profile pages, or an account in the admin, is
the privacy centre's erasure: the same consent-log line, the same clean-up."""

import pytest
from django.urls import reverse

from accounts.models import Profile, User
from activity.models import Rating
from privacy.models import ConsentEvent, ErasureReceipt
from tests.factories import AccountFactory, ProfileFactory, RatingFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_profile_from_the_profile_pages_logs_the_erasure(client):
    account = AccountFactory()
    keep = ProfileFactory(user=account, name="Keep")
    gone = ProfileFactory(user=account, name="Gone")
    RatingFactory(profile=gone)
    kept_rating = RatingFactory(profile=keep)
    client.force_login(account)

    response = client.post(reverse("privacy:profile_delete", args=[gone.pk]))

    assert response.status_code == 302
    assert list(account.profiles.all()) == [keep]
    assert list(Rating.objects.all()) == [kept_rating]
    event = ConsentEvent.objects.get(user=account)
    assert (event.kind, event.what, event.old_value) == (
        ConsentEvent.Kind.ERASURE,
        "profile erased",
        "Gone",
    )


def test_the_last_profile_is_refused_and_kept(client):
    account = AccountFactory()
    only = ProfileFactory(user=account)
    client.force_login(account)

    response = client.post(reverse("privacy:profile_delete", args=[only.pk]))

    assert response.status_code == 409
    assert "the last one cannot be deleted" in response.content.decode()
    assert Profile.objects.filter(pk=only.pk).exists()
    assert not ConsentEvent.objects.exists()


def test_deleting_an_account_in_the_admin_is_its_erasure(client):
    staff = User.objects.create_superuser(email="op@example.com", password="x" * 12)
    account = AccountFactory(email="gone@example.com")
    RatingFactory(profile=ProfileFactory(user=account))
    client.force_login(staff)

    response = client.post(
        reverse("admin:accounts_user_delete", args=[account.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not User.objects.filter(pk=account.pk).exists()
    assert Rating.objects.count() == 0
    receipt = ErasureReceipt.objects.get()
    assert receipt.scope == "account"
    assert receipt.row_counts["activity.Rating"] == 1
