"""Messages that are not tasks: the worker logs and drops them, and keeps working.

Anyone who can reach the broker can push anything onto a queue (a mistyped
``redis-cli LPUSH default hello``, another program, an old deploy). The test
pushes such messages onto the ``default`` queue of a worker on its own Redis,
then a real task after them, which must still run. (Celery itself drops a
task of an unknown name or with a body it cannot decode; Kombu's Redis
transport stopped the worker on a message that is not JSON.)
"""

import base64
import json
import uuid

import pytest

from config.celery import app

pytestmark = pytest.mark.services


def kombu_message(*, task: str, body: bytes) -> str:
    """A message as Kombu's Redis transport writes it, with ``body`` as is."""
    task_id = str(uuid.uuid4())
    return json.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {"lang": "py", "task": task, "id": task_id, "root_id": task_id},
            "properties": {
                "correlation_id": task_id,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": "default"},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    )


def test_messages_that_are_no_tasks_are_dropped_and_the_worker_keeps_working(
    own_stack,
):
    worker = own_stack.start_worker()
    queue = own_stack.redis.client()

    queue.lpush("default", "hello")  # redis-cli LPUSH default hello
    queue.lpush("default", "12345")
    queue.lpush("default", '{"task": "recommendations.tasks.refresh_profile"}')
    queue.lpush("default", kombu_message(task="celery.ping", body=b"not json{"))
    app.send_task("no.such.task", queue="default")

    # Behind them on the queue, a real task still runs.
    result = app.send_task("celery.ping", queue="default", ignore_result=False)
    assert result.get(timeout=30) == "pong"
    assert worker.process.poll() is None
    logged = worker.log()
    assert "Dropped a broker message that is not JSON: 'hello'" in logged
    assert logged.count("that is not a Kombu message") == 2
    assert "Can't decode message body" in logged
    assert "Received unregistered task of type 'no.such.task'" in logged
