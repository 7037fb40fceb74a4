""" "Download my data": the zip holds every row held, opens as JSON and CSV, is
built by a task (a real worker once), downloadable by its owner only, and
expires."""

import csv
import io
import json
import time
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile, User
from activity.models import (
    Feedback,
    Impression,
    ListItem,
    Rating,
    SearchEvent,
    TagApplication,
    ViewingEvent,
)
from consent.models import PrivacySettings
from privacy import exports, services, tasks
from privacy.models import ConsentEvent, DataExport
from recommendations.models import (
    Experiment,
    ExperimentAssignment,
    ProfileCandidates,
    RowEngagement,
    SeedExclusion,
)
from tests.factories import (
    AccountFactory,
    GenreFactory,
    ProfileFactory,
    TagFactory,
    TitleFactory,
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def export_dir(settings, tmp_path) -> Path:
    settings.PRIVACY_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


def fill(profile: Profile, *, query: str = "heat", titles=None) -> None:
    """One row of every kind of activity for ``profile`` (two ratings)."""
    drama = GenreFactory(name="Drama")
    a, b = titles or (TitleFactory(genres=[drama]), TitleFactory(genres=[drama]))
    Rating.objects.create(profile=profile, title=a, value=5.0)
    Rating.objects.create(profile=profile, title=b, value=2.0)
    ViewingEvent.objects.create(profile=profile, title=a, progress=1.0, completed=True)
    SearchEvent.objects.create(profile=profile, query=query)
    Feedback.objects.create(profile=profile, title=a, kind=Feedback.Kind.THUMBS_UP)
    ListItem.objects.create(profile=profile, title=b)
    TagApplication.objects.create(profile=profile, title=a, tag=TagFactory())
    RowEngagement.objects.create(profile=profile, row_kind="top-picks", count=3)
    SeedExclusion.objects.create(profile=profile, title=b)
    ProfileCandidates.objects.create(
        profile=profile, title_ids=[b.pk], scores=[1.5], predicted=[3.5]
    )
    Impression.objects.create(
        profile=profile,
        page_view=uuid.uuid4(),
        row_kind="top-picks",
        row_position=0,
        title=a,
        position=0,
        model_version_id=None,
        experiment_id=None,
        take=Impression.Take.PLAY,
        taken_at=timezone.now(),
    )
    experiment, _ = Experiment.objects.get_or_create(
        name="Calmer Top picks", defaults={"hypothesis": "Fewer surprises."}
    )
    ExperimentAssignment.objects.create(experiment=experiment, profile=profile, arm="B")
    settings = PrivacySettings.objects.create(profile=profile, exploration=70)
    settings.hidden_genres.add(GenreFactory(name="Horror"))


def owned_count(model, user: User) -> int:
    """Rows of ``model`` pointing at ``user`` or one of its profiles, found
    from the model's own fields (independently of the code under test)."""
    if model is User:
        return User.objects.filter(pk=user.pk).count()
    total = model._default_manager.none()
    for field in model._meta.concrete_fields:
        if not field.is_relation:
            continue
        if field.related_model is User:
            total |= model._default_manager.filter(**{field.attname: user.pk})
        elif field.related_model is Profile:
            total |= model._default_manager.filter(
                **{
                    f"{field.attname}__in": list(
                        user.profiles.values_list("pk", flat=True)
                    )
                }
            )
    return total.count()


def personal_tables() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model is User
        or any(
            f.is_relation and f.related_model in (User, Profile)
            for f in model._meta.concrete_fields
        )
    ]


@pytest.fixture
def account(db) -> User:
    user = AccountFactory(email="ada@example.com")
    fill(ProfileFactory(user=user, name="Ada"))
    fill(ProfileFactory(user=user, name="Kid", is_kids=True), query="cartoons")
    return user


@pytest.fixture
def stranger(db) -> User:
    user = AccountFactory(email="eve@example.com")
    fill(ProfileFactory(user=user, name="Eve"), query="secret eve search")
    return user


