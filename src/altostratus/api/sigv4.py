"""Verifying AWS request signatures: SigV4 (headers and presigned URLs) and S3's legacy SigV2."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from altostratus.api.signing import (
    ALGORITHM,
    EMPTY_SHA256,
    canonical_request,
    derive_signing_key,
    same_digest,
    sign_v4,
    v2_paths,
    v2_signature,
    v2_string_to_sign,
)
from altostratus.auth.keys import AccessKey
from altostratus.core.errors import (
    AltoError,
    AuthError,
    BadRequest,
    InvalidAccessKeyId,
    InvalidArgument,
    MissingAuthentication,
    RequestExpired,
    RequestTimeTooSkewed,
    SignatureDoesNotMatch,
)

UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


class AuthorizationHeaderMalformed(BadRequest):
    """The authorization header is malformed."""

    code = "AuthorizationHeaderMalformed"


class AuthorizationQueryParametersError(BadRequest):
    """The query-string authentication parameters are malformed."""

    code = "AuthorizationQueryParametersError"


class ExpiresOutOfRange(AuthorizationQueryParametersError):
    """A presigned URL's X-Amz-Expires is not a number of seconds from 1 to a week (S3 answers 403)."""

    status = 403


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    """The parts of an HTTP request that a signature covers."""

    method: str
    raw_path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class Credential:
    """Who signed, and for which date, region and service."""

    access_key_id: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        """The credential scope string."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclasses.dataclass(frozen=True)
class Verified:
    """A verified request: the key that signed it, and how its payload is to be checked."""

    key: AccessKey
    payload_hash: str
    signing_key: bytes = b""
    credential: Credential | None = None
    amz_date: str = ""
    seed_signature: str = ""


class Scheme(enum.Enum):
    """How a request is signed."""

    V4_HEADER = "AWS4-HMAC-SHA256 Authorization header"
    V4_QUERY = "AWS4-HMAC-SHA256 presigned URL"
    V2 = "SigV2 (S3)"


@dataclasses.dataclass(frozen=True)
class Credentialed:
    """A request whose credentials hold (the key exists, the scope is well-formed, the date is in range).

    Its signature is checked apart (`Verifier.verify_signature`), once the body's hash is known for services
    that sign the body itself: so a request with no valid credentials is refused before its body is read.
    """

    request: HttpRequest
    key: AccessKey
    scheme: Scheme
    given_signature: str
    credential: Credential | None = None
    amz_date: str = ""
    signed_headers: tuple[str, ...] = ()
    # x-amz-content-sha256 (header) or X-Amz-Content-Sha256 (query); "" when the client sent none.
    declared_payload: str = ""
    v2_date: str = ""

    @property
    def service(self) -> str:
        """The signing service ("s3" for SigV2)."""
        return self.credential.service if self.credential else "s3"


class AmbiguousCredentials(InvalidArgument):
    """The request carries more than one set of credentials."""


def scheme(req: HttpRequest) -> Scheme | None:
    """How the request is signed (None: it is not); AmbiguousCredentials when it carries two kinds at once.

    Every reading of a request's credentials goes through here, so the key the gateway holds a request to and the
    key its signature is checked with are always the same one (a SigV2 header beside a stray X-Amz-Credential in
    the query could otherwise claim one key and be verified with another).
    """
    auth = req.headers.get("authorization", "")
    decoded = _decoded(req)
    found = []
    if auth.startswith(ALGORITHM):
        found.append(Scheme.V4_HEADER)
    elif auth.startswith("AWS "):
        found.append(Scheme.V2)
    if {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"} & decoded.keys():
        found.append(Scheme.V4_QUERY)
    if {"AWSAccessKeyId", "Signature"} & decoded.keys():
        found.append(Scheme.V2)
    if len(found) > 1:
        raise AmbiguousCredentials(
            f"The request carries credentials in more than one way ({', '.join(s.value for s in found)}); "
            "sign it one way only"
        )
    return found[0] if found else None


def signing_service(req: HttpRequest) -> str | None:
    """The service the request was signed for, read from the credential scope (None if unsigned)."""
    kind = scheme(req)
    if kind is Scheme.V2:
        return "s3"
    credential = _credential_text(req) if kind is not None else None
    if credential is not None:
        parts = credential.split("/")
        return parts[3] if len(parts) == 5 else None
    return None


def access_key_id(req: HttpRequest) -> str | None:
    """The access key id a request claims to be signed with (any signature kind), or None if it is unsigned."""
    kind = scheme(req)
    if kind is Scheme.V2:
        auth = req.headers.get("authorization", "")
        return auth[4:].partition(":")[0] if auth.startswith("AWS ") else _query(req, "AWSAccessKeyId")
    credential = _credential_text(req) if kind is not None else None
    return None if credential is None else credential.split("/", 1)[0]


class Verifier:
    """Checks signatures against the server's keys; `lookup` returns the key for an access key id."""

    def __init__(self, lookup: Callable[[str], AccessKey | None], *, max_skew: dt.timedelta) -> None:
        self._lookup = lookup
        self._max_skew = max_skew

    def _key(self, access_key_id: str) -> AccessKey:
        key = self._lookup(access_key_id)
        if key is None:
            raise InvalidAccessKeyId(
                f"The AWS Access Key Id you provided does not exist in our records: {access_key_id!r}"
            )
        return key

    def key(self, access_key_id: str) -> AccessKey:
        """The key of this id (one a request names inside its body: a form's policy); InvalidAccessKeyId if none."""
        return self._key(access_key_id)

    def verify(self, req: HttpRequest, now: dt.datetime, body_sha256: str | None = None) -> Verified:
        """The verified identity of the request (credentials, then signature); an AuthError otherwise."""
        return self.verify_signature(self.check(req, now), body_sha256)

    def check(self, req: HttpRequest, now: dt.datetime) -> Credentialed:
        """The request's credentials checked, its signature not yet; an AuthError naming what is wrong otherwise."""
        auth = req.headers.get("authorization", "")
        kind = scheme(req)
        if kind is Scheme.V4_HEADER:
            return self._check_v4_header(req, auth, now)
        if kind is Scheme.V4_QUERY:
            return self._check_v4_query(req, now)
        if kind is Scheme.V2:
            return self._check_v2(req, auth, now)
        if auth:
            raise InvalidArgument(
                f"Authorization={auth.partition(' ')[0]!r} is an unsupported authorization type; "
                f"expected {ALGORITHM} or AWS (SigV2)"
            )
        raise MissingAuthentication("Request has no credentials: sign it with an access key (see `alto keys create`)")

    def verify_signature(self, checked: Credentialed, body_sha256: str | None = None) -> Verified:
        """The checked request's signature verified; body_sha256 is required for every service but S3."""
        if checked.scheme is Scheme.V2:
            return self._verify_v2(checked)
        credential = checked.credential
        assert credential is not None
        query = checked.scheme is Scheme.V4_QUERY
        payload = _payload_hash(checked, body_sha256, UNSIGNED if query else body_sha256 or EMPTY_SHA256)
        exclude = ("X-Amz-Signature",) if query else ()
        signing_key = derive_signing_key(checked.key.secret_access_key, credential)
        readings = [checked.request, *filter(None, [_utf8_reading(checked.request, checked.signed_headers)])]
        canonicals = [
            canonical_request(req, checked.signed_headers, payload, credential.service, exclude_query=exclude)
            for req in readings
        ]
        signed = (sign_v4(signing_key, checked.amz_date, credential, canonical) for canonical in canonicals)
        if not any(same_digest(signature, checked.given_signature) for signature in signed):
            raise SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."
            )
        if query:
            # A presigned URL has no seed signature to chain aws-chunked chunks from; a hash it names is checked.
            return Verified(checked.key, payload if len(payload) == 64 else UNSIGNED)
        return Verified(checked.key, payload, signing_key, credential, checked.amz_date, checked.given_signature)

    def _check_v4_header(self, req: HttpRequest, auth: str, now: dt.datetime) -> Credentialed:
        fields = _auth_fields(auth[len(ALGORITHM) :])
        missing = [f for f in ("Credential", "SignedHeaders", "Signature") if f not in fields]
        if missing:
            raise AuthorizationHeaderMalformed(f"The authorization header is malformed; it is missing {missing}")
        credential = _parse_credential(fields["Credential"], AuthorizationHeaderMalformed)
        amz_date = req.headers.get("x-amz-date") or _http_date_to_amz(req.headers.get("date", ""))
        when = _parse_amz_date(amz_date)
        _check_scope_date(
            credential, amz_date, "X-Amz-Date" if "x-amz-date" in req.headers else "Date", AuthorizationHeaderMalformed
        )
        if abs(now - when) > self._max_skew:
            raise RequestTimeTooSkewed(
                f"The difference between the request time ({amz_date}) and the server's time "
                f"({now:%Y%m%dT%H%M%SZ}) is larger than {int(self._max_skew.total_seconds())} seconds"
            )
        return Credentialed(
            req,
            self._key(credential.access_key_id),
            Scheme.V4_HEADER,
            fields["Signature"],
            credential,
            amz_date,
            tuple(fields["SignedHeaders"].split(";")),
            req.headers.get("x-amz-content-sha256", ""),
        )

    def _check_v4_query(self, req: HttpRequest, now: dt.datetime) -> Credentialed:
        params = _decoded(req)
        missing = [
            p for p in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature") if p not in params
        ]
        if missing:
            raise AuthorizationQueryParametersError(f"Query-string authentication requires the parameters {missing}")
        if params.get("X-Amz-Algorithm") != ALGORITHM:
            raise AuthorizationQueryParametersError(
                f"X-Amz-Algorithm={params.get('X-Amz-Algorithm')!r}; expected {ALGORITHM!r}"
            )
        malformed = AuthorizationQueryParametersError
        credential = _parse_credential(params["X-Amz-Credential"], malformed)
        when = _parse_amz_date(params["X-Amz-Date"], malformed)
        _check_scope_date(credential, params["X-Amz-Date"], "X-Amz-Date", malformed)
        expires = _presign_seconds(params.get("X-Amz-Expires", "900"))
        if now - when > dt.timedelta(seconds=expires):
            raise RequestExpired("Request has expired")
        if when - now > self._max_skew:
            raise RequestTimeTooSkewed("The presigned request's date lies in the future")
        return Credentialed(
            req,
            self._key(credential.access_key_id),
            Scheme.V4_QUERY,
            params["X-Amz-Signature"],
            credential,
            params["X-Amz-Date"],
            tuple(params["X-Amz-SignedHeaders"].split(";")),
            params.get("X-Amz-Content-Sha256", ""),
        )

    def _check_v2(self, req: HttpRequest, auth: str, now: dt.datetime) -> Credentialed:
        params = _decoded(req)
        if auth.startswith("AWS "):
            access_key_id, _, given = auth[4:].partition(":")
            date = req.headers.get("x-amz-date") or req.headers.get("date", "")
            try:
                when = _parse_http_date(date)
            except ValueError:
                raise AuthError(f"Date={date!r} is not an HTTP date") from None
            if abs(now - when) > self._max_skew:
                raise RequestTimeTooSkewed("The difference between the request time and the server's time is too large")
            if "x-amz-date" in req.headers:
                date = ""
        else:
            access_key_id = params.get("AWSAccessKeyId", "")
            given = params.get("Signature", "")
            date = params.get("Expires", "")
            expires = _int_param(date, "Expires")
            if now.timestamp() > expires:
                raise RequestExpired("Request has expired")
            # As X-Amz-Expires for SigV4: at most a week ahead (with the clock skew allowed between the two machines).
            ahead = expires - now.timestamp()
            if ahead > MAX_PRESIGN_SECONDS + self._max_skew.total_seconds():
                raise ExpiresOutOfRange(
                    f"Expires={expires} lies {int(ahead)} seconds ahead; a presigned URL may be valid for at most "
                    f"{MAX_PRESIGN_SECONDS} seconds (7 days)"
                )
        return Credentialed(req, self._key(access_key_id), Scheme.V2, given, v2_date=date)

    def _verify_v2(self, checked: Credentialed) -> Verified:
        req = checked.request
        expected = [
            v2_signature(checked.key.secret_access_key, v2_string_to_sign(req, checked.v2_date, path))
            for path in v2_paths(req.raw_path or "/")
        ]
        if not any(same_digest(e, checked.given_signature) for e in expected):
            raise SignatureDoesNotMatch(
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method."
            )
        return Verified(checked.key, UNSIGNED)


