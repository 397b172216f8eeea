"""AWS Signature Version 4 verification of API requests, as AWS's JSON-protocol services do it.

Pure: a :class:`SignedRequest` (method, path, query, headers, body) and the configured keys in, the
verified :class:`Authorization` or an AWS-shaped error out; ``app.py`` builds the request from
Starlette's. The signing side of the algorithm is botocore's (``botocore.auth.SigV4Auth``), but
botocore is not a dependency of the server and its helpers choose the headers to sign themselves,
where a verifier must take the client's ``SignedHeaders`` as given; so the canonical form is built
here from the spec with the standard library, and the tests check it against AWS's published test
vector and against botocore as an oracle.

Decisions (docs/DESIGN.md, "Request signing"):

* any region in the credential scope is accepted: the endpoint serves one region, the secret is the
  same whatever region a client names, so checking it would only break clients configured for
  another region without adding protection;
* the scope's service must be the one the target belongs to (``states`` for AWSStepFunctions,
  ``events`` for AWSEvents), as AWS requires;
* ``X-Amz-Date`` must be within 15 minutes of the server clock (AWS's rule) and the scope's date
  must be its date;
* the payload hash is always computed from the body received, never taken from
  ``x-amz-content-sha256``: a client that declares another hash (or ``UNSIGNED-PAYLOAD``) fails the
  comparison, so the body is always covered by the signature;
* a session token (``X-Amz-Security-Token``) is refused: configured keys are long-term keys, and
  a token this server never issued cannot be valid.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping, Sequence
from urllib.parse import parse_qsl, quote

from engine.errors import (IncompleteSignature, InvalidSignature, MissingAuthenticationToken,
                           UnrecognizedClient)

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
SECURITY_TOKEN_HEADER = "x-amz-security-token"
# AWS's wording, kept verbatim: SDKs and people search for these messages
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
MISMATCH_MESSAGE = ("The request signature we calculated does not match the signature you provided. "
                    "Check your AWS Secret Access Key and signing method. "
                    "Consult the service documentation for details.")


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, as received: ``path`` and ``query`` still percent-encoded,
    ``headers`` keyed by lower-case name with every value in arrival order."""

    method: str
    path: str
    query: str
    headers: Mapping[str, Sequence[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Authorization:
    """The parts of ``Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""

    access_key: str
    date: str  # YYYYMMDD
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def parse_authorization(header: str | None) -> Authorization:
    """The Authorization header's parts; MissingAuthenticationToken when there is none (or it is not
    SigV4), IncompleteSignature when a part is missing or malformed."""
    algorithm, _, rest = (header or "").strip().partition(" ")
    if algorithm != ALGORITHM:
        raise MissingAuthenticationToken("Request is missing Authentication Token")
    parts = {}
    for item in rest.split(","):
        name, equals, value = item.strip().partition("=")
        if equals:
            parts[name] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not parts.get(name)]
    if missing:
        raise IncompleteSignature("".join(f"Authorization header requires '{name}' parameter. "
                                          for name in missing) + f"Authorization={header}")
    credential = parts["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not all(credential):
        raise IncompleteSignature(
            f"Credential should be scoped to a valid region, service and date: {parts['Credential']!r} "
            "is not 'ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request'")
    access_key, date, region, service, _ = credential
    return Authorization(access_key, date, region, service,
                         tuple(parts["SignedHeaders"].split(";")), parts["Signature"])


# --- the canonical form (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)
def _encode(text: str) -> str:
    """SigV4's URI encoding: every byte but the unreserved characters A-Z a-z 0-9 - _ . ~"""
    return quote(text, safe="-_.~")


def canonical_query(query: str) -> str:
    """Name=value pairs decoded, re-encoded the SigV4 way and sorted (by name, then value)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{name}={value}" for name, value in
                    sorted((_encode(name), _encode(value)) for name, value in pairs))


def canonical_request(request: SignedRequest, signed_headers: Sequence[str]) -> str:
    """The six lines the client hashed. The path is encoded once more as it was sent (services
    other than S3 double-encode); header values are trimmed and inner runs of spaces collapsed;
    the payload hash is the body's own (see the module notes)."""
    headers = "".join(
        f"{name}:{','.join(' '.join(value.split()) for value in request.headers.get(name, ()))}\n"
        for name in signed_headers)
    return "\n".join([
        request.method.upper(),
        quote(request.path or "/", safe="/~"),
        canonical_query(request.query),
        headers,
        ";".join(signed_headers),
        hashlib.sha256(request.body).hexdigest(),
    ])


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(canonical.encode("utf-8")).hexdigest()])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def signature(secret: str, amz_date: str, authorization: Authorization, canonical: str) -> str:
    """The hex signature of ``canonical`` under ``secret`` and the authorization's scope."""
    key = signing_key(secret, authorization.date, authorization.region, authorization.service)
    text = string_to_sign(amz_date, authorization.scope, canonical)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