def build(user: User, on_commit) -> DataExport:
    with on_commit():
        export = services.data_export_request(user=user)
    export.refresh_from_db()
    return export


def test_export_holds_exactly_every_row_of_every_personal_table(
    account, stranger, export_dir, on_commit
):
    export = build(account, on_commit)

    assert export.status == DataExport.Status.READY
    assert export.progress == 100
    tables = personal_tables()
    assert {m._meta.label for m in tables} <= set(export.row_counts)
    for model in tables:
        assert export.row_counts[model._meta.label] == owned_count(model, account), (
            model._meta.label
        )
    assert export.row_counts["activity.Rating"] == 4
    assert export.row_counts["accounts.Profile"] == 2
    assert export.row_counts["privacy.ConsentEvent"] == 1  # the export's own line


def test_export_files_open_as_json_and_csv_with_the_rows_counted(
    account, stranger, export_dir, on_commit
):
    export = build(account, on_commit)
    by_table = {p.model._meta.label: p for p in exports.export_parts() if p.model}

    with zipfile.ZipFile(export.file) as archive:
        names = set(archive.namelist())
        for label, part in by_table.items():
            rows = json.loads(archive.read(f"{part.name}.json"))
            assert len(rows) == export.row_counts[label], label
            if part.tabular and part.csv_rows is None:
                text = archive.read(f"{part.name}.csv").decode()
                assert len(list(csv.DictReader(io.StringIO(text)))) == len(rows)
        everything = b"".join(archive.read(n) for n in names)
        readme = archive.read("README.txt").decode()

    assert b"secret eve search" not in everything
    assert b"eve@example.com" not in everything
    assert account.password.encode() not in everything
    ratings = json.loads(zipfile.ZipFile(export.file).read("ratings.json"))
    assert sorted(r["value"] for r in ratings) == [2.0, 2.0, 5.0, 5.0]
    for part in exports.export_parts():
        assert f"{part.name}.json" in names
        assert f"{part.name}.json" in readme
        for field in part.fields:
            assert field in readme


def test_export_includes_derived_taste_candidates_and_rows(
    account, export_dir, on_commit
):
    export = build(account, on_commit)
    archive = zipfile.ZipFile(export.file)

    taste = json.loads(archive.read("taste_profile.json"))
    assert {(t["profile"], t["genre"], t["weight"]) for t in taste} == {
        ("Ada", "Drama", 1.0),
        ("Kid", "Drama", 1.0),
    }
    candidates = json.loads(archive.read("candidates.json"))
    assert [len(c["titles"]) for c in candidates] == [1, 1]
    assert candidates[0]["titles"][0]["predicted_rating"] == 3.5
    flat = list(csv.DictReader(io.StringIO(archive.read("candidates.csv").decode())))
    assert len(flat) == 2
    shown = json.loads(archive.read("rows_shown.json"))
    assert [s["profile"] for s in shown] == ["Ada", "Kid"]
    assert all("rows" in s and "personalized" in s for s in shown)


def test_export_is_ready_for_seven_days_and_logged(account, export_dir, on_commit):
    export = build(account, on_commit)

    assert export.expires_at == export.finished_at + timedelta(days=7)
    assert Path(export.file).parent == export_dir
    assert Path(export.file).stat().st_size == export.size
    event = ConsentEvent.objects.get(user=account)
    assert (event.kind, event.what) == ("export", "data export requested")


def test_export_build_runs_once_only(account, export_dir, on_commit):
    export = build(account, on_commit)
    modified = Path(export.file).stat().st_mtime_ns

    assert services.data_export_build(export_id=export.pk) is None
    assert tasks.build_export.delay(export.pk).get() is None
    export.refresh_from_db()
    assert export.status == DataExport.Status.READY
    assert Path(export.file).stat().st_mtime_ns == modified
    assert len(list(export_dir.iterdir())) == 1


