"""What API property and parameter names mean: one vocabulary for every engine.

A name is split into lower-case words (`ownerId`, `owner_id` and `owner-id` are all `owner id`), and a
category matches on whole words, never on substrings: `postcode` is not a `code`, `username` is a
`username`. The lists say which names are *candidates*; a check still proves what a name means from the
API's behaviour (a unique-looking field is unique only if a second sequential create is refused).

Categories:
- owner: a reference to the user or tenant that owns an object (`user_id`, `owner`, `author`, `tenant`).
- identity: the caller's own id as the API shows it (`id`, `user_id`, `uid`, `sub`).
- unique: values that name one object (`email`, `username`, `slug`, `code`, `sku`, `device`, `name`).
- quantity / money: numbers an action consumes or moves (`stock`, `quantity`, `balance`, `amount`).
- version: optimistic-locking counters (`version`, `revision`, `etag`).
- privilege: properties a client should never set (`role`, `is_admin`, `verified`, `price`, `status`).

The second half names things in source code and schemas (the scan, later the audit): decorators that
authenticate, helpers that return the caller, errors that mean "retry", and the column names the schema
rules reason about. These are regular expressions over identifiers; each says which product decision it makes.
"""

from __future__ import annotations

import re
from typing import Any

OWNER = frozenset({"user", "user id", "owner", "owner id", "author", "author id", "account", "account id",
                   "tenant", "tenant id", "created by", "creator", "creator id", "customer id", "member id",
                   "org id", "organization id"})
IDENTITY = ("id", "user_id", "userId", "uid", "sub", "account_id")
UNIQUE = frozenset({"email", "mail", "e mail", "username", "user name", "login", "handle", "slug", "code", "sku",
                    "device", "nickname", "name", "title", "isbn", "serial"})
QUANTITY = frozenset({"stock", "quantity", "qty", "count", "remaining", "available", "inventory", "seats",
                      "uses", "uses left", "redemptions", "limit", "votes", "likes"})
MONEY = frozenset({"balance", "amount", "credit", "credits", "price", "total", "funds", "points"})
VERSION = frozenset({"version", "revision", "rev", "etag", "lock version"})

# Properties to inject in a mass-assignment attempt, with the value that shows it was stored.
PRIVILEGED_VALUES: dict[str, Any] = {
    "role": "admin", "is_admin": True, "admin": True, "verified": True, "status": "approved", "balance": 999_999,
    "credits": 999_999, "price": 1, "version": 999,
}

# Owner references to set to the other identity's id when a schema names none of its own.
OWNER_CANDIDATES = ("user_id", "owner_id", "owner", "account_id", "tenant_id", "author_id")

# Words in a 2xx answer that say the request was refused all the same ("already exists").
REFUSAL = re.compile(r"already (exists|registered|taken|in use|used|redeemed)|\bexists already\b|duplicate|"
                     r"\bnot allowed\b|insufficient|not enough|out of stock|exceed|"
                     r"\b(failed|failure|refused|denied|forbidden|rejected)\b", re.I)

# Read operations that show the caller itself.
ME_PATH = re.compile(r"/(me|whoami|profile|user|users/me|account|self)$")


# ---- names in code and schemas (scan, audit) ----------------------------------------------------------------

# A decorator that demands an authenticated caller. Whole words: `@auth.login_required`, `@requires_auth`,
# `@jwt_required()`; not `@author_required` nor `@oauth_callback`.
AUTH_DECORATOR = re.compile(
    r"login_required|jwt_required|token_required|(?<![a-z])auth(enticated|enticate|orized|orize|_required)?(?![a-z])|"
    r"requires?_(login|user|token|role|permission|auth)|roles?_(required|accepted)|permission|admin_required|"
    r"protected|verify_jwt|signed_in", re.I)
# Decorators and hooks that admit only callers with a role or permission: an admin area, where reaching any
# user's object is the point (no BOLA there). `@admin_required`, `@roles_required("staff")`,
# `@permission_required(Permission.EDITOR)`, `current_user.is_admin` in a before_request hook.
PRIVILEGE = re.compile(r"admin|superuser|is_staff|staff_required|roles?_(required|accepted)|permissions?_required|"
                       r"requires?_(role|permission|admin)|has_role|can\(", re.I)
# A class or static method of a model that returns one of its rows (the active-record lookups:
# `Holding.find(id)`, `Cart.get_current_user_cart()`, `User.get_by_id(uid)`); not `get_props`, not `create`.
LOOKUP_METHOD = re.compile(r"^(get|find|fetch|load|lookup|first|one|current|latest)(_by\w*|_one|_current\w*|"
                           r"_or_404|_first|_for\w*|_of\w*)?$|^(get|find|fetch|load)_\w*_by_\w+$|^(by|of)_\w+$",
                           re.I)
