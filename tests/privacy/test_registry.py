"""The registry is the one list of personal data: every table that points at a
profile or an account is in it (or named as holding nothing personal), and
every entry shows up in the inventory, the export and erasure."""

import re
import zipfile
from unittest import mock

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import Profile, User
from accounts.services import token_create
from privacy import registry, selectors, services
from privacy.models import DataExport
from recommendations.engine.dataset import IMPLICIT_VALUES
from recommendations.models import ModelComparison
from tests.factories import AccountFactory, ProfileFactory
from tests.privacy.test_export import fill


def _points_at_a_person(model) -> bool:
    return any(
        field.is_relation and field.related_model in (User, Profile)
        for field in model._meta.concrete_fields
    )


def test_every_table_that_points_at_a_profile_or_an_account_is_registered():
    registered = {entry.model for entry in registry.ENTRIES}
    pointing = {
        model
        for model in apps.get_models(include_auto_created=True)
        if _points_at_a_person(model)
    }

    missing = pointing - registered - set(registry.NOT_PERSONAL)

    assert sorted(m._meta.label for m in missing) == []
    assert {User, Profile} <= registered
    assert len(registered) == len(registry.ENTRIES)  # each table once


def test_exclusions_are_documented_and_not_registered():
    registered = {entry.model for entry in registry.ENTRIES}

    for model, why in registry.NOT_PERSONAL.items():
        assert model not in registered
        assert why.strip()


def test_entry_names_and_item_kinds_are_unique():
    names = [entry.name for entry in registry.ENTRIES]
    items = [item.name for entry in registry.ENTRIES for item in entry.items]
    files = [entry.export.name for entry in registry.ENTRIES]

    assert len(names) == len(set(names))
    assert len(items) == len(set(items)) == len(registry.ITEMS)
    assert len(files) == len(set(files))


@pytest.fixture
def account(db) -> User:
    """An account holding a row of every registered table, on two profiles."""
    user = AccountFactory(email="ada@example.com")
    ada = ProfileFactory(user=user, name="Ada")
    kid = ProfileFactory(user=user, name="Kid")
    fill(ada)
    fill(kid, query="cartoons")
    services.privacy_settings_update(profile=ada, exploration=40)
    DataExport.objects.create(user=user, status=DataExport.Status.EXPIRED)
    token_create(user=user, name="tv")
    LogEntry.objects.create(user=user, action_flag=ADDITION, object_repr="a row")
    ModelComparison.objects.create(
        created_by=user, label_a="live", config_a={}, label_b="b", config_b={}
    )
    user.groups.add(Group.objects.create(name="curators"))
    user.user_permissions.add(Permission.objects.order_by("pk").first())
    empty = [e.model._meta.label for e in registry.ENTRIES if not e.rows_of(user)]
    assert empty == [], "give the account a row of each newly registered table"
    return user


def test_each_entry_shows_up_in_the_inventory(account):
    inventory = selectors.inventory(account)
    ada = next(p for p in inventory.profiles if p.profile.name == "Ada")
    profile = ada.profile
    listed = {h.key: h.count for h in ada.holdings}
    listed_account = {h.key: h.count for h in inventory.account}

    for entry in registry.ENTRIES:
        shown = entry.inventory
        if isinstance(shown, registry.Counted):
            rows = entry.rows_of_profile(profile) if entry.by_profile else None
            held = listed if entry.by_profile else listed_account
            for line in shown.lines:
                if rows is None:
                    rows = entry.rows_of(account)
                expected = rows.filter(
                    **({entry.split_by: line.value} if line.value else {})
                ).count()
                assert held[line.key] == expected, line.key
        elif isinstance(shown, registry.Apart):
            assert isinstance(getattr(ada, shown.attribute), entry.model)
        else:  # a table about the account only, said why it is not listed
            assert isinstance(shown, registry.Unlisted)
            assert shown.why.strip()
            assert not entry.by_profile, entry.name


def test_each_entry_is_exported_with_every_row(account, settings, tmp_path, on_commit):
    settings.PRIVACY_EXPORT_DIR = tmp_path
    with on_commit():
        export = services.data_export_request(user=account)
    export.refresh_from_db()

    names = set(zipfile.ZipFile(export.file).namelist())
    for entry in registry.ENTRIES:
        label = entry.model._meta.label
        assert export.row_counts[label] == entry.rows_of(account).count(), label
        assert f"{entry.export.name}.json" in names


def test_each_entry_is_erased_with_its_profile_and_account(account, on_commit):
    kid = account.profiles.get(name="Kid")

    with on_commit():
        profile_counts = services.erase_profile(profile=kid)
    left = {e.model._meta.label: e.rows_of(account).count() for e in registry.ENTRIES}
    with on_commit():
        receipt = services.erase_account(user=account)

    for entry in registry.ENTRIES:
        label = entry.model._meta.label
        if entry.by_profile or entry.model is Profile:
            assert profile_counts[label] >= 1, label
        else:
            assert label not in profile_counts
        assert receipt.row_counts[label] == left[label], label
        assert not entry.model._default_manager.filter(
            **{entry.user_path: account.pk}
        ).exists()


def test_each_category_is_a_profiles_data_aged_by_a_date(account, on_commit):
    ada = account.profiles.get(name="Ada")

    for name, entry in registry.CATEGORIES.items():
        assert entry.by_profile, name
        assert entry.model._meta.get_field(entry.time_field), name
        with on_commit():
            erased = services.erase_category(profile=ada, category=name)
        assert erased >= 1, name
        assert not entry.rows_of_profile(ada).exists(), name


def test_the_words_about_implicit_signals_are_the_engines_values(client, db):
    """The inventory's notes and the how-it-works page state the engine's
    implicit-feedback table, not a copy of it."""
    notes = " ".join(
        line.note for entry in selectors.PROFILE_DATA for line in entry.inventory.lines
    )
    for signal in ("thumbs_up", "thumbs_down", "pick", "completed"):
        assert f"{IMPLICIT_VALUES[signal]:g}" in notes

    changed = {**IMPLICIT_VALUES, "thumbs_up": 4.25, "watched_half": 2.5}
    with mock.patch.dict(IMPLICIT_VALUES, changed):
        page = client.get(reverse("privacy:how_it_works")).content.decode()

    rows = dict(re.findall(r'<tr data-signal="(\w+)">(.*?)</tr>', page, re.S))
    assert "<td>4.25 stars</td>" in rows["thumbs_up"]
    assert "<td>2.5 stars</td>" in rows["watched_half"]
    assert "<td>1 star</td>" in rows["not_interested"]
    assert "A play counts as finished past 90%." in page
