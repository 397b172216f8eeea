"""An activity worker: polls Stepstone (or AWS) for document-review tasks and answers them.

    python definitions/activity_worker.py --endpoint http://127.0.0.1:8083 [--once]

It uses nothing but boto3: GetActivityTask long-polls up to 60 s and returns no token when no
task came; a long task sends SendTaskHeartbeat so the state's HeartbeatSeconds does not expire;
an exception becomes SendTaskFailure with the exception's class name as the error.
"""
from __future__ import annotations

import argparse
import json
import socket

import boto3
from botocore.config import Config

ACTIVITY = "document-review"


def review(document: dict, heartbeat) -> dict:
    """The work itself; calls ``heartbeat()`` between chunks of a long job."""
    heartbeat()
    verdict = "approved" if document.get("words", 0) <= 5000 else "too long"
    return {"verdict": verdict, "reviewer": socket.gethostname()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8083")
    parser.add_argument("--once", action="store_true", help="answer one task, then exit")
    args = parser.parse_args()
    sfn = boto3.client("stepfunctions", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(read_timeout=70, retries={"max_attempts": 2}))
    activity = sfn.create_activity(name=ACTIVITY)["activityArn"]  # idempotent
    while True:
        task = sfn.get_activity_task(activityArn=activity, workerName=socket.gethostname())
        token = task.get("taskToken")
        if not token:
            continue  # the long poll ended without a task
        try:
            result = review(json.loads(task["input"])["document"],
                            lambda: sfn.send_task_heartbeat(taskToken=token))
            sfn.send_task_success(taskToken=token, output=json.dumps(result))
        except Exception as error:  # noqa: BLE001 - every failure is reported to the workflow
            sfn.send_task_failure(taskToken=token, error=type(error).__name__, cause=str(error))
        if args.once:
            return


if __name__ == "__main__":
    main()
