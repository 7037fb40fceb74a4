"""The outbox's rules, with the broker replaced by a record of what was sent
(``publish``, the one call that leaves the machine), or with tasks run eagerly
in this process."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, transaction

from config.celery import app
from outbox import services
from outbox.models import OutboxMessage
from outbox.services import outbox_add, outbox_claim, outbox_relay
from recommendations import tasks
from recommendations.services import candidates

pytestmark = pytest.mark.django_db

REFRESH = "recommendations.tasks.refresh_profile"


class Broker:
    """Stands in for ``publish``: records what is sent while up."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[tuple[str, list, str]] = []

    def publish(self, message: OutboxMessage) -> bool:
        if self.up:
            self.sent.append((message.task, message.args, str(message.task_id)))
        return self.up


@pytest.fixture
def broker(monkeypatch) -> Broker:
    broker = Broker()
    monkeypatch.setattr(services, "publish", broker.publish)
    return broker


def test_the_same_refresh_asked_for_again_before_it_starts_is_one_piece_of_work(
    broker, on_commit
):
    with on_commit(), transaction.atomic():
        for profile_id in (7, 7, 8, 7):
            outbox_add(task=REFRESH, args=[profile_id], coalesce=True)

    assert sorted(OutboxMessage.objects.values_list("args", flat=True)) == [[7], [8]]
    assert sorted(args for _, args, _ in broker.sent) == [[7], [8]]


def test_a_refresh_asked_for_after_its_task_started_is_new_work(broker, on_commit):
    with on_commit():
        outbox_add(task=REFRESH, args=[7], coalesce=True)
    started = OutboxMessage.objects.get()
    assert outbox_claim(message_id=started.pk, task_id=str(started.task_id))

    with on_commit():
        outbox_add(task=REFRESH, args=[7], coalesce=True)

    assert OutboxMessage.objects.count() == 2
    assert len(broker.sent) == 2


def test_work_is_not_coalesced_unless_asked(broker, on_commit):
    with on_commit():
        outbox_add(task=tasks.model_forget, args=[[7]])
        outbox_add(task=tasks.model_forget, args=[[7]])

    assert OutboxMessage.objects.count() == 2


def test_an_unknown_task_fails_in_the_callers_transaction(broker):
    with pytest.raises(KeyError), transaction.atomic():
        outbox_add(task="recommendations.tasks.no_such_task", args=[7])

    assert not OutboxMessage.objects.exists()


def test_the_relay_sends_what_the_broker_missed_then_again_while_it_is_lost(
    broker, on_commit
):
    broker.up = False
    with on_commit():
        outbox_add(task=REFRESH, args=[7], coalesce=True)
    created = OutboxMessage.objects.get().created_at

    # The caller's own publish goes first; then the broker is still away.
    assert outbox_relay(now=created + timedelta(seconds=4)) == 0
    assert outbox_relay(now=created + timedelta(seconds=6)) == 0
    broker.up = True
    waits, now = [], created + timedelta(seconds=6)
    for _ in range(4):
        assert outbox_relay(now=now) == 1
        assert outbox_relay(now=now) == 0
        due = OutboxMessage.objects.get().relay_after
        waits.append(due - now)
        now = due

    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    # Each time a new message id: a late copy of an older message is skipped.
    ids = [task_id for _, _, task_id in broker.sent]
    assert len(set(ids)) == 4
    message = OutboxMessage.objects.get()
    assert not outbox_claim(message_id=message.pk, task_id=ids[0])
    assert outbox_claim(message_id=message.pk, task_id=ids[-1])


def test_a_task_sent_from_the_outbox_deletes_its_row_when_it_succeeds(on_commit):
    with on_commit():  # tasks run eagerly, here
        outbox_add(task=REFRESH, args=[7], coalesce=True)

    assert not OutboxMessage.objects.exists()


def test_a_copy_of_a_message_sent_again_meanwhile_is_skipped(broker, on_commit):
    with on_commit():
        outbox_add(task=REFRESH, args=[7])
    message = OutboxMessage.objects.get()
    headers = {services.HEADER: message.pk}

    tasks.refresh_profile.apply_async(
        args=[7], task_id=str(uuid.uuid4()), headers=headers
    )
    assert OutboxMessage.objects.get().started_at is None

    tasks.refresh_profile.apply_async(
        args=[7], task_id=str(message.task_id), headers=headers
    )
    assert not OutboxMessage.objects.exists()


def test_a_task_that_gives_up_on_the_database_leaves_its_row_for_the_relay(
    broker, on_commit, monkeypatch
):
    def database_away(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(candidates, "profile_refresh", database_away)
    with on_commit():
        outbox_add(task=REFRESH, args=[7])
    message = OutboxMessage.objects.get()

    # Its failure handled as on a worker, not raised here (``celery_eager``
    # restores this).
    app.conf.task_eager_propagates = False

    result = tasks.refresh_profile.apply_async(  # its last retry
        args=[7],
        task_id=str(message.task_id),
        headers={services.HEADER: message.pk},
        retries=tasks.refresh_profile.max_retries,
    )

    assert isinstance(result.result, OperationalError)

    message.refresh_from_db()
    assert message.started_at is not None
    assert outbox_relay() == 1
    assert broker.sent[-1][:2] == (REFRESH, [7])


def test_an_operator_sends_everything_waiting_at_once(broker, on_commit):
    broker.up = False
    with on_commit():
        outbox_add(task=REFRESH, args=[7], coalesce=True)
        outbox_add(task=tasks.model_forget, args=[[7]])
    broker.up = True
    out = io.StringIO()

    call_command("relay_outbox", "--all", stdout=out)

    assert sorted(task for task, _, _ in broker.sent) == [
        tasks.MODEL_FORGET_TASK,
        REFRESH,
    ]
    assert out.getvalue() == (
        "Sent 2; 2 waiting to start; 0 past 10 attempts (see the admin).\n"
    )