def _utf8_reading(req: HttpRequest, signed_headers: Sequence[str]) -> HttpRequest | None:
    """The request with its signed header values read as the UTF-8 bytes they arrived as, if any is not ASCII.

    HTTP hands header values over as Latin-1 text. A client that sent UTF-8 bytes (the Java and Go SDKs, for
    non-ASCII user metadata) signed the text those bytes spell; one that sent Latin-1 signed the Latin-1 text.
    Both are signatures over the bytes the client meant, so either reading may verify.
    """
    if all(req.headers.get(name, "").isascii() for name in signed_headers):
        return None
    try:
        headers = {name: value.encode("latin-1").decode("utf-8") for name, value in req.headers.items()}
    except UnicodeError:
        return None
    return dataclasses.replace(req, headers=headers)


def _payload_hash(checked: Credentialed, body_sha256: str | None, s3_default: str) -> str:
    """The payload hash the signature covers.

    S3 takes the one the client declares (x-amz-content-sha256, UNSIGNED-PAYLOAD, STREAMING-...) and checks the
    body against it as it streams. Every other service signs the body itself: the hash is the one of the body
    received, and a declared one that differs is refused (it could only have been put there to pass a
    signature made over another body).
    """
    if checked.service == "s3":
        return checked.declared_payload or s3_default
    if checked.declared_payload == UNSIGNED and _unsigned_body_allowed(checked):
        return UNSIGNED
    if body_sha256 is None:
        raise ValueError(f"a {checked.service} request's signature covers its body: pass the body's SHA-256")
    declared = checked.declared_payload
    if declared and not same_digest(body_sha256, declared.lower()):
        raise SignatureDoesNotMatch(
            f"x-amz-content-sha256={declared!r} is not the SHA-256 of the body received ({body_sha256}); "
            f"a {checked.service} request's signature covers the body itself"
        )
    return body_sha256


