"""How each identity's requests carry its credentials, and how an identity obtains them.

An `Auth` provider per identity (in the manner of Schemathesis's auth providers): `credentials()` gives
the headers to add to a request now, `start` obtains them before the run, `refresh` obtains them again
after a 401. Two kinds:

- `Identity`: one static header line (`--identity alice="Authorization: Bearer …"`).
- `Login`: a register and/or login request on the target (JSON or form body, with a CSRF token fetched
  from the form page when asked), the token read from the answer (a JSON pointer, a `Set-Cookie` cookie,
  a header) and sent back as a bearer header, a cookie or a custom header, or the whole session cookie jar.

Every secret an identity holds or obtains (its header, passwords, tokens, session cookies, CSRF tokens)
is given to the redactor before any answer carrying it is recorded. An identity also learns its own id
as the API names it (from the login or registration answer, or a `/me`-like operation), so that owner
path segments and owner fields can be set to another identity's id.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plumbline.probe.encoders import FORM, JSON, MULTIPART, json_of, pointer
from plumbline.probe.origin import template_problem

if TYPE_CHECKING:
    import httpx

    from plumbline.probe.http import Http

ANONYMOUS = "<anonymous>"
GARBAGE = "<garbage-token>"
NOBODY = "<nobody>"  # requests sent without credentials because the operation needs none
IDENTITY_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
HEADER_VALUE = re.compile(r"[\x20-\x7e\t]{1,8192}")
AUTH_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")  # an HTTP authentication scheme: a token (RFC 9110)
# Headers that frame or route the request: an identity cannot set them.
FRAMING_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "keep-alive",
                   "trailer", "expect", "content-encoding"}
CSRF_NAME = re.compile(r"csrf|xsrf|authenticity_token", re.I)
SECRET_FIELD = re.compile(r"pass|secret|token|key|pin", re.I)  # body fields of a login whose values are secrets
JWT = re.compile(r"\beyJ[\w-]{2,2000}\.[\w-]{2,8000}\.[\w-]{0,2000}")  # a JSON header always starts `eyJ`
JWT_ID_CLAIMS = ("sub", "user_id", "userId", "uid", "identity", "id")
ID_POINTERS = ("/id", "/user_id", "/userId", "/user/id", "/data/id", "/data/user/id")  # tried when none is given
MAX_PAGE_CHARACTERS = 1_000_000  # of a login form page searched for its CSRF token
USELESS_REFRESHES = 3  # re-logins in a row after which a 401 still came: a 401 that is not about expiry


class AuthError(Exception):
    """An identity could not obtain its credentials; the message names the identity and the step, never a secret."""


class Auth:
    """The credentials of one identity: what to add to each request, how to obtain and renew them."""

    name: str
    header: str  # the header the credentials travel in (a reproducer takes its value from the environment)
    user_id: Any = None  # the identity's own id as the API names it, once known

    def credentials(self) -> dict[str, str]:
        return {}

    def claimed_id(self) -> Any:
        """The id a JWT among the credentials names (`sub`, `user_id`, `identity`...), read without verifying
        it: many APIs say who the caller is only inside the token."""
        for value in self.credentials().values():
            for token in JWT.findall(value):
                claims = _jwt_claims(token)
                found = next((claims[k] for k in JWT_ID_CLAIMS if _is_id(claims.get(k))), None)
                if found is not None:
                    return found
        return None

    def body_fields(self) -> dict[str, str]:
        """Fields whose value a request body takes from this identity (a form's CSRF token), by name."""
        return {}

    def secrets(self) -> list[str]:
        """The secrets known before the run (the redactor learns the obtained ones as they arrive)."""
        return []

    def start(self, http: Http) -> None:
        """Obtain the credentials; AuthError when the target refuses."""

    def refresh(self, http: Http) -> bool:
        """After a 401: obtain the credentials again; True when the request may be retried."""
        return False

    def refreshed(self, still_refused: bool) -> None:
        """What the request retried after `refresh` answered: still a 401, or not."""


@dataclass(frozen=True)
class Identity(Auth):
    """An identity given as one static header line."""

    name: str
    header: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        """`alice=Authorization: Bearer xyz` (the value after the first '=' is one header line).

        Errors name the identity and the header, never the value: it is a secret."""
        name, sep, line = text.partition("=")
        header, colon, value = line.partition(":")
        name, header, value = name.strip(), header.strip(), value.strip()
        if not sep or not colon or not name or not header or not value:
            shown = f"{name!r}=…" if sep else "no '='"
            raise ValueError(f"expected NAME=HEADER: VALUE such as alice=\"Authorization: Bearer …\", got {shown}")
        check_name(name)
        check_header(header, f"identity {name}")
        if not HEADER_VALUE.fullmatch(value):
            raise ValueError(f"identity {name}: the {header} value must be printable ASCII, at most 8192 characters")
        return cls(name, header, value)

    def credentials(self) -> dict[str, str]:
        return {self.header: self.value}

    def secrets(self) -> list[str]:
        return [self.value]


def check_name(name: str) -> str:
    if name in (ANONYMOUS, GARBAGE, NOBODY) or not IDENTITY_NAME.fullmatch(name):
        raise ValueError(f"identity name {name!r}: use 1 to 64 letters, digits, '_' or '-'")
    return name


def check_header(header: str, owner: str) -> str:
    if not HEADER_NAME.fullmatch(header):
        raise ValueError(f"{owner}: {header[:80]!r} is not a valid header name")
    if header.lower() in FRAMING_HEADERS:
        raise ValueError(f"{owner}: the {header} header cannot carry credentials")
    return header


# ---- how a login is described (validated from the config file) -----------------------------------------


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Csrf(ConfigModel):
    """Where a CSRF token is found before a step, and where it goes back."""

    page: str | None = None  # fetched first (GET); default: the step's own path
    field: str | None = None  # the form field that carries it; default: the first hidden input named like csrf
    cookie: str | None = None  # take it from this cookie of the page's answer instead of the page's HTML
    header: str | None = None  # also send it in this header, on the step and on every later request

    @field_validator("page")
    @classmethod
    def _on_target(cls, path: str | None) -> str | None:
        return _path(path)

    @field_validator("header")
    @classmethod
    def _header(cls, header: str | None) -> str | None:
        return None if header is None else check_header(header, "csrf.header")

    @model_validator(mode="after")
    def _sent_back(self) -> Csrf:
        if self.cookie and not (self.field or self.header):
            raise ValueError("a CSRF token taken from a cookie needs `field` or `header` to be sent back")
        return self


Scalar = str | int | float | bool | None


class Step(ConfigModel):
    """One request of a login flow: registration or login."""

    path: str
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    encoding: Literal["json", "form", "multipart"] = "json"
    body: dict[str, Scalar | dict[str, Any] | list[Any]] = Field(default_factory=dict)
    csrf: Csrf | None = None

    @field_validator("path")
    @classmethod
    def _on_target(cls, path: str) -> str:
        return _path(path)

    @model_validator(mode="after")
    def _flat_unless_json(self) -> Step:
        """A JSON body may nest (`{"user": {"email": ...}}`); a form's fields are text."""
        nested = next((key for key, value in self.body.items() if isinstance(value, (dict, list))), None)
        if nested is not None and self.encoding != "json":
            raise ValueError(f"body.{nested}: a {self.encoding} body is flat (only a JSON body may nest)")
        return self

    @property
    def media_type(self) -> str:
        return {"json": JSON, "form": FORM, "multipart": MULTIPART}[self.encoding]


class TokenAt(ConfigModel):
    """Where the token is in the answer of the login (or of the registration when there is no login)."""

    pointer: str | None = Field(None, alias="json")  # a JSON pointer into the body: /access_token
    cookie: str | None = None  # the name of a cookie the answer sets
    header: str | None = None  # the name of a header of the answer

    @model_validator(mode="after")
    def _one_place(self) -> TokenAt:
        given = [name for name in ("pointer", "cookie", "header") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("give exactly one of `json` (a JSON pointer), `cookie` or `header`")
        if self.pointer is not None and not self.pointer.startswith("/"):
            raise ValueError("`json` is a JSON pointer such as /access_token")
        return self


class SendAs(ConfigModel):
    """How the token goes back: `Authorization: Bearer` (or another scheme: `Token`, `JWT`), a custom header,
    or a cookie (by default the whole session cookie jar the login left)."""

    kind: Literal["bearer", "header", "cookie"] = Field("bearer", alias="as")
    name: str | None = None  # the header's name, or the cookie's
    scheme: str = "Bearer"  # with `as = "bearer"`: the word before the token in `Authorization: <scheme> <token>`

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, scheme: str) -> str:
        if not AUTH_SCHEME.fullmatch(scheme):
            raise ValueError("`scheme` is one word such as Bearer or Token (an HTTP token: no blank)")
        return scheme

    @model_validator(mode="after")
    def _named(self) -> SendAs:
        if self.kind == "header":
            if not self.name:
                raise ValueError("`as = \"header\"` needs the header's `name`")
            check_header(self.name, "send.name")
        return self


class LoginSpec(ConfigModel):
    """How an identity obtains its credentials and learns its own id."""

    registration: Step | None = Field(None, alias="register")
    login: Step | None = None
    token: TokenAt | None = None
    send: SendAs = Field(default_factory=SendAs)
    id_pointer: str | None = Field(None, alias="id")  # a JSON pointer to the identity's id in the answers
    me: str | None = None  # a path (GET, with the credentials) whose answer names the identity

    @field_validator("me")
    @classmethod
    def _on_target(cls, path: str | None) -> str | None:
        return _path(path)

    @model_validator(mode="after")
    def _complete(self) -> LoginSpec:
        if not (self.registration or self.login):
            raise ValueError("an identity needs `header`, or `login` and/or `register`")
        if self.token is None and self.send.kind != "cookie":
            raise ValueError("say where the token is (`token`), or send the session cookies (`send = {as = "
                             "\"cookie\"}`)")
        if self.id_pointer is not None and not self.id_pointer.startswith("/"):
            raise ValueError("`id` is a JSON pointer such as /user/id")
        return self


def _path(path: str | None) -> str | None:
    problem = None if path is None else template_problem(path)
    if problem:
        raise ValueError(f"{problem} (a path on the target, such as /login)")
    return path


# ---- logging in ----------------------------------------------------------------------------------------


@dataclass
class Login(Auth):
    """An identity that registers and/or logs in on the target, and logs in again when a request answers 401."""

    name: str
    spec: LoginSpec
    known_secrets: list[str] = field(default_factory=list)  # passwords and the like, from the configuration
    user_id: Any = None
    _token: str | None = None
    _csrf: str | None = None
    _csrf_field: str | None = None  # the form field the CSRF token was found in
    _http: Http | None = None
    _useless_refreshes: int = 0

    @property
    def header(self) -> str:  # type: ignore[override]
        send = self.spec.send
        return {"bearer": "Authorization", "cookie": "Cookie"}.get(send.kind) or send.name or "Authorization"

    def secrets(self) -> list[str]:
        return list(self.known_secrets)

    def credentials(self) -> dict[str, str]:
        headers = {}
        if self._csrf and self._csrf_header:
            headers[self._csrf_header] = self._csrf
        send = self.spec.send
        if send.kind == "cookie" and self.spec.token is None:
            jar = self._http.cookies(self.name) if self._http else {}
            for value in jar.values():
                self._secret(value)
            if jar:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        elif self._token is not None:
            if send.kind == "bearer":
                headers["Authorization"] = f"{send.scheme} {self._token}"
            elif send.kind == "cookie":
                headers["Cookie"] = f"{send.name or self.spec.token.cookie or 'session'}={self._token}"
            else:
                headers[send.name] = self._token
        return headers

    def body_fields(self) -> dict[str, str]:
        """The CSRF token under its form field, once known."""
        step = self.spec.login or self.spec.registration
        name = step.csrf.field if step.csrf and step.csrf.field else self._csrf_field
        return {name: self._csrf} if self._csrf and name else {}

    @property
    def _csrf_header(self) -> str | None:
        step = self.spec.login or self.spec.registration
        return step.csrf.header if step and step.csrf else None

    def start(self, http: Http) -> None:
        self._http = http
        answers = []
        if self.spec.registration:  # a registration refused (the user exists from an earlier run) may still log in
            registered = self._step(http, self.spec.registration, "registration", required=self.spec.login is None)
            answers.append(registered)
            if self.spec.login is None:
                self._take_token(registered, "registration")
        if self.spec.login:
            answers.append(self._log_in(http))
        self.user_id = self._id_from(answers) if self.user_id is None else self.user_id
        if self.spec.me:
            self._ask_me(http)

    def refresh(self, http: Http) -> bool:
        """Log in again (with a fresh cookie jar) unless re-logins have not helped lately."""
        if self.spec.login is None or self._useless_refreshes >= USELESS_REFRESHES:
            return False
        self._useless_refreshes += 1
        http.clear_cookies(self.name)
        self._token = self._csrf = None
        self._log_in(http)
        return True

    def refreshed(self, still_refused: bool) -> None:
        """A 401 again counts against further re-logins; anything else shows they help."""
        if not still_refused:
            self._useless_refreshes = 0

    def _log_in(self, http: Http) -> httpx.Response:
        answer = self._step(http, self.spec.login, "login")
        self._take_token(answer, "login")
        return answer

    def _step(self, http: Http, step: Step, what: str, required: bool = True) -> httpx.Response:
        body = dict(step.body)
        if step.csrf:  # back in the body under its field, and in its header when there is one (`credentials`)
            self._csrf = self._fetch_csrf(http, step, what)
            field_name = step.csrf.field or self._csrf_field or (None if step.csrf.header else "csrf_token")
            if field_name:
                body[field_name] = self._csrf
        response = http.request(step.method, step.path, identity=self.name, json_body=body or None,
                                media_type=step.media_type, authenticate=False,
                                on_response=self._learn_secrets)
        if required and not 200 <= response.status_code < 400:  # a form login answers with a redirect
            raise AuthError(f"identity {self.name}: the {what} ({step.method} {step.path}) answered "
                            f"{response.status_code}")
        return response

    def _fetch_csrf(self, http: Http, step: Step, what: str) -> str:
        csrf = step.csrf
        page = csrf.page or step.path
        found: list[str | None] = []

        def learn(response: httpx.Response) -> None:  # before the page is recorded: the token is a secret
            self._learn_secrets(response)
            found.append(self._csrf_in(response, csrf))
            if found[0]:
                self._secret(found[0])

        http.request("GET", page, identity=self.name, authenticate=False, on_response=learn)
        token = found[0] if found else None
        if not token or not HEADER_VALUE.fullmatch(token):
            where = f"cookie {csrf.cookie!r}" if csrf.cookie else f"field {csrf.field or 'named like csrf'}"
            raise AuthError(f"identity {self.name}: no CSRF token ({where}, printable ASCII) in GET {page} before "
                            f"the {what}")
        return token

    def _csrf_in(self, response: httpx.Response, csrf: Csrf) -> str | None:
        """The CSRF token of a form page: its cookie, else the hidden input (or `<meta name="csrf-token">`)."""
        if csrf.cookie:
            return response.cookies.get(csrf.cookie) or self._http.cookies(self.name).get(csrf.cookie)
        form = _FormFields()
        form.feed(response.text[:MAX_PAGE_CHARACTERS])
        self._csrf_field = csrf.field or next((name for name in form.inputs if CSRF_NAME.search(name)), None)
        return form.inputs.get(self._csrf_field) if self._csrf_field else form.meta_csrf

    def _learn_secrets(self, response: httpx.Response) -> None:
        """Called with an answer of a login step before it is recorded: its token and cookies are secrets."""
        for value in response.cookies.values():
            self._secret(value)
        token = self._token_in(response)
        if token:
            self._secret(token)

    def _take_token(self, response: httpx.Response, what: str) -> None:
        if self.spec.token is None:  # the session cookies are the credentials
            if not self._http.cookies(self.name):
                raise AuthError(f"identity {self.name}: the {what} set no cookie")
            return
        token = self._token_in(response)
        if not token:
            raise AuthError(f"identity {self.name}: no token at {self._token_place} in the {what}'s answer "
                            f"({response.status_code})")
        if not HEADER_VALUE.fullmatch(token):  # it goes into a header line, raw in a burst: no CR, LF or NUL
            raise AuthError(f"identity {self.name}: the token at {self._token_place} in the {what}'s answer is "
                            "not printable ASCII of at most 8192 characters")
        self._token = token

    @property
    def _token_place(self) -> str:
        at = self.spec.token
        return f"JSON {at.pointer}" if at.pointer else f"cookie {at.cookie!r}" if at.cookie else f"header {at.header}"

    def _token_in(self, response: httpx.Response) -> str | None:
        at = self.spec.token
        if at is None:
            return None
        if at.cookie:
            return response.cookies.get(at.cookie)
        if at.header:
            value = response.headers.get(at.header)
            return value.removeprefix("Bearer ").strip() if value else None
        value = pointer(_json(response), at.pointer)
        return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "" else None

    def _id_from(self, answers: list[httpx.Response]) -> Any:
        pointers = [self.spec.id_pointer] if self.spec.id_pointer else ID_POINTERS
        for answer in reversed(answers):  # the login's answer first, then the registration's
            body = _json(answer)
            for candidate in pointers:
                found = pointer(body, candidate)
                if _is_id(found):
                    return found
        return None

    def _ask_me(self, http: Http) -> None:
        response = http.request("GET", self.spec.me, identity=self.name)
        if not 200 <= response.status_code < 300:
            raise AuthError(f"identity {self.name}: logged in, but GET {self.spec.me} answered {response.status_code}")
        if self.user_id is None:
            body = _json(response)
            pointers = [self.spec.id_pointer] if self.spec.id_pointer else ID_POINTERS
            self.user_id = next((pointer(body, p) for p in pointers if _is_id(pointer(body, p))), None)

    def _secret(self, value: str) -> None:
        if self._http is not None and value:
            self._http.redact.add(self.name, value)


def _jwt_claims(token: str) -> dict:
    """The payload of a JWT (`header.payload.signature`, base64url), or {} when it is not one."""
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= 200) or isinstance(value, int) and not isinstance(value, bool)


def _json(response: httpx.Response) -> Any:
    return json_of(response.content)


class _FormFields(HTMLParser):
    """The named inputs of an HTML page (name -> value) and a `<meta name="csrf-token">`'s content."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.meta_csrf: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.inputs.setdefault(named["name"], named.get("value") or "")
        elif tag == "meta" and CSRF_NAME.search(named.get("name") or "") and named.get("content"):
            self.meta_csrf = self.meta_csrf or named["content"]