def test_export_waiting_is_returned_instead_of_a_second_one(account, export_dir):
    first = services.data_export_request(user=account)
    again = services.data_export_request(user=account)

    assert again.pk == first.pk
    assert DataExport.objects.filter(user=account).count() == 1


def test_fourth_export_within_a_day_is_refused(account, export_dir, on_commit):
    for _ in range(3):
        build(account, on_commit)

    with pytest.raises(services.ExportLimitReached) as refused:
        services.data_export_request(user=account)

    assert DataExport.objects.filter(user=account).count() == 3
    first = DataExport.objects.filter(user=account).order_by("created_at").first()
    assert refused.value.retry_at == first.created_at + timedelta(days=1)
    DataExport.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - timedelta(days=1, seconds=1)
    )
    assert services.data_export_request(user=account).status == "pending"


def test_export_page_refuses_a_fourth_export_with_429(
    client, account, export_dir, on_commit
):
    for _ in range(3):
        build(account, on_commit)
    client.force_login(account)

    response = client.post(reverse("privacy:export"))

    assert response.status_code == 429
    assert "3 exports a day" in response.content.decode()
    assert DataExport.objects.filter(user=account).count() == 3


def test_the_export_page_says_when_an_export_will_be_ready_from_recent_builds(
    client, account
):
    now = timezone.now()
    for seconds in (20, 50, 140):  # the slowest recent build, rounded up
        DataExport.objects.create(
            user=AccountFactory(),
            status=DataExport.Status.READY,
            created_at=now - timedelta(seconds=seconds),
            finished_at=now,
        )
    client.force_login(account)

    html = client.get(reverse("privacy:export")).content.decode()

    assert "background, usually ready within 3 minutes." in html


