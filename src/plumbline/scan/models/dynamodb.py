"""What the DynamoDB library models share: expressions, conditions and items as `DataOp` fields; stream and queue
consumers as entry points; the record ids a consumer can deduplicate on; validators; messages sent out.

boto3, PynamoDB and boto 2 (`boto3.py`, `pynamodb.py`, `boto2.py`) read their own call shapes and describe each
access with `dynamo_op`. Conditions are read from expression strings (`"attribute_not_exists(pk) AND v = :v"`,
holes where the text was built from values) and from `boto3.dynamodb.conditions` builders (`Attr("v").eq(x)`),
whose syntax tree is read directly: `&`, `|` and `~` leave no trace in the values the core computes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from weakref import WeakKeyDictionary

from plumbline.scan.facts import NO_TAINT, EntryPoint, Taint
from plumbline.scan.models import Registrations, calls, entry_points, subscripts
from plumbline.scan.pyast import dotted, last_name, module_nodes_of, string, walk
from plumbline.scan.sql import HOLE_RE
from plumbline.scan.values import UNKNOWN, Value, union

# A path in an expression: an attribute name, a `#name` placeholder or an interpolated hole, then `.sub` / `[0]`.
PATH = r"(?:#\w+|__pl_hole_\d+__|[A-Za-z_]\w*)(?:\.(?:#\w+|\w+)|\[\d+\])*"
OPERAND = rf"(?::\w+|{PATH})"
_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
_EXISTS = re.compile(rf"(\bNOT\s+)?\battribute_(not_)?exists\s*\(\s*({OPERAND})\s*\)", re.IGNORECASE)
_COMPARE = re.compile(rf"({OPERAND})\s*(=|<>|<=|>=|<|>)\s*({OPERAND})")
_FUNCTION = re.compile(rf"\b(begins_with|contains|attribute_type)\s*\(\s*({OPERAND})\s*,", re.IGNORECASE)
_RANGE = re.compile(rf"({PATH})\s+(?:BETWEEN|IN)\b", re.IGNORECASE)
_KEYWORDS = {"and", "or", "not", "between", "in", "size", "set", "remove", "add", "delete"}
BUILDER_TESTS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "begins_with": "begins",
                 "between": "range", "is_in": "range", "contains": "contains", "attribute_type": "type",
                 "exists": "present", "not_exists": "absent", "size": "size"}
# Fields of a stream, Kinesis or SQS record that name the delivery: what a consumer deduplicates on.
RECORD_ID_FIELDS = ("eventID", "eventId", "messageId", "MessageId", "sequenceNumber", "SequenceNumber", "recordId",
                    "event_id", "message_id")
RECORD_ID = "record id"
SPREAD = "**"  # the field name under which the core keeps `**kwargs` passed to a constructor  # the client origin a record's own id carries
RECORD_LISTS = ("Records", "records", "Messages")
POLLING = ("get_records", "receive_message")  # calls that fetch a batch of records to handle
VALIDATED = "validated request data"
# Calls that validate what they are given and return it: pydantic, marshmallow, cattrs, dacite, attrs.
VALIDATING_CALLS = ("model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate_python",
                    "structure", "from_dict", "validated_data")
SCHEMA_RECEIVER = re.compile(r"schema|Schema|validator|Validator|serializer|Serializer|form|Form")
# Project functions whose name says they refuse bad input (`validate_note(data)`, `check_payload(body)`).
VALIDATOR_FUNCTION = re.compile(r"^_?(validate|validated|check|clean|sanitize|sanitise|verify)(_|$)|_(validate|"
                                r"validator|schema)$", re.IGNORECASE)
# Effects outside the database that a replayed record repeats.
SENDING_CALLS = {"publish": "sns.publish", "send_email": "ses.send_email", "send_raw_email": "ses.send_raw_email",
                 "send_templated_email": "ses.send_templated_email", "send_message": "sqs.send_message",
                 "send_message_batch": "sqs.send_message_batch", "put_record": "kinesis.put_record",
                 "put_records": "kinesis.put_records", "sendmail": "smtp.sendmail"}
SENDING_RECEIVER = re.compile(r"sns|ses|sqs|mail|smtp|kinesis|firehose|notif|topic|queue", re.IGNORECASE)
IDEMPOTENT_DECORATOR = re.compile(r"(^|\.)idempoten", re.IGNORECASE)


# ---- conditions ------------------------------------------------------------------------------------------------


@dataclass
class Condition:
    """What a ConditionExpression (or `Expected`, or a key condition) asks of the stored item."""

    kinds: set[str] = field(default_factory=set)  # "absent", "present", "compare", "hollow"
    guards: list[str] = field(default_factory=list)  # attributes it reads
    values: dict[str, Taint] = field(default_factory=dict)  # attribute -> the value it must equal

    def merge(self, other: Condition) -> Condition:
        return Condition(self.kinds | other.kinds, self.guards + other.guards, {**self.values, **other.values})


@dataclass
class Expression:
    """An expression string with what its placeholders and holes stand for."""

    text: str
    holes: tuple[Taint, ...] = ()
    names: dict[str, Value] = field(default_factory=dict)  # "#n" -> its value (ExpressionAttributeNames)
    values: dict[str, Value] = field(default_factory=dict)  # ":v" -> its value (ExpressionAttributeValues)

    def value_of(self, token: str) -> Taint:
        if token.startswith(":"):
            return union(self.values.get(token, UNKNOWN)).taint
        return self.hole_taint(token)

    def hole_taint(self, text: str) -> Taint:
        taint = NO_TAINT
        for number in HOLE_RE.findall(text):
            index = int(number)
            if index < len(self.holes):
                taint = taint | self.holes[index]
        return taint

    def path(self, token: str) -> tuple[str | None, Taint]:
        """The attribute a path names (its first element), and the taint of whatever chose that name: a `#name`
        bound to a non-constant value, or text interpolated in place of the name. None when the name is unknown."""
        head = re.split(r"[.\[]", token, maxsplit=1)[0]
        if head.startswith("#"):
            bound = self.names.get(head)
            if bound is None:
                return None, NO_TAINT
            if bound.text is not None and not bound.holes and bound.constant:
                return bound.text, NO_TAINT
            return None, bound.whole_taint or Taint(client=frozenset({"an attribute name"}))
        if HOLE_RE.search(head):
            return None, self.hole_taint(head)
        return head, NO_TAINT


def expression(value: Value | None, names: Value | None = None, values: Value | None = None) -> Expression | None:
    """The expression a keyword's value spells, or None when it is no text."""
    if value is None or value.text is None:
        return None
    return Expression(value.text, value.holes, dict((names or UNKNOWN).fields or ()),
                      dict((values or UNKNOWN).fields or ()))


