"""The consent log: every settings change, export and erasure appends a line
in the same transaction as the change; the database refuses to change or
delete a line, except while the whole account is being erased."""

from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AccountErasureInProgress, User
from activity.models import Rating
from privacy import services
from privacy.models import ConsentEvent, DataExport
from tests.factories import AccountFactory, ProfileFactory
from tests.privacy.test_export import fill


@pytest.fixture
def profile(db):
    profile = ProfileFactory(user=AccountFactory(email="ada@example.com"), name="Ada")
    fill(profile)
    return profile


@pytest.fixture
def line(profile) -> ConsentEvent:
    services.privacy_settings_update(profile=profile, personalization=False)
    return ConsentEvent.objects.get()


def _unchanged(line: ConsentEvent) -> None:
    stored = ConsentEvent.objects.get(pk=line.pk)
    assert (stored.what, stored.old_value, stored.new_value) == (
        "personalization",
        "on",
        "off",
    )


def test_consent_log_update_is_refused_by_the_database(db, line):
    """PostgreSQL and SQLite alike (each has its own trigger)."""
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(pk=line.pk).update(new_value="on")

    _unchanged(line)


def test_consent_log_save_is_refused_by_postgresql(postgres, line):
    line.new_value = "on"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        line.save()

    _unchanged(line)


def test_consent_log_delete_is_refused_by_postgresql(postgres, line):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(pk=line.pk).delete()

    _unchanged(line)


def test_deleting_the_account_outside_erasure_is_refused_by_postgresql(postgres, line):
    """Only the erasure service (with its marker row) may take the log along."""
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        User.objects.filter(pk=line.user_id).delete()

    _unchanged(line)


def test_consent_log_delete_is_allowed_during_account_erasure_on_postgresql(
    postgres, line
):
    user = User.objects.get(pk=line.user_id)

    services.erase_account(user=user)

    assert not ConsentEvent.objects.exists()
    assert not AccountErasureInProgress.objects.exists()


def test_each_settings_change_export_and_erasure_is_logged(profile, settings, tmp_path):
    settings.PRIVACY_EXPORT_DIR = tmp_path
    services.privacy_settings_update(profile=profile, exploration=80, calibration=False)
    services.data_export_request(user=profile.user)
    services.erase_item(
        profile=profile,
        kind="rating",
        item_id=Rating.objects.filter(profile=profile).first().pk,
    )
    services.erase_category(profile=profile, category="searches")

    lines = list(
        ConsentEvent.objects.order_by("id").values_list(
            "kind", "what", "old_value", "new_value", "profile_name"
        )
    )
    export = DataExport.objects.get()
    assert lines == [
        ("setting", "exploration", "70", "80", "Ada"),
        ("setting", "calibration", "on", "off", "Ada"),
        ("export", "data export requested", "", f"export {export.pk}", ""),
        ("erasure", "one rating erased", "", lines[3][3], "Ada"),
        ("erasure", "all search history erased", "", "1 rows", "Ada"),
    ]


def test_an_erasure_whose_log_line_fails_erases_nothing(profile):
    with (
        mock.patch.object(
            services, "consent_event_record", side_effect=RuntimeError("log down")
        ),
        pytest.raises(RuntimeError),
    ):
        services.erase_category(profile=profile, category="ratings")

    assert Rating.objects.filter(profile=profile).count() == 2


def test_an_export_whose_log_line_fails_is_not_requested(profile):
    with (
        mock.patch.object(
            services, "consent_event_record", side_effect=RuntimeError("log down")
        ),
        pytest.raises(RuntimeError),
    ):
        services.data_export_request(user=profile.user)

    assert not DataExport.objects.exists()
