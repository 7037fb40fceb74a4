"""Erasure: an item, a category, a profile or the whole account leaves the
database at once, leaves the profile's rows and every model file, and never
reaches a later training."""

from pathlib import Path

import numpy as np
import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse

from accounts.access import ACTIVE_PROFILE_SESSION_KEY
from accounts.models import AccountErasureInProgress, Profile, User
from activity.models import Feedback, Rating, SearchEvent, ViewingEvent
from privacy import services
from privacy.models import ConsentEvent, DataExport, ErasureReceipt
from recommendations.engine import artifact
from recommendations.engine.forget import holds_profiles, without_profiles
from recommendations.engine.recommender import History
from recommendations.models import ModelVersion, ProfileCandidates
from recommendations.services.candidates import profile_refresh
from recommendations.services.dataset import profile_histories, training_dataset
from recommendations.services.forget import model_forget_profiles
from recommendations.services.training import active_version, recommender_for
from tests.conftest import model_file
from tests.factories import ACCOUNT_PASSWORD, AccountFactory, ProfileFactory
from tests.privacy.test_export import fill


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def export_dir(settings, tmp_path) -> Path:
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


def referencing_rows(user_id: int, profile_ids: list[int]) -> dict[str, int]:
    """Rows of any table, found from the app registry, that point at the
    account or one of its profiles (a model added later is checked too)."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                n = model._default_manager.filter(**{field.attname: user_id}).count()
            elif field.is_relation and field.related_model is Profile:
                n = model._default_manager.filter(
                    **{f"{field.attname}__in": profile_ids}
                ).count()
            else:
                continue
            if n:
                found[f"{model._meta.label}.{field.name}"] = n
    for model in (User, Profile):
        n = model._default_manager.filter(
            pk__in=[user_id] if model is User else profile_ids
        ).count()
        if n:
            found[model._meta.label] = n
    return found


def model_files_holding(folder: Path, profile_ids: list[int]) -> list[str]:
    """Model files on disk (any, current or stray) with a row for the profiles."""
    holding = []
    for path in folder.glob("*.npz"):
        with np.load(path, allow_pickle=False) as npz:
            if len(holds_profiles(npz["user_ids"], np.array(profile_ids))):
                holding.append(path.name)
    return holding


@pytest.fixture
def demo_viewer(db, trained) -> User:
    """A demo account (imported data behaves the same) whose profile the active
    model was trained on, with a password, settings and an export."""
    profile = (
        Profile.objects.filter(user__source=User.Source.DEMO, ratings__isnull=False)
        .order_by("id")
        .first()
    )
    user = profile.user
    user.set_password(ACCOUNT_PASSWORD)
    user.save()
    return user


def test_account_erasure_leaves_nothing_that_references_it(
    client, demo_viewer, export_dir, artifact_dir, on_commit
):
    user = demo_viewer
    user_id = user.pk
    profile_ids = list(user.profiles.values_list("pk", flat=True))
    profile = user.profiles.get()
    services.privacy_settings_update(profile=profile, exploration=60)
    with on_commit():
        export = services.data_export_request(user=user)
    export.refresh_from_db()
    assert Path(export.file).is_file()
    ratings = Rating.objects.filter(profile=profile).count()
    active = ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)
    assert model_files_holding(artifact_dir, profile_ids) == [
        Path(active.artifact).name
    ]
    assert referencing_rows(user_id, profile_ids)  # the check can see them
    assert client.login(username=user.email, password=ACCOUNT_PASSWORD)
    session = client.session
    session[ACTIVE_PROFILE_SESSION_KEY] = profile.pk
    session.save()
    assert "Top picks for" in client.get("/").content.decode()
    cached_pages = cache.get(f"home:pages:{profile.pk}")
    assert cached_pages and cache.get_many(cached_pages)

    with on_commit():
        response = client.post(
            reverse("privacy:erase_account"),
            {"account-password": ACCOUNT_PASSWORD, "account-confirm": user.email},
        )

    receipt = ErasureReceipt.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "privacy:erase_receipt", args=[receipt.reference]
    )
    assert referencing_rows(user_id, profile_ids) == {}
    assert not AccountErasureInProgress.objects.exists()
    assert list(export_dir.iterdir()) == []
    assert cache.get_many(cached_pages) == {}  # no cached rows of it remain
    dataset = training_dataset()
    assert len(dataset) > 0
    assert not np.isin(dataset.users, profile_ids).any()
    assert not ProfileCandidates.objects.filter(profile_id__in=profile_ids).exists()
    assert model_files_holding(artifact_dir, profile_ids) == []
    active.refresh_from_db()
    arrays = artifact.load(model_file(active), active.sha256)  # checksum holds
    assert not np.isin(arrays["user_ids"], profile_ids).any()
    assert receipt.scope == "account"
    assert receipt.model_versions == [active.pk]
    assert receipt.row_counts["activity.Rating"] == ratings
    assert receipt.row_counts["accounts.User"] == 1
    assert receipt.row_counts["privacy.ConsentEvent"] == 2
    # Logged out, and the account cannot log in again.
    assert client.get(reverse("privacy:erase")).status_code == 302
    assert not client.login(username=user.email, password=ACCOUNT_PASSWORD)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert receipt.reference in page.content.decode()
    assert user.email not in page.content.decode()


def test_serving_after_account_erasure_uses_the_rewritten_model(
    demo_viewer, artifact_dir, on_commit
):
    other = Profile.objects.exclude(user=demo_viewer).filter(ratings__isnull=False)[0]
    active = active_version()
    old_sha = active.sha256

    with on_commit():
        services.erase_account(user=demo_viewer)

    active.refresh_from_db()
    assert active.sha256 != old_sha
    assert profile_refresh(profile_id=other.pk) is True
    assert ProfileCandidates.objects.get(profile=other).model_version_id == active.pk


def test_account_erasure_needs_the_password_and_the_typed_email(client, export_dir, db):
    user = AccountFactory(email="ada@example.com")
    fill(ProfileFactory(user=user, name="Ada"))
    client.force_login(user)
    url = reverse("privacy:erase_account")

    wrong_password = client.post(
        url, {"account-password": "not it", "account-confirm": user.email}
    )
    wrong_phrase = client.post(
        url, {"account-password": ACCOUNT_PASSWORD, "account-confirm": "DELETE"}
    )
    nothing = client.post(url, {})

    assert [wrong_password.status_code, wrong_phrase.status_code] == [400, 400]
    assert nothing.status_code == 400
    assert "not the account password" in wrong_password.content.decode()
    assert "not this account" in wrong_phrase.content.decode()
    assert User.objects.filter(pk=user.pk).exists()
    assert Rating.objects.filter(profile__user=user).count() == 2
    assert not ErasureReceipt.objects.exists()


def test_account_erasure_page_lists_every_choice(client, db):
    user = AccountFactory(email="ada@example.com")
    ProfileFactory(user=user, name="Ada")
    ProfileFactory(user=user, name="Kid")
    client.force_login(user)

    page = client.get(reverse("privacy:erase")).content.decode()

    for url in ("erase_category", "erase_profile", "erase_account"):
        assert f'action="{reverse(f"privacy:{url}")}"' in page
    assert "Ada" in page


def test_erase_page_does_not_offer_to_erase_the_only_profile(client, db):
    user = AccountFactory(email="solo@example.com")
    ProfileFactory(user=user, name="Solo")
    client.force_login(user)

    page = client.get(reverse("privacy:erase")).content.decode()

    assert f'action="{reverse("privacy:erase_profile")}"' not in page
    assert "Erase this profile" not in page
    assert (
        "“Solo” is the account's only profile: "
        '<a href="#erase-account-heading">erase the account</a> instead.'
    ) in page
    assert f'action="{reverse("privacy:erase_account")}"' in page


@pytest.fixture
def family(db, export_dir) -> tuple[Profile, Profile, Profile]:
    user = AccountFactory(email="ada@example.com")
    ada, kid = (
        ProfileFactory(user=user, name="Ada"),
        ProfileFactory(user=user, name="Kid"),
    )
    fill(ada)
    fill(kid, query="cartoons")
    stranger = ProfileFactory(user=AccountFactory(email="eve@example.com"), name="Eve")
    fill(stranger, query="eve")
    return ada, kid, stranger


def _held(profile_id: int) -> dict[str, int]:
    """Rows per table that point at the profile."""
    held = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Profile:
                held[f"{model._meta.label}.{field.name}"] = (
                    model._default_manager.filter(**{field.attname: profile_id}).count()
                )
    return held


def test_profile_erasure_leaves_the_other_profiles_intact(family, on_commit):
    ada, kid, stranger = family
    kid_before, stranger_before = _held(kid.pk), _held(stranger.pk)
    ada_id = ada.pk

    with on_commit():
        counts = services.erase_profile(profile=ada)

    assert not Profile.objects.filter(pk=ada_id).exists()
    assert referencing_rows(-1, [ada_id]) == {}
    assert _held(kid.pk) == kid_before
    assert _held(stranger.pk) == stranger_before
    assert counts["activity.Rating"] == 2
    assert counts["accounts.Profile"] == 1
    line = ConsentEvent.objects.get(user=kid.user)
    assert (line.kind, line.what, line.profile_name) == (
        "erasure",
        "profile erased",
        "Ada",
    )


def test_profile_erasure_refuses_the_last_profile(db):
    only = ProfileFactory(user=AccountFactory(email="solo@example.com"), name="Solo")
    fill(only)

    with pytest.raises(services.ErasureRefused):
        services.erase_profile(profile=only)

    assert Rating.objects.filter(profile=only).count() == 2
    assert not ConsentEvent.objects.exists()


def test_profile_erasure_page_needs_the_password(client, family):
    ada, kid, stranger = family
    client.force_login(ada.user)
    url = reverse("privacy:erase_profile")

    wrong = client.post(url, {"profile": ada.pk, "profile-password": "nope"})
    others = client.post(
        url, {"profile": stranger.pk, "profile-password": ACCOUNT_PASSWORD}
    )
    right = client.post(url, {"profile": ada.pk, "profile-password": ACCOUNT_PASSWORD})

    assert wrong.status_code == 400
    assert others.status_code == 404
    assert Profile.objects.filter(pk=stranger.pk).exists()
    assert right.status_code == 302
    assert not Profile.objects.filter(pk=ada.pk).exists()
    assert Profile.objects.filter(pk=kid.pk).exists()


def test_category_erasure_removes_that_kind_for_that_profile_only(family, on_commit):
    ada, kid, _ = family

    with on_commit():
        erased = services.erase_category(profile=ada, category="searches")

    assert erased == 1
    assert not SearchEvent.objects.filter(profile=ada).exists()
    assert SearchEvent.objects.filter(profile=kid).count() == 1
    assert Rating.objects.filter(profile=ada).count() == 2
    line = ConsentEvent.objects.get()
    assert (line.kind, line.what, line.new_value) == (
        "erasure",
        "all search history erased",
        "1 rows",
    )


def test_category_erasure_page(client, family, on_commit):
    ada, _, stranger = family
    client.force_login(ada.user)
    url = reverse("privacy:erase_category")

    with on_commit():
        done = client.post(url, {"profile": ada.pk, "category": "ratings"})
    unknown = client.post(url, {"profile": ada.pk, "category": "passwords"})
    others = client.post(url, {"profile": stranger.pk, "category": "ratings"})

    assert done.status_code == 302
    assert not Rating.objects.filter(profile=ada).exists()
    assert unknown.status_code == 400
    assert others.status_code == 404
    assert Rating.objects.filter(profile=stranger).count() == 2


def test_erased_data_never_reaches_training(family, on_commit):
    ada, kid, _ = family
    assert (training_dataset().users == ada.pk).sum() == 2

    with on_commit():
        for category in ("ratings", "viewings", "feedback"):
            services.erase_category(profile=ada, category=category)

    dataset = training_dataset()
    assert (dataset.users == ada.pk).sum() == 0
    assert (dataset.users == kid.pk).sum() == 2


def test_item_erasure_removes_one_row(family, on_commit):
    ada, _, _ = family
    search = SearchEvent.objects.get(profile=ada)

    with on_commit():
        services.erase_item(profile=ada, kind="search", item_id=search.pk)

    assert not SearchEvent.objects.filter(pk=search.pk).exists()
    line = ConsentEvent.objects.get()
    assert line.what == "one search erased"
    assert "heat" not in line.new_value + line.old_value  # the log names no content


def test_item_erasure_of_someone_elses_row_is_404(client, family):
    ada, _, stranger = family
    theirs = Rating.objects.filter(profile=stranger).first()
    client.force_login(ada.user)

    response = client.post(
        reverse("privacy:erase_item"),
        {"profile": ada.pk, "kind": "rating", "item": theirs.pk},
    )
    their_profile = client.post(
        reverse("privacy:erase_item"),
        {"profile": stranger.pk, "kind": "rating", "item": theirs.pk},
    )
    bad_kind = client.post(
        reverse("privacy:erase_item"),
        {"profile": ada.pk, "kind": "password", "item": theirs.pk},
    )

    assert response.status_code == 404
    assert their_profile.status_code == 404
    assert bad_kind.status_code == 400
    assert Rating.objects.filter(pk=theirs.pk).exists()
    assert not ConsentEvent.objects.exists()


def test_item_erasure_by_htmx_answers_a_fragment(client, family, on_commit):
    ada, _, _ = family
    client.force_login(ada.user)
    rating = Rating.objects.filter(profile=ada).first()

    with on_commit():
        response = client.post(
            reverse("privacy:erase_item"),
            {"profile": ada.pk, "kind": "rating", "item": rating.pk},
            headers={"HX-Request": "true"},
        )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert not Rating.objects.filter(pk=rating.pk).exists()


def test_item_erasure_refreshes_candidates_without_it(db, trained, on_commit):
    profile = (
        Profile.objects.filter(ratings__value__gte=4.5)
        .order_by("id")
        .distinct()
        .first()
    )
    before = ProfileCandidates.objects.get(profile=profile).title_ids
    rating = Rating.objects.filter(profile=profile).order_by("-value", "id").first()

    with on_commit():
        services.erase_item(profile=profile, kind="rating", item_id=rating.pk)

    version = active_version()
    model = recommender_for(version)
    assert profile.pk not in model.rating.user_ids  # served by fold-in now
    (history,) = profile_histories([profile.pk])
    assert rating.title_id not in history.items
    (expected,) = model.candidates(
        [History(**{**history.__dict__, "use_trained_vector": False})], count=300
    )
    stored = ProfileCandidates.objects.get(profile=profile)
    assert stored.title_ids == expected.title_ids.tolist()
    assert stored.title_ids != before


def test_erasing_a_seed_removes_its_because_row(db, trained, on_commit):
    from recommendations.home.page import home_page

    profile, seed = None, None
    for candidate in Profile.objects.filter(ratings__isnull=False).distinct()[:40]:
        seeds = [r.seed_id for r in home_page(profile=candidate).rows if r.seed_id]
        if seeds:
            profile, seed = candidate, seeds[0]
            break
    assert seed is not None, "no demo profile has a Because you… row"

    with on_commit():
        for model, kind in (
            (Rating, "rating"),
            (ViewingEvent, "viewing"),
            (Feedback, "feedback"),
        ):
            for row in model.objects.filter(profile=profile, title_id=seed):
                services.erase_item(profile=profile, kind=kind, item_id=row.pk)

    profile.refresh_from_db()
    page = home_page(profile=profile)
    assert seed not in {r.seed_id for r in page.rows}


def test_model_forget_is_idempotent_and_keeps_others(
    db, trained, artifact_dir, on_commit
):
    profiles = list(
        Profile.objects.filter(ratings__isnull=False).distinct().order_by("id")[:2]
    )
    version = active_version()
    before = recommender_for(version).rating.user_ids.copy()

    with on_commit():
        forgotten = model_forget_profiles(profile_ids=[profiles[0].pk])
    assert forgotten == [version.pk]
    assert model_forget_profiles(profile_ids=[profiles[0].pk]) == []

    version.refresh_from_db()
    after = recommender_for(version).rating.user_ids
    assert after.tolist() == [u for u in before.tolist() if u != profiles[0].pk]
    assert len(list(artifact_dir.glob("*.npz"))) == 1  # the old file is gone


def test_without_profiles_drops_only_their_rows():
    arrays = {
        "user_ids": np.array([3, 5, 9]),
        "bu": np.array([0.3, 0.5, 0.9]),
        "P": np.arange(6.0).reshape(3, 2),
        "item_ids": np.array([3, 5, 9, 11]),
        "bi": np.ones(4),
    }

    out, dropped = without_profiles(arrays, np.array([5, 42]))

    assert dropped == 1
    assert out["user_ids"].tolist() == [3, 9]
    assert out["bu"].tolist() == [0.3, 0.9]
    assert out["P"].tolist() == [[0.0, 1.0], [4.0, 5.0]]
    assert out["item_ids"].tolist() == [3, 5, 9, 11]
    assert without_profiles(arrays, np.array([42])) == (arrays, 0)


def test_erasure_drops_stale_candidates_even_without_a_model(family, on_commit):
    ada, kid, _ = family

    with on_commit():
        services.erase_category(profile=ada, category="ratings")

    assert not ProfileCandidates.objects.filter(profile=ada).exists()
    assert ProfileCandidates.objects.filter(profile=kid).exists()
    assert not DataExport.objects.exists()