def condition_of(text: Expression) -> Condition:
    """A ConditionExpression / FilterExpression string."""
    found = Condition()
    for match in _EXISTS.finditer(text.text):
        negated, absent, operand = bool(match.group(1)), bool(match.group(2)), match.group(3)
        name, chosen = text.path(operand) if not operand.startswith(":") else (None, Taint(client=frozenset({":"})))
        if name is None:
            found.kinds.add("hollow" if chosen else "compare")
            continue
        found.kinds.add("absent" if absent != negated else "present")
        found.guards.append(name)
    for match in _COMPARE.finditer(text.text):
        left, operator, right = match.groups()
        _compare(text, left, operator, right, found)
    for match in _FUNCTION.finditer(text.text):
        name, chosen = text.path(match.group(2)) if not match.group(2).startswith(":") else (None, NO_TAINT)
        found.kinds.add("compare" if name else "hollow")
        if name:
            found.guards.append(name)
    for match in _RANGE.finditer(text.text):
        name, _ = text.path(match.group(1))
        if name and name.lower() not in _KEYWORDS:
            found.kinds.add("compare")
            found.guards.append(name)
    return found


def _compare(text: Expression, left: str, operator: str, right: str, found: Condition) -> None:
    if left.lower() in _KEYWORDS or right.lower() in _KEYWORDS:
        return
    if left.startswith(":") and not right.startswith(":"):
        left, right = right, left
    if left.startswith(":"):
        found.kinds.add("hollow")  # two values compared: always true or always false, never about the item
        return
    name, chosen = text.path(left)
    if name is None:
        found.kinds.add("hollow" if chosen else "compare")
        return
    found.kinds.add("compare")
    found.guards.append(name)
    if operator == "=":
        found.values[name] = text.value_of(right) if right.startswith(":") or HOLE_RE.search(right) else NO_TAINT