def _unsigned_body_allowed(checked: Credentialed) -> bool:
    """Whether the operation is one AWS signs without its body (botocore's authtype v4-unsigned-body).

    Lex's RecognizeUtterance is the one served: its audio streams, so the SDKs sign its headers only. The
    signature still covers the method, path, query and every signed header, the session state among them.
    """
    path = (checked.request.raw_path or "").split("?", 1)[0]
    return checked.service == "lex" and checked.request.method == "POST" and path.endswith("/utterance")


def _check_scope_date(credential: Credential, amz_date: str, source: str, malformed: type[AltoError]) -> None:
    if credential.date != amz_date[:8]:
        raise malformed(
            f"Invalid credential date {credential.date!r}: it is not the date of {source}={amz_date!r}; "
            "the credential scope must name the day the request was signed"
        )


def _credential_text(req: HttpRequest) -> str | None:
    auth = req.headers.get("authorization", "")
    if auth.startswith(ALGORITHM):
        return _auth_fields(auth[len(ALGORITHM) :]).get("Credential")
    return _query(req, "X-Amz-Credential")


def _query(req: HttpRequest, name: str) -> str | None:
    return _decoded(req).get(name)


def _decoded(req: HttpRequest) -> dict[str, str]:
    return {unquote(k): unquote(v) for k, v in req.query}