# A parameter that receives a model class in a helper shared by every model (`def get_by_id(cls, id):
# return session.get(cls, id)`): what the helper loads is a row of the class each caller passes.
MODEL_PARAMETER = re.compile(r"^(cls|klass|model|model_?cls|model_?class|entity|entity_?class|orm_?class)$",
                             re.IGNORECASE)
# Calls that grant or refuse access to an object named by their arguments (`acl_check(resource_id=id)`,
# `if not can_edit(user, note_id): abort(403)`): the values passed are vouched for, and a row passed
# (`require_object_modify_permission(dashboard, user)`, `require_admin_or_owner(alert.user_id)`) is checked.
ACCESS_CHECK_CALL = re.compile(
    r"(^|_)(acl|authori[sz]e|authori[sz]ed|can_(access|edit|view|read|write|modify|delete)|has_(access|permission)|"
    r"check_(access|permission|owner)|is_(owner|member)|require_(owner|member|access)|user_can|"
    r"ensure_(owner|access|member)|owns|or_owner|require_object(_\w+)?_permission)(_|$)", re.IGNORECASE)
# A call that returns the authenticated caller (flask_login, flask_jwt_extended, a project's auth helper). A
# call of such a name only counts when no client data goes into it: `get_user_by_id(other_id)` looks a user up.
# The name ends with the caller, or goes on with a word for the caller itself (`current_user_id`,
# `get_user_or_404`, `get_user_from_token`); one that names something of the caller (`get_current_user_cart`,
# `get_user_orders`) returns that thing, a row of its own. A helper that verifies the request's token
# (`validate_jwt(token)`, `decode_access_token(header)`) returns the claims of the caller.
IDENTITY_CALL = re.compile(
    r"(^|_)(current_user|current_identity|jwt_identity|get_jwt|get_user|authenticated_user|auth_user|"
    r"logged_in_user|whoami|get_identity|require_user|require_auth|authenticate|current_account|current_principal|"
    r"(verify|validate|decode)_(jwt|(access_|id_|auth_)?token))"
    r"(?=$|_(id|uid|pk|identity|nameid|name|username|email|info|claims|obj|object|or|from|by|required|optional)"
    r"(_|$))",
    re.I)
# Names of the request's caller and of the tenant it acts in (flask_login's `current_user`, a multi-tenant app's
# `current_org` proxy), bare or as a view class's property (`self.current_user`, `self.current_org`).
CALLER_NAME = re.compile(r"^current_(user|identity|org|organi[sz]ation|tenant|account)$")
# Names that hold the caller on a per-request object (`g.user`, `info.context.user`).
IDENTITY_ATTRIBUTE = re.compile(r"user|identity|principal|owner|tenant|account|member|uid|customer", re.I)
# Exceptions whose handler, in a loop, retries a serialization failure (SQLSTATE 40001).
RETRYABLE_ERROR = re.compile(
    r"SerializationFailure|TransactionRollbackError|OperationalError|DBAPIError|DeadlockDetected|"
    r"RetryError|TransientError|InternalError|StatementError|TransactionRetry", re.I)
RETRY_DECORATOR = re.compile(r"retry|backoff|on_exception|transactional", re.I)
# Source text that refuses a caller: an auth hook or decorator answers with one of these.
UNAUTHORIZED = re.compile(r"\b40[13]\b|Unauthorized|Forbidden|login_manager|unauthorized")
# Exceptions a handler of a duplicate-key error catches.
UNIQUE_VIOLATION = re.compile(r"IntegrityError|UniqueViolation|DatabaseError|DBAPIError|Exception|BaseException|"
                              r"PsycopgError|Error$")

# Files of a test suite: the rows they write show what a test needed, not what the application writes.
TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_tests?|conftest)\.py$")
ID_COLUMN = re.compile(r"^(id|pk|uuid|key|.+_id|.+_uuid|.+_pk)$")
# A column holding the owner of a row: ownership checks compare it with the caller.
OWNER_COLUMN = re.compile(r"^(user_id|owner_id|owner|user|created_by(_id)?|author_id|customer_id|tenant_id|"
                          r"account_owner_id|profile_id|member_id|owned_by(_id)?|uid)$")
VERSION_COLUMN = re.compile(r"^(version|version_id|lock_version|row_version|revision|etag|updated_at|modified_at)$")
# Identifiers of a person: unique only in a table of people.
PERSON_IDENTIFIER = re.compile(r"^(e?mail(_address)?|user_?name|login|handle|nickname)$")
PRINCIPAL_TABLE = re.compile(r"user|account|member|customer|profile|person|people|employee|admin|client|tenant|"
                             r"organi[sz]ation|subscriber|login|voter|player|student|patient|staff", re.I)
# Columns whose value names one thing in the world: two rows with the same value are a defect.
IDENTITY_LIKE = re.compile(
    r"^(e?mail(_address)?|user_?name|login|handle|slug|nickname|(external|natural|stripe|github|google|oauth|"
    r"provider|customer|vendor)_(id|key|ref)|external_ref|token|token_hash|.+_token|api_key|api_key_hash|"
    r"sku|isbn|invite_code|coupon_code|referral_code)$")