def test_export_page_button_asks_for_an_export(client, account, export_dir, on_commit):
    client.force_login(account)
    page = client.get(reverse("privacy:export"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Download my data" in html
    # The button says it builds (nothing downloads at once), and when.
    assert 'aria-describedby="export-how">Build my export</button>' in html
    assert "background, usually ready within a few minutes." in html

    with on_commit():
        response = client.post(reverse("privacy:export"))

    assert response.status_code == 302
    told = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert told == [
        "Your export is being built: usually ready within a few minutes. "
        "Its download link appears below when it is ready."
    ]
    assert DataExport.objects.get(user=account).status == DataExport.Status.READY


def test_export_progress_fragment_polls_until_ready(client, account, export_dir):
    client.force_login(account)
    export = services.data_export_request(user=account)
    url = reverse("privacy:export_status", args=[export.pk])

    waiting = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in waiting
    assert f'hx-get="{url}"' in waiting
    assert f'href="{url}"' in waiting
    assert "<html" not in waiting

    services.data_export_build(export_id=export.pk)
    ready = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in ready
    assert reverse("privacy:export_download", args=[export.pk]) in ready

    whole = client.get(url)
    assert "<html" in whole.content.decode()


def test_export_request_button_is_enabled_again_once_the_export_is_ready(
    client, account, export_dir
):
    client.force_login(account)
    export = services.data_export_request(user=account)
    url = reverse("privacy:export_status", args=[export.pk])
    form_tag = '<form id="export-request" method="post" action="/privacy/export/"'
    button = (
        '<button type="submit" class="button button-{} '
        'aria-describedby="export-how">Build my export'
    )

    page = client.get(reverse("privacy:export")).content.decode()
    waiting = client.get(url, headers={"HX-Request": "true"}).content.decode()
    services.data_export_build(export_id=export.pk)
    ready = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert f'{form_tag} class="form-actions">' in page
    assert button.format('primary" disabled') in page
    assert "An export is being built." in page
    assert "export-request" not in waiting
    assert ready.count(f'{form_tag} class="form-actions" hx-swap-oob="true">') == 1
    assert button.format('secondary"') in ready  # the zip is the main action now
    assert "disabled" not in ready
    assert "An export is being built." not in ready
    assert 'name="csrfmiddlewaretoken"' in ready


def test_export_download_serves_the_owner_the_zip(
    client, account, export_dir, on_commit
):
    export = build(account, on_commit)
    client.force_login(account)

    response = client.get(reverse("privacy:export_download", args=[export.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body == Path(export.file).read_bytes()
    assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None


def test_export_of_someone_else_is_404(
    client, account, stranger, export_dir, on_commit
):
    export = build(account, on_commit)
    client.force_login(stranger)

    assert (
        client.get(reverse("privacy:export_download", args=[export.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("privacy:export_status", args=[export.pk])).status_code
        == 404
    )


def test_export_download_needs_log_in(client, account, export_dir, on_commit):
    export = build(account, on_commit)

    response = client.get(reverse("privacy:export_download", args=[export.pk]))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_expired_export_link_is_404_and_the_file_is_deleted(
    client, account, export_dir, on_commit
):
    export = build(account, on_commit)
    client.force_login(account)
    url = reverse("privacy:export_download", args=[export.pk])
    DataExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert client.get(url).status_code == 404
    assert Path(export.file).is_file()
    with on_commit():
        assert tasks.exports_expire.delay().get() == 1

    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED
    assert export.file == ""
    assert list(export_dir.iterdir()) == []
    assert client.get(url).status_code == 404


def test_exports_expire_leaves_unexpired_exports(account, export_dir, on_commit):
    export = build(account, on_commit)

    assert services.exports_expire(now=export.expires_at - timedelta(seconds=1)) == 0
    assert Path(export.file).is_file()
    assert services.exports_expire(now=export.expires_at) == 1
    assert not Path(export.file).exists()


def test_erasure_deletes_the_exports_that_hold_the_data(account, export_dir, on_commit):
    export = build(account, on_commit)
    profile = account.profiles.get(name="Ada")

    with on_commit():
        services.erase_category(profile=profile, category="searches")

    export.refresh_from_db()
    assert export.status == DataExport.Status.EXPIRED
    assert export.file == ""
    assert list(export_dir.iterdir()) == []


@pytest.mark.services
def test_export_is_built_by_a_real_worker(celery_worker):
    """The whole path: request, broker, worker process, zip, ready (the worker
    writes under the run's MARQUEE_VAR_DIR, which it shares with this test)."""
    user = AccountFactory(email="worker@example.com")
    fill(ProfileFactory(user=user, name="Ada"))

    export = services.data_export_request(user=user)  # autocommit: enqueued at once

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        export.refresh_from_db()
        if export.status in (DataExport.Status.READY, DataExport.Status.FAILED):
            break
        time.sleep(0.2)
    assert export.status == DataExport.Status.READY, celery_worker.log_tail()
    assert export.row_counts["activity.Rating"] == 2
    with zipfile.ZipFile(export.file) as archive:
        assert len(json.loads(archive.read("ratings.json"))) == 2


def test_export_of_imported_accounts_works_alike(export_dir, on_commit, db):
    user = User.objects.create_user(
        email="movielens-7@example.invalid", source=User.Source.MOVIELENS
    )
    fill(ProfileFactory(user=user, name="ML 7"))

    export = build(user, on_commit)

    assert export.status == DataExport.Status.READY
    assert export.row_counts["accounts.User"] == 1
    account = json.loads(zipfile.ZipFile(export.file).read("account.json"))
    assert account[0]["source"] == "movielens"


def test_an_export_lost_on_the_way_is_failed_and_a_new_one_allowed(account, export_dir):
    lost = services.data_export_request(user=account)
    DataExport.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    for _ in range(2):
        DataExport.objects.create(user=account, status=DataExport.Status.READY)

    fresh = services.data_export_request(user=account)

    lost.refresh_from_db()
    assert fresh.pk != lost.pk
    assert (lost.status, lost.error) == ("failed", services.EXPORT_LOST)
    assert services.data_export_build(export_id=lost.pk) is None