# --- verification ----------------------------------------------------------------------------------
def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Verifier:
    """Checks requests against ``keys`` (access key id -> secret access key)."""

    def __init__(self, keys: Mapping[str, str], clock: Callable[[], datetime] = _utc_now):
        if not keys:
            raise ValueError("a SigV4 verifier needs at least one access key")
        self._keys = dict(keys)
        self._clock = clock

    @property
    def keys(self) -> Mapping[str, str]:
        """The access keys it accepts (the console's login checks the same pairs)."""
        return dict(self._keys)

    def verify(self, request: SignedRequest, service: str) -> Authorization:
        """The request's authorization when its signature is good for ``service``; else the AWS
        error. Checks run in AWS's order: the header's shape, the key, the scope, the clock and
        only then the signature, so a stale or misdirected request never costs an HMAC chain."""
        authorization = parse_authorization(request.header("authorization"))
        amz_date = request.header("x-amz-date")
        if amz_date is None:
            # AWS also takes a 'Date' header here; SDKs always send X-Amz-Date, so only it is read
            raise IncompleteSignature("Authorization header requires existence of an 'X-Amz-Date' "
                                      f"header. Authorization={request.header('authorization')}")
        if "host" not in authorization.signed_headers:
            raise IncompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                                      "Authorization.")
        secret = self._keys.get(authorization.access_key)
        if secret is None or request.header(SECURITY_TOKEN_HEADER) is not None:
            raise UnrecognizedClient(INVALID_TOKEN_MESSAGE)
        if authorization.service != service:
            raise InvalidSignature(f"Credential should be scoped to correct service: '{service}'. ")
        self._check_date(amz_date, authorization.date)
        expected = signature(secret, amz_date, authorization,
                             canonical_request(request, authorization.signed_headers))
        if not hmac.compare_digest(expected, authorization.signature):
            raise InvalidSignature(MISMATCH_MESSAGE)
        return authorization

    def _check_date(self, amz_date: str, scope_date: str) -> None:
        try:
            signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise IncompleteSignature(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                                      "See http://en.wikipedia.org/wiki/ISO_8601") from None
        if amz_date[:8] != scope_date:
            raise InvalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
        now = self._clock()
        stamp = lambda moment: moment.strftime(AMZ_DATE_FORMAT)  # noqa: E731
        if signed_at < now - MAX_CLOCK_SKEW:
            raise InvalidSignature(f"Signature expired: {amz_date} is now earlier than "
                                   f"{stamp(now - MAX_CLOCK_SKEW)} ({stamp(now)} - 15 min.)")
        if signed_at > now + MAX_CLOCK_SKEW:
            raise InvalidSignature(f"Signature not yet current: {amz_date} is still later than "
                                   f"{stamp(now + MAX_CLOCK_SKEW)} ({stamp(now)} + 15 min.)")
