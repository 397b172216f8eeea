"""The exception tree of Stepstone.

Two kinds of error are never mixed (see ``docs/DESIGN.md``): ASL failures such as
``States.Runtime`` are *values* that flow through Retry and Catch
(:class:`engine.asl.failures.Failure`); the Python exceptions below are for engine and API
errors. Each API error carries its AWS error code and HTTP status, and its message names the
object and the remedy::

    StepstoneError
    +-- DefinitionError             a definition that cannot be loaded or is invalid
    +-- MockConfigError             a mock configuration (``--mock-config``) that cannot be used
    +-- ApiError                    AWS-shaped errors: ``code`` and ``status``
    |   +-- InvalidDefinition, InvalidArn, InvalidName, InvalidExecutionInput,
    |   |   InvalidToken, InvalidOutput, ValidationException, ...
    |   +-- StateMachineDoesNotExist, ExecutionDoesNotExist, ActivityDoesNotExist, TaskDoesNotExist
    |   +-- StateMachineAlreadyExists, ExecutionAlreadyExists, ExecutionLimitExceeded,
    |   |   StateMachineTypeNotSupported, TaskTimedOut, ...
    |   +-- EventBridge: InvalidEventPattern, ResourceNotFoundException,
    |   |   ResourceAlreadyExistsException, LimitExceededException
    |   +-- request signing (SigV4): MissingAuthenticationToken, IncompleteSignature,
    |       UnrecognizedClient, InvalidSignature
    +-- StoreError                  a database problem the caller cannot fix by changing input
        +-- ConflictError           a guarded update matched no row: someone else won
"""
from __future__ import annotations


class StepstoneError(Exception):
    """Root of every exception Stepstone raises on purpose."""


class DefinitionError(StepstoneError):
    """A definition that cannot be loaded or validated; ``diagnostics`` lists every problem."""

    def __init__(self, message: str, diagnostics: list | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


class MockConfigError(StepstoneError):
    """A mock configuration file that cannot be used: ``FILE:LINE: <json-path>: <problem>``.

    ``path`` is the JSON path of the offending value in the file, ``parts`` the same as keys.
    """

    def __init__(self, problem: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None, parts: tuple = ()):
        self.problem, self.file, self.line, self.path, self.parts = problem, file, line, path, parts
        where = "".join([file or "", f":{line}" if file and line else "", ": " if file else "",
                         f"{path}: " if path else ""])
        super().__init__(where + problem)


class StoreError(StepstoneError):
    """A database problem."""


class ConflictError(StoreError):
    """A guarded update matched no row: another worker changed the row first."""


class ApiError(StepstoneError):
    """An error with an AWS error code (``__type`` on the wire) and an HTTP status."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _api_error(name: str, status: int = 400, doc: str = "") -> type[ApiError]:
    return type(name, (ApiError,), {"code": name, "status": status, "__doc__": doc or name})


InvalidDefinition = _api_error("InvalidDefinition")
InvalidArn = _api_error("InvalidArn")
InvalidName = _api_error("InvalidName")
InvalidExecutionInput = _api_error("InvalidExecutionInput")
InvalidOutput = _api_error("InvalidOutput")
InvalidToken = _api_error("InvalidToken")
InvalidLoggingConfiguration = _api_error("InvalidLoggingConfiguration")
ValidationException = _api_error("ValidationException")
MissingRequiredParameter = _api_error("MissingRequiredParameter")
StateMachineDoesNotExist = _api_error("StateMachineDoesNotExist")
StateMachineDeleting = _api_error("StateMachineDeleting")
StateMachineAlreadyExists = _api_error("StateMachineAlreadyExists")
StateMachineTypeNotSupported = _api_error("StateMachineTypeNotSupported")
ExecutionDoesNotExist = _api_error("ExecutionDoesNotExist")
ExecutionAlreadyExists = _api_error("ExecutionAlreadyExists")
ExecutionNotRedrivable = _api_error("ExecutionNotRedrivable")
ExecutionLimitExceeded = _api_error("ExecutionLimitExceeded")
ActivityDoesNotExist = _api_error("ActivityDoesNotExist")
TaskDoesNotExist = _api_error("TaskDoesNotExist")
TaskTimedOut = _api_error("TaskTimedOut")
ResourceNotFound = _api_error("ResourceNotFound")
UnknownOperation = _api_error("UnknownOperationException")
# EventBridge (AWSEvents.*)
InvalidEventPattern = type("InvalidEventPattern", (ApiError,), {
    "code": "InvalidEventPatternException", "status": 400, "__doc__": "A rule's event pattern AWS refuses"})
ResourceNotFoundException = _api_error("ResourceNotFoundException")
ResourceAlreadyExistsException = _api_error("ResourceAlreadyExistsException")
LimitExceededException = _api_error("LimitExceededException")
InternalFailure = _api_error("InternalFailure", 500)
# Request signing (engine/api/sigv4.py): the codes AWS's JSON-protocol services answer with, all 400
MissingAuthenticationToken = _api_error("MissingAuthenticationTokenException", doc="No Authorization header")
IncompleteSignature = _api_error("IncompleteSignatureException", doc="A malformed Authorization header")
UnrecognizedClient = _api_error("UnrecognizedClientException", doc="An unknown access key or a session token")
InvalidSignature = _api_error("InvalidSignatureException", doc="A wrong signature, scope or clock")
