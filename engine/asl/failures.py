"""ASL failures: errors as values that flow through Retry and Catch.

An evaluation that fails inside the interpreter raises :class:`Failure`; the interpreter
catches it at the state boundary and turns it into data (``error`` and ``cause``) that Retry
and Catch match on. It never escapes :mod:`engine.asl`.
"""
from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
PERMISSIONS = "States.Permissions"


class Failure(Exception):
    """A States error raised while evaluating a state: ``error`` name and ``cause`` text."""

    def __init__(self, error: str, cause: str | None = None, location: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        # the field that failed to evaluate ("Output/result"), for the EvaluationFailed event
        self.location = location

    def as_dict(self) -> dict:
        out = {"Error": self.error}
        if self.cause is not None:
            out["Cause"] = self.cause
        return out