def key_condition_of(text: Expression) -> tuple[dict[str, Taint], list[str]]:
    """A KeyConditionExpression string: the attributes it fixes by equality, and those it ranges over."""
    condition = condition_of(text)
    return dict(condition.values), [g for g in condition.guards if g not in condition.values]


def builder_condition(visitor, node: ast.expr | None) -> Condition | None:
    """`Key("pk").eq(x) & Attr("owner").eq(me)`, `~Attr("id").exists()`: read from the syntax tree; None when
    `node` is no such builder."""
    node = assigned(visitor, node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        left, right = builder_condition(visitor, node.left), builder_condition(visitor, node.right)
        if left is None or right is None:
            return left or right
        return left.merge(right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        inner = builder_condition(visitor, node.operand)
        if inner is not None and inner.kinds & {"absent", "present"}:
            swapped = {"absent": "present", "present": "absent"}
            inner.kinds = {swapped.get(kind, kind) for kind in inner.kinds}
        return inner
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    test = BUILDER_TESTS.get(node.func.attr)
    target = node.func.value
    if test is None or not (isinstance(target, ast.Call) and last_name(target.func) in ("Attr", "Key")
                            and target.args):
        return None
    name = string(target.args[0])
    found = Condition()
    if name is None:
        chosen = union(visitor.value(target.args[0]))
        found.kinds.add("hollow" if chosen.taint else "compare")
        return found
    found.guards.append(name)
    if test in ("absent", "present"):
        found.kinds.add(test)
        return found
    found.kinds.add("compare")
    if test == "=" and node.args:
        found.values[name] = union(visitor.value(node.args[0])).taint
    return found


def expected_condition(visitor, value: Value | None, node: ast.expr | None = None) -> Condition:
    """The legacy `Expected` map (boto3 low level, boto 2's `expected=`): attribute -> {"Exists": False} /
    {"Value": v} / {"ComparisonOperator": ..., "AttributeValueList": [...]}; keys may be computed (`position`)."""
    found = Condition()
    node = assigned(visitor, node)
    if not isinstance(node, ast.Dict):
        if value is not None and value.fields:
            found.kinds.add("compare")  # built elsewhere: it expects something of the item
            found.guards.extend(name for name, _ in value.fields)
        return found
    for key, item in zip(node.keys, node.values):
        if key is None:
            continue
        name = string(key)
        if name is None:
            chosen = union(visitor.value(key)).taint
            found.kinds.add("hollow" if chosen.client else "compare")
            continue
        spec = {string(k): v for k, v in zip(item.keys, item.values)} if isinstance(item, ast.Dict) else {}
        found.guards.append(name)
        exists, operator = spec.get("Exists"), string(spec.get("ComparisonOperator"))
        if isinstance(exists, ast.Constant) and "Value" not in spec:
            found.kinds.add("present" if exists.value else "absent")
        elif operator == "NULL":
            found.kinds.add("absent")
        elif operator == "NOT_NULL":
            found.kinds.add("present")
        else:
            found.kinds.add("compare")
            if "Value" in spec and operator in (None, "EQ"):
                found.values[name] = union(visitor.value(spec["Value"])).taint
    return found


# ---- updates and items ----------------------------------------------------------------------------------------


@dataclass
class Update:
    writes: dict[str, Taint] = field(default_factory=dict)
    atomic: list[str] = field(default_factory=list)  # attributes changed relative to themselves (ADD, x = x + :n)
    decrements: list[str] = field(default_factory=list)
    chosen: Taint = NO_TAINT  # what chose attribute names


def update_of(text: Expression) -> Update:
    """An UpdateExpression: `SET a = :v, n = n + :one REMOVE b ADD c :n DELETE s :v`."""
    found = Update()
    parts = _CLAUSE.split(text.text)
    for clause, body in zip(parts[1::2], parts[2::2]):
        clause = clause.upper()
        for action in _top_level(body, ","):
            action = action.strip()
            if not action:
                continue
            if clause == "SET" and "=" in action:
                target, _, source = action.partition("=")
                name, chosen = text.path(target.strip())
                found.chosen = found.chosen | chosen
                if name is None:
                    continue
                if re.search(rf"(?<![\w#:]){re.escape(name)}(?![\w])", source) or _names_self(text, source, name):
                    found.atomic.append(name)
                    if re.search(rf"{re.escape(target.strip())}\s*-", source):
                        found.decrements.append(name)
                    continue
                taint = NO_TAINT
                for token in re.findall(r":\w+|__pl_hole_\d+__", source):
                    taint = taint | text.value_of(token)
                found.writes[name] = taint
            else:
                target = action.split()[0]
                name, chosen = text.path(target)
                found.chosen = found.chosen | chosen
                if name is None:
                    continue
                if clause in ("ADD", "DELETE"):
                    found.atomic.append(name)
                else:
                    found.writes[name] = NO_TAINT
    return found


def _names_self(text: Expression, source: str, name: str) -> bool:
    """The right side names the attribute through a `#placeholder` bound to the same name."""
    return any(text.path(token)[0] == name for token in re.findall(r"#\w+", source))


def _top_level(text: str, separator: str) -> list[str]:
    """`text` split at `separator` outside parentheses."""
    pieces, depth, start = [], 0, 0
    for index, character in enumerate(text):
        if character == "(":
            depth += 1
        elif character == ")":
            depth = max(0, depth - 1)
        elif character == separator and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    return pieces


def attribute_updates(visitor, value: Value | None, node: ast.expr | None) -> Update:
    """The legacy `AttributeUpdates` / boto 2 `attribute_updates` map: name -> {"Action": ..., "Value": v}."""
    found = Update()
    node = assigned(visitor, node)
    entries: list[tuple[str | None, Taint, Value]] = []
    if isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values):
            if key is None:
                continue
            name = string(key)
            entries.append((name, NO_TAINT if name is not None else union(visitor.value(key)).taint,
                            visitor.value(item)))
    elif value is not None and value.fields:
        entries = [(name, NO_TAINT, item) for name, item in value.fields]
    if not entries and value is not None:  # built by a loop: it writes something, we cannot say what
        found.writes["*"] = value.whole_taint
    for name, chosen, item in entries:
        found.chosen = found.chosen | chosen
        spec = dict(item.fields or ())
        action = (spec.get("Action") or UNKNOWN).text
        if name is None:
            continue
        if action in ("ADD", "DELETE") and "Value" in spec:
            found.atomic.append(name)
        else:
            found.writes[name] = union(spec.get("Value", UNKNOWN)).taint
    return found


def item_writes(value: Value) -> tuple[dict[str, Taint], Taint | None]:
    """What storing `value` as an item writes (attribute -> value; "*" for an item known only as a whole), and the
    client data that shaped it: the whole item, or what was spread into it beside its named attributes."""
    if value.fields is None:
        taint = value.whole_taint
        return {"*": taint}, taint if (taint.client or taint.params) else None
    writes = {name: item.whole_taint for name, item in value.fields if name != SPREAD}
    named = NO_TAINT
    for taint in writes.values():
        named = named | taint
    whole = value.taint
    spread = Taint(client=whole.client - named.client, params=whole.params - named.params)
    for name, item in value.fields:
        if name == SPREAD:  # `Model(**data)` as the core records it
            spread = spread | item.whole_taint
    return writes, spread if spread else None


def chosen_names(taint: Taint) -> Taint | None:
    """The client data that chose attribute names, labelled as such (PL302 reports any of it)."""
    if not (taint.client or taint.params):
        return None
    return replace(taint, client=frozenset(f"attribute name from {origin}" for origin in taint.client))


def keys_of(value: Value | None) -> dict[str, Taint]:
    """A `Key` dict as attribute -> value (typed `{"S": x}` values unwrapped by their taint)."""
    if value is None:
        return {}
    if value.fields is None:
        return {"*": value.whole_taint} if value.taint else {}
    return {name: item.whole_taint for name, item in value.fields}


# ---- the syntax around a call ---------------------------------------------------------------------------------


def assigned(visitor, node: ast.expr | None) -> ast.expr | None:
    """For a local name, the expression it was last bound to before this use (a dict literal or a condition built a
    few lines earlier); other nodes as they are."""
    if not isinstance(node, ast.Name):
        return node
    earlier = [(line, value) for line, value in _bindings(visitor).get(node.id, ()) if line < node.lineno]
    return max(earlier, key=lambda binding: binding[0])[1] if earlier else node


_BINDINGS: WeakKeyDictionary = WeakKeyDictionary()


def _bindings(visitor) -> dict[str, list[tuple[int, ast.expr]]]:
    """Name -> (line, expression) of every plain assignment in the visitor's function, found in one walk."""
    found = _BINDINGS.get(visitor)
    if found is None:
        found = {}
        for statement in walk(visitor.node):
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, []).append((statement.lineno, statement.value))
        _BINDINGS[visitor] = found
    return found