def _auth_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    return fields


def _parse_credential(text: str, malformed: type[AltoError]) -> Credential:
    parts = text.split("/")
    well_formed = len(parts) == 5 and parts[4] == "aws4_request" and all(parts)
    if not well_formed or len(parts[1]) != 8 or not parts[1].isdigit():
        raise malformed(
            f"Credential={text!r} is malformed; expected <key id>/<YYYYMMDD>/<region>/<service>/aws4_request"
        )
    return Credential(parts[0], parts[1], parts[2], parts[3])


def _parse_amz_date(text: str, malformed: type[AltoError] = AuthError) -> dt.datetime:
    # Sliced by hand: strptime costs more than the rest of signature checking on small requests.
    try:
        if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
            raise ValueError(text)
        return dt.datetime(
            int(text[:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[9:11]),
            int(text[11:13]),
            int(text[13:15]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        raise malformed(f"X-Amz-Date={text!r} is not a date of the form YYYYMMDDTHHMMSSZ") from None


def _parse_http_date(text: str) -> dt.datetime:
    """The date in UTC; ValueError for anything that is not an HTTP date (years past 9999 included)."""
    try:
        when = parsedate_to_datetime(text)
        return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except (TypeError, OverflowError) as error:
        raise ValueError(f"{text!r} is not an HTTP date") from error


def _http_date_to_amz(text: str) -> str:
    if not text:
        raise AuthError("The request carries neither X-Amz-Date nor Date")
    try:
        return _parse_http_date(text).strftime("%Y%m%dT%H%M%SZ")
    except ValueError:
        raise AuthError(f"Date={text!r} is not an HTTP date") from None


def _presign_seconds(text: str) -> int:
    """X-Amz-Expires, checked with S3's messages: a whole number of seconds from 1 to 604,800 (a week)."""
    if re.fullmatch(r"-?[0-9]{1,18}", text) is None:
        raise ExpiresOutOfRange(f"X-Amz-Expires={text!r}: X-Amz-Expires should be a number")
    seconds = int(text)
    if seconds < 0:
        raise ExpiresOutOfRange(f"X-Amz-Expires={text!r}: X-Amz-Expires must be non-negative")
    if seconds == 0:
        raise ExpiresOutOfRange(f"X-Amz-Expires={text!r}: X-Amz-Expires must be at least 1 second")
    if seconds > MAX_PRESIGN_SECONDS:
        raise ExpiresOutOfRange(
            f"X-Amz-Expires={text!r}: X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_SECONDS}"
        )
    return seconds


def _int_param(text: str, name: str, malformed: type[AltoError] = AuthError) -> int:
    try:
        return int(text)
    except ValueError:
        raise malformed(f"{name}={text!r} is not a whole number") from None
