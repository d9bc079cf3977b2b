"""A safe subset of JUEL, the expression language of Camunda 7 models.

Camunda Modeler files carry conditions like ``${amount > 1000 && !rejected}``,
which Python cannot evaluate. This module tokenizes and parses them into a
small tree and evaluates that tree against the process variables: no Python
``eval``, no attribute access on Python objects, only map/list lookups and a
whitelist of Java-style methods (``size()``, ``isEmpty()``, ``contains(x)``...).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

KEYWORD_OPERATORS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
                     "le": "<=", "ge": ">=", "div": "/", "mod": "%"}
LITERALS = {"true": True, "false": False, "null": None}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?|\.\d+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!?:.,()\[\]+\-*/%])
""", re.VERBOSE)


class JuelError(ValueError):
    """A JUEL expression that cannot be parsed or evaluated; the message says why."""


def is_juel(expression: str) -> bool:
    return isinstance(expression, str) and ("${" in expression or "#{" in expression)


def evaluate_juel(expression: str, variables: Mapping[str, Any],
                  functions: Mapping[str, Callable[..., Any]] | None = None) -> Any:
    """``${x}`` alone gives x's value; text with embedded ``${}`` parts gives a string.
    ``functions`` are the top-level functions a model may call (``${addWorkingDays(d, 5)}``)."""
    functions = functions or {}
    parts = _split_template(expression)
    if len(parts) == 1 and parts[0][0] == "expr" and expression.strip() == parts[0][2]:
        return _evaluate(parts[0][1], variables, expression, functions)
    out = []
    for kind, value, _raw in parts:
        result = _evaluate(value, variables, expression, functions) if kind == "expr" else value
        out.append("" if result is None else _to_text(result))
    return "".join(out)


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _split_template(text: str) -> list[tuple[str, str, str]]:
    """Split into literal text and ``${...}`` bodies (braces inside quotes are respected)."""
    parts, index = [], 0
    while index < len(text):
        start = min((i for i in (text.find("${", index), text.find("#{", index)) if i >= 0), default=-1)
        if start < 0:
            parts.append(("text", text[index:], text[index:]))
            break
        if start > index:
            parts.append(("text", text[index:start], text[index:start]))
        end = _closing_brace(text, start + 2)
        parts.append(("expr", text[start + 2:end], text[start:end + 1]))
        index = end + 1
    return parts


def _closing_brace(text: str, index: int) -> int:
    quote = None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "}":
            return index
        index += 1
    raise JuelError(f"Expression '{text}' is not valid: missing closing '}}'")