@dataclass
class Arguments:
    """The keyword arguments of a call, including those spread from a dict (`table.query(**params)`), each as its
    syntax (when written here) and its value."""

    nodes: dict[str, ast.expr]
    values: dict[str, Value]

    @classmethod
    def of(cls, visitor, site) -> Arguments:
        nodes = {kw.arg: kw.value for kw in site.node.keywords if kw.arg}
        values = dict(site.keywords)
        spreads = [kw.value for kw in site.node.keywords if kw.arg is None]
        spread_values = site.arguments[len(site.node.args):]
        for spread, value in zip(spreads, spread_values):
            literal = assigned(visitor, spread)
            if isinstance(literal, ast.Dict):
                for key, item in zip(literal.keys, literal.values):
                    if string(key) is not None:
                        nodes.setdefault(string(key), item)
            for name, item in value.fields or ():
                values.setdefault(name, item)
        return cls(nodes, values)

    @classmethod
    def of_dict(cls, visitor, node: ast.expr | None, value: Value | None) -> Arguments:
        """The entries of a dict (a transaction item's `Put`), as syntax when it is written as a literal."""
        literal = assigned(visitor, node)
        nodes = {string(k): v for k, v in zip(literal.keys, literal.values) if string(k) is not None} \
            if isinstance(literal, ast.Dict) else {}
        values = dict((value or UNKNOWN).fields or ())
        for name, item in nodes.items():
            if name not in values:
                values[name] = visitor.value(item)
        return cls(nodes, values)

    def value(self, name: str) -> Value | None:
        return self.values.get(name)

    def node(self, name: str) -> ast.expr | None:
        return self.nodes.get(name)

    def condition(self, visitor, name: str = "ConditionExpression") -> Condition:
        """The condition a keyword holds, as a string or a builder; the legacy `Expected` map too."""
        found = Condition()
        text = expression(self.value(name), self.value("ExpressionAttributeNames"),
                          self.value("ExpressionAttributeValues"))
        if text is not None:
            found = condition_of(text)
        elif self.node(name) is not None or self.value(name) is not None:
            built = builder_condition(visitor, self.node(name))
            if built is not None:
                found = built
            elif self.value(name) is not None:
                found.kinds.add("compare")  # a condition we cannot read: assume it protects something
        if self.value("Expected") is not None:
            found = found.merge(expected_condition(visitor, self.value("Expected"), self.node("Expected")))
        return found