# Functions whose value is random (a column default calling one: `default=lambda: generate_token(40)`, `uuid4`):
# two rows drawing the same value is not a failure to guard against with UNIQUE.
RANDOM_VALUE = re.compile(r"token|uuid|random|secret|urandom|nonce|salt|ulid|nanoid", re.I)
# Numeric columns whose name says they count or price something (`used`, `discount_value`, `price_override`):
# amounts too, once the column's type is a number (a text `value` is not).
COUNTED_AMOUNT = re.compile(r"^(?!.*_(type|kind|id|status|mode)$)(used|uses|discount|.+_value|price_.+|.+_override)$")
NUMERIC_TYPE = re.compile(r"int|numeric|decimal|float|double|real|money|number", re.I)
# Tables that record events: many rows per person or object are their point.
EVENT_TABLE = re.compile(r"log|history|attempt|audit|event|archive|revision|version|request|notification|message|"
                         r"outbox|inbox|queue|reset|invit|verification|activity|_at$", re.I)
# Money and quantities: a negative value is a defect (CHECK >= 0), a read-modify-write of one a lost update.
MONEY_COLUMN = re.compile(
    r"^(balance|amount|price|cost|total|subtotal|stock|quantity|qty|inventory|seats(_left|_available)?|"
    r"uses(_left|_remaining)?|remaining|credits?|points|capacity|fee|available|on_hand|units|"
    r"cash|shares|usage_limit|quantity_.+|.+_(balance|amount|price|quantity|qty|stock|credits?|seats|left|remaining|"
    r"net|gross|allocated))$")


def words(name: str) -> str:
    """`name` as lower-case words separated by one space: `ownerId` -> `owner id`, `to-account` -> `to account`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return " ".join(re.split(r"[^A-Za-z0-9]+", spaced)).strip().lower()


def _ends_with(name: str, category: frozenset[str]) -> bool:
    """Whether the last words of `name` are one of the category's names: `from_account_id` is an account id."""
    parts = words(name).split()
    return any(" ".join(parts[i:]) in category for i in range(len(parts)))


def is_owner(name: str) -> bool:
    return words(name) in OWNER


def is_reference(name: str) -> bool:
    """A field that names another object: `account_id`, `to_account`, `productId`, `pid`, `code`."""
    parts = words(name).split()
    return bool(parts) and (parts[-1] in ("id", "uuid", "ref", "key", "code", "slug", "pid", "uid")
                            or len(parts) > 1 and parts[0] in ("from", "to", "source", "target", "parent"))


def is_unique(name: str) -> bool:
    return _ends_with(name, UNIQUE)


def is_quantity(name: str) -> bool:
    return _ends_with(name, QUANTITY) or _ends_with(name, MONEY)


def is_version(name: str) -> bool:
    return words(name) in VERSION


def ceiling_of(name: str, names) -> str | None:
    """The field among `names` that caps counter `name`: `max_uses` for `uses`, `seats_limit` for `seats`."""
    wanted = words(name).replace(" ", "_")
    shapes = {f"max_{wanted}", f"{wanted}_max", f"{wanted}_limit", f"{wanted}_cap", f"maximum_{wanted}",
              f"{wanted}_allowed", f"max_{noun(wanted)}s"}
    return next((other for other in names if words(other).replace(" ", "_") in shapes), None)


def noun(segment: str) -> str:
    """A path segment or name as a singular noun: `products` -> `product`, `categories` -> `category`."""
    text = words(segment).replace(" ", "_")
    if text.endswith("ies") and len(text) > 4:
        return text[:-3] + "y"
    if text.endswith(("sses", "shes", "ches", "xes")):
        return text[:-2]
    return text[:-1] if text.endswith("s") and not text.endswith("ss") else text


def nouns_named_by(name: str) -> set[str]:
    """The nouns whose object a field or parameter names: `from_account_id` -> account, from_account; `pid` ->
    p; `product_code` -> product. Used to match a consumer to the collection that produces its values."""
    parts = words(name).split()
    if parts and parts[-1] in ("id", "uuid", "ref", "key", "code", "slug", "pid", "uid") and len(parts) > 1:
        parts = parts[:-1]
    found = {"_".join(parts[i:]) for i in range(len(parts))} | {"_".join(parts[:i]) for i in range(1, len(parts))}
    if len(parts) == 1 and parts[0].endswith("id") and len(parts[0]) > 2:
        found.add(parts[0][:-2])  # pid -> p, productid -> product
    return {noun(item) for item in found if item}


# ---- probe: operations (added by the probe engine; kept apart from the names above) ----------------------------

# The path of an operation that signs a new user up: racing it makes one account, and its losers must be refused
# cleanly (4xx), so a burst of it is judged for duplicates and server errors, not as an action on an object.
SIGN_UP_PATH = re.compile(r"/(register|registration|sign[-_]?up|signup|join|enrol{1,2}(ment)?)/?$", re.I)