def _tokens(body: str, source: str) -> list[tuple[str, Any]]:
    tokens, position = [], 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if not match:
            raise JuelError(f"Expression '{source}' is not valid: unexpected character {body[position]!r}")
        position = match.end()
        kind = match.lastgroup
        text = match.group()
        if kind == "space":
            continue
        if kind == "number":
            tokens.append(("value", float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "string":
            tokens.append(("value", bytes(text[1:-1], "utf-8").decode("unicode_escape")
                           if "\\" in text else text[1:-1]))
        elif kind == "name" and text in LITERALS:
            tokens.append(("value", LITERALS[text]))
        elif kind == "name" and text in KEYWORD_OPERATORS:
            tokens.append(("op", KEYWORD_OPERATORS[text]))
        elif kind == "name" and text == "empty":
            tokens.append(("op", "empty"))
        else:
            tokens.append((kind, text))
    tokens.append(("end", None))
    return tokens


class _Parser:
    """Recursive descent over JUEL's precedence levels; produces nested tuples."""

    BINARY_LEVELS = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]

    def __init__(self, body: str, source: str) -> None:
        self.tokens = _tokens(body, source)
        self.position = 0
        self.source = source

    def fail(self, what: str) -> JuelError:
        return JuelError(f"Expression '{self.source}' is not valid: {what}")

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.position]

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token[0] != kind or (value is not None and token[1] != value):
            found = token[1] if token[0] != "end" else "end of expression"
            raise self.fail(f"expected {value or kind}, found {found!r}")
        self.position += 1
        return token[1]

    def accept(self, kind: str, *values: Any) -> Any:
        token = self.peek()
        if token[0] == kind and (not values or token[1] in values):
            self.position += 1
            return token[1]
        return None

    def parse(self) -> tuple:
        if self.peek()[0] == "end":
            raise self.fail("it is empty")
        tree = self.ternary()
        self.take("end")
        return tree

    def ternary(self) -> tuple:
        condition = self.binary(0)
        if self.accept("op", "?"):
            yes = self.ternary()
            self.take("op", ":")
            return ("if", condition, yes, self.ternary())
        return condition

    def binary(self, level: int) -> tuple:
        if level == len(self.BINARY_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (operator := self.accept("op", *self.BINARY_LEVELS[level])) is not None:
            left = ("bin", operator, left, self.binary(level + 1))
        return left

    def unary(self) -> tuple:
        operator = self.accept("op", "!", "-", "empty")
        if operator is not None:
            return ("unary", operator, self.unary())
        return self.postfix(self.primary())

    def primary(self) -> tuple:
        kind, value = self.peek()
        if kind == "value":
            self.position += 1
            return ("value", value)
        if kind == "name":
            self.position += 1
            if self.accept("op", "("):
                return ("function", value, self.arguments())
            return ("var", value)
        if self.accept("op", "("):
            inner = self.ternary()
            self.take("op", ")")
            return inner
        raise self.fail(f"unexpected {value if kind != 'end' else 'end of expression'!r}")

    def postfix(self, node: tuple) -> tuple:
        while True:
            if self.accept("op", "."):
                name = self.take("name")
                if self.accept("op", "("):
                    node = ("call", node, name, self.arguments())
                else:
                    node = ("member", node, name)
            elif self.accept("op", "["):
                index = self.ternary()
                self.take("op", "]")
                node = ("index", node, index)
            else:
                return node

    def arguments(self) -> list[tuple]:
        args: list[tuple] = []
        if self.accept("op", ")"):
            return args
        while True:
            args.append(self.ternary())
            if self.accept("op", ")"):
                return args
            self.take("op", ",")


def _evaluate(body: str, variables: Mapping[str, Any], source: str,
              functions: Mapping[str, Callable[..., Any]]) -> Any:
    return _Evaluator(variables, source, functions).run(_Parser(body, source).parse())


class _Execution:
    """What ``execution`` means inside an expression: read access to variables only."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict, tuple, set)) and len(value) == 0)


METHODS: dict[str, Callable[..., Any]] = {
    "size": lambda v: len(v), "length": lambda v: len(v), "isEmpty": _is_empty,
    "contains": lambda v, x: x in v, "containsKey": lambda v, x: x in v, "get": lambda v, x: v[x],
    "equals": lambda v, x: v == x, "toString": _to_text, "toUpperCase": lambda v: v.upper(),
    "toLowerCase": lambda v: v.lower(), "startsWith": lambda v, x: v.startswith(x),
    "endsWith": lambda v, x: v.endswith(x), "trim": lambda v: v.strip(),
}


class _Evaluator:
    def __init__(self, variables: Mapping[str, Any], source: str,
                 functions: Mapping[str, Callable[..., Any]]) -> None:
        self.variables = variables
        self.source = source
        self.functions = functions

    def fail(self, what: str) -> JuelError:
        return JuelError(f"Cannot evaluate '{self.source}': {what}")

    def _function(self, name: str, args: list[tuple]) -> Any:
        function = self.functions.get(name)
        if function is None:
            available = ", ".join(sorted(self.functions)) or "none"
            raise self.fail(f"function '{name}()' is not available (available: {available})")
        values = [self.run(a) for a in args]
        try:
            return function(*values)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"{name}() failed: {exc}") from None

    def run(self, node: tuple) -> Any:
        return getattr(self, "_" + node[0])(*node[1:])

    def _value(self, value: Any) -> Any:
        return value

    def _var(self, name: str) -> Any:
        if name == "execution":
            return _Execution(self.variables)
        if name not in self.variables:
            raise JuelError(f"Unknown variable '{name}' in expression '{self.source}'")
        return self.variables[name]

    def _if(self, condition: tuple, yes: tuple, no: tuple) -> Any:
        return self.run(yes) if self._truth(self.run(condition)) else self.run(no)

    def _truth(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(f"{value!r} is not a boolean")

    def _unary(self, operator: str, operand: tuple) -> Any:
        value = self.run(operand)
        if operator == "!":
            return not self._truth(value)
        if operator == "empty":
            return _is_empty(value)
        return -self._number(value)

    def _number(self, value: Any) -> int | float:
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    return float(value) if "." in value else int(value)
                except ValueError:
                    pass
            raise self.fail(f"{value!r} is not a number")
        return value

    def _bin(self, operator: str, left: tuple, right: tuple) -> Any:
        if operator == "&&":
            return self._truth(self.run(left)) and self._truth(self.run(right))
        if operator == "||":
            return self._truth(self.run(left)) or self._truth(self.run(right))
        a, b = self.run(left), self.run(right)
        if operator in ("==", "!="):
            same = a == b
            return same if operator == "==" else not same
        if operator in ("<", ">", "<=", ">="):
            return self._compare(operator, a, b)
        x, y = self._number(a), self._number(b)
        if operator in ("/", "%") and y == 0:
            raise self.fail("division by zero")
        return {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
                "/": lambda: x / y, "%": lambda: x % y}[operator]()

    def _compare(self, operator: str, a: Any, b: Any) -> bool:
        if a is None or b is None:
            raise self.fail(f"cannot compare null with {operator}")
        if isinstance(a, str) != isinstance(b, str):
            a, b = self._number(a), self._number(b)
        try:
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]
        except TypeError:
            raise self.fail(f"cannot compare {a!r} and {b!r}") from None

    def _member(self, target: tuple, name: str) -> Any:
        value = self.run(target)
        if isinstance(value, Mapping):
            if name not in value:
                raise self.fail(f"'{name}' is not a key of the map")
            return value[name]
        raise self.fail(f"property '{name}' cannot be read from {type(value).__name__}")

    def _index(self, target: tuple, index: tuple) -> Any:
        value, key = self.run(target), self.run(index)
        try:
            if isinstance(value, (list, tuple, str)):
                return value[int(self._number(key))]
            if isinstance(value, Mapping):
                return value[key]
        except (IndexError, KeyError):
            raise self.fail(f"no element {key!r}") from None
        raise self.fail(f"cannot index {type(value).__name__}")

    def _call(self, target: tuple, name: str, args: list[tuple]) -> Any:
        value = self.run(target)
        values = [self.run(a) for a in args]
        if isinstance(value, _Execution):
            if name == "getVariable" and len(values) == 1:
                return value.variables.get(values[0])
            raise self.fail(f"execution.{name}() is not available")
        method = METHODS.get(name)
        if method is None:
            raise self.fail(f"method '{name}()' is not available")
        try:
            return method(value, *values)
        except (TypeError, AttributeError, KeyError, IndexError) as exc:
            raise self.fail(f"{name}() failed on {value!r}: {exc}") from None