def table_name(node: ast.expr | None, value: Value | None) -> str | None:
    """A table's name as written: the text, else what names it (`names.records`, `os.environ["USERS_TABLE"]`)."""
    if value is not None and value.text is not None:
        return HOLE_RE.sub("${}", value.text)  # f"{prefix}-users": the decoration is dropped when names are compared
    if isinstance(node, ast.Subscript):
        return string(node.slice) or last_name(node.value) or None
    if isinstance(node, ast.Call) and node.args and string(node.args[0]):  # os.environ.get("T"), os.getenv("T")
        return string(node.args[0])
    if isinstance(node, (ast.Name, ast.Attribute)):
        return last_name(node) or None
    return None


def receiver_name(visitor, site) -> str | None:
    """The name of the object a method is called on, as a stand-in for the table it is (`self.users_table`;
    `table` bound to `storage().records` a few lines up is `records`)."""
    func = site.node.func
    if site.receiver is not None and site.receiver.dynamo and site.receiver.dynamo[1]:
        return site.receiver.dynamo[1]
    if not isinstance(func, ast.Attribute):
        return None
    target = assigned(visitor, func.value)
    if isinstance(target, ast.Subscript):
        return string(target.slice) or last_name(target.value) or None
    return last_name(target if isinstance(target, ast.Attribute) else func.value) or None


def dynamo_op(visitor, node: ast.AST, action: str, table: str | None, *, keys: dict[str, Taint] | None = None,
              writes: dict[str, Taint] | None = None, condition: Condition | None = None,
              atomic=(), decrements=(), item: Taint | None = None, together: int = 0, batched: bool = False,
              statement: str | None = None, interpolated: Taint | None = None, sends: str | None = None):
    """Record one DynamoDB access; a put that refuses an existing item is an insert."""
    condition = condition or Condition()
    if action == "upsert" and "absent" in condition.kinds:
        action = "insert"
    return visitor.add_op(
        node, api="dynamodb", action=action, table=table, keys=keys or {}, writes=writes or {},
        guards=tuple(dict.fromkeys(condition.guards)), atomic=tuple(atomic), decrements=tuple(decrements),
        condition=tuple(sorted(condition.kinds)), condition_values=dict(condition.values), item=item,
        together=together, batched=batched, statement=statement, interpolated=interpolated, sends=sends)


def read_result(op) -> Value:
    return Value(taint=Taint(reads=frozenset({op.id})))


def loaded_model(visitor, value: Value) -> str | None:
    """The PynamoDB model or table a value was read from, when it comes from one of this function's reads."""
    if value.dynamo and value.dynamo[0] == "item":
        return value.dynamo[1]
    for op in visitor.function.ops:
        if op.api == "dynamodb" and op.action == "read" and op.id in value.taint.reads:
            return op.table
    return None


# ---- consumers ---------------------------------------------------------------------------------------------------


@entry_points
def consumers(tree: ast.Module, ctx) -> Registrations:
    """Lambda-style handlers of stream / Kinesis / SQS batches (`for record in event["Records"]`, or one record at a
    time: `event["Records"][0]`) and functions that
    poll (`get_records`, `receive_message`) and handle what they get: each record is client data, delivered at
    least once."""
    registrations = Registrations()
    if not any(node.value in RECORD_LISTS for node in module_nodes_of(tree, ast.Constant)):
        return registrations  # no batch of records is read in this module (the consumers below all read one)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _consumer(node, node.name, registrations)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    _consumer(item, f"{node.name}.{item.name}", registrations)
    return registrations


def _consumer(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, registrations: Registrations) -> None:
    params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    polled = {target.id for statement in walk(node) if isinstance(statement, ast.Assign)
              and isinstance(statement.value, ast.Call) and last_name(statement.value.func) in POLLING
              for target in statement.targets if isinstance(target, ast.Name)}
    for source in walk(node):
        if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute) and \
                source.func.attr == "get" and source.args:
            source = ast.Subscript(value=source.func.value, slice=source.args[0])  # event.get("Records", [])
        if not (isinstance(source, ast.Subscript) and string(source.slice) in RECORD_LISTS):
            continue
        base = source.value
        if isinstance(base, ast.Name) and base.id in params:  # a loop over event["Records"], or event["Records"][0]
            registrations.add_function(qualname, EntryPoint("consumer", qualname, inputs=(base.id,)))
            return
        if isinstance(base, ast.Call) and last_name(base.func) in POLLING or \
                isinstance(base, ast.Name) and base.id in polled:
            registrations.add_function(qualname, EntryPoint("consumer", qualname))
            return


@calls(*POLLING)
def polled_records(visitor, site) -> Value | None:
    """What a poller receives is delivered at least once, like a Lambda event."""
    if site.receiver is None:
        return None
    return Value(taint=Taint(client=frozenset({f"records from {site.name}"})))


@subscripts
def record_id(visitor, node: ast.Subscript, container: Value, label: str | None) -> Value | None:
    """`record["eventID"]`: the id of a delivery, marked so that a consumer's deduplication can be recognised."""
    if label not in RECORD_ID_FIELDS or not (container.taint.client or container.taint.params):
        return None
    return Value(taint=container.whole_taint | Taint(client=frozenset({RECORD_ID})))


# ---- validation, access checks, messages -----------------------------------------------------------------------


@calls(*VALIDATING_CALLS, "load", "loads", "validate")
def validated(visitor, site) -> Value | None:
    """`NewNote.model_validate(body)`, `NoteSchema().load(body)`: what comes out was checked field by field. Only
    the identity survives; the raw origins are replaced, so that a validated body is not an unvalidated item."""
    passed = union(*site.arguments, *site.keywords.values())
    if not (passed.taint.client or passed.taint.params or passed.taint.reads):
        return None
    func = site.node.func
    receiver = dotted(func.value) if isinstance(func, ast.Attribute) else ""
    if site.name in ("load", "loads", "validate") and not SCHEMA_RECEIVER.search(receiver or site.qualified):
        return None
    if site.name == "validate" and not receiver.endswith("Model"):
        _mark_validated(visitor, site)  # jsonschema.validate(data, schema): checks in place, returns None
        return None
    return Value(taint=Taint(client=frozenset({VALIDATED}), identity=passed.taint.identity))


@calls()
def validating_function(visitor, site) -> None:
    """`validate_note(data)` or `if not is_valid(data)`-style helpers of the project: once called, the names passed
    hold checked data. The call itself goes on to the core (its own data accesses still count)."""
    if VALIDATOR_FUNCTION.search(site.name) or site.name.startswith("is_valid"):
        _mark_validated(visitor, site)


def _mark_validated(visitor, site) -> None:
    for argument, value in zip(site.node.args, site.arguments):
        if isinstance(argument, ast.Name) and (value.taint.client or value.taint.params or value.taint.reads):
            visitor.scope.names[argument.id] = replace(value, taint=Taint(
                client=frozenset({VALIDATED}), identity=value.taint.identity), fields=None)


@calls(*SENDING_CALLS)
def message_sent(visitor, site) -> None:
    """`sns.publish(...)`, `ses.send_email(...)`: an effect a redelivered record repeats."""
    func = site.node.func
    receiver = site.receiver.dynamo[0] if site.receiver is not None and site.receiver.dynamo else \
        dotted(func.value) if isinstance(func, ast.Attribute) else ""
    if not SENDING_RECEIVER.search(receiver or ""):
        return None
    dynamo_op(visitor, site.node, "other", None, sends=SENDING_CALLS[site.name])
    return None  # the call goes on to the core: it may be a project function
