"""The restricted environment for BPMN expressions and script tasks.

SpiffWorkflow's own environment is a bare ``eval``/``exec`` with full
builtins. Ours compiles Python with RestrictedPython (no imports, no names or
attributes starting with ``_``), guards attribute access further (frame and
code objects, ``str.format``), offers a short list of builtins, and stops a
script that runs past its time limit. Expressions written as ``${...}``
(Camunda models) go to the JUEL evaluator in ``engine.juel`` instead.

Not covered: a single long C-level operation (``9 ** 9 ** 9``) cannot be
interrupted by the line tracer; the time limit applies between lines.
"""
from __future__ import annotations

import functools
import math
import operator
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import CodeType, FrameType, ModuleType
from typing import Any, Mapping

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence,
                                     safer_getattr)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .juel import JuelError, evaluate_juel, is_juel

#: attributes that lead from ordinary objects to frames, code and real globals
BLOCKED_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "f_globals", "f_locals", "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "format", "format_map",
    "mro", "func_globals",
})
SAFE_MODULES = (math,)


class ExpressionError(ValueError):
    """An expression or script that is not allowed or cannot run; the message says which and why."""


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    if name.startswith("_") or name in BLOCKED_ATTRIBUTES:
        raise ExpressionError(f"Attribute '{name}' is not allowed")
    if isinstance(obj, ModuleType) and obj not in SAFE_MODULES:
        raise ExpressionError(f"Module '{obj.__name__}' is not available")
    if isinstance(obj, (CodeType, FrameType)):
        raise ExpressionError("Frames and code objects are not available")
    return safer_getattr(obj, name, default)


_INPLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
            "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow}


def _inplacevar(op: str, left: Any, right: Any) -> Any:
    try:
        return _INPLACE[op](left, right)
    except KeyError:
        raise ExpressionError(f"Operator '{op}' is not allowed") from None


def _import_refused(*_args: Any, **_kwargs: Any) -> None:
    raise ExpressionError("import is not allowed in scripts")


def _builtins() -> dict[str, Any]:
    allowed = {name: safe_builtins[name] for name in (
        "None", "False", "True", "abs", "bool", "divmod", "float", "int", "len", "pow", "range", "repr",
        "round", "str", "isinstance", "chr", "ord", "hex", "oct", "slice",
        "ValueError", "TypeError", "KeyError", "IndexError", "ZeroDivisionError", "ArithmeticError",
        "Exception") if name in safe_builtins}
    allowed.update({"min": min, "max": max, "sum": sum, "any": any, "all": all, "enumerate": enumerate,
                    "list": list, "dict": dict, "set": set, "frozenset": frozenset, "reversed": reversed,
                    "map": map, "filter": filter, "sorted": sorted, "tuple": tuple, "zip": zip,
                    "getattr": _guarded_getattr, "__import__": _import_refused})
    return allowed


def base_globals() -> dict[str, Any]:
    """The names every expression and script sees besides the process variables."""
    return {
        "__builtins__": _builtins(), "_getattr_": _guarded_getattr, "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence, "_write_": full_write_guard,
        "_inplacevar_": _inplacevar, "_print_": PrintCollector, "_apply_": lambda f, *a, **k: f(*a, **k),
        "datetime": datetime, "date": date, "timedelta": timedelta, "Decimal": Decimal, "math": math,
    }


@functools.lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> CodeType:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source)
    if result.errors:
        what = "Expression" if mode == "eval" else "Script"
        raise ExpressionError(f"{what} '{_short(source)}' is not allowed: {'; '.join(result.errors)}")
    return result.code


def _short(source: str) -> str:
    text = " ".join(source.split())
    return text if len(text) <= 120 else text[:117] + "..."


class _Deadline:
    """A line tracer that stops scripts running past their time limit."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > self.ends:
            raise ExpressionError(f"Script stopped: it ran longer than its limit of {self.seconds:g} seconds")
        return self


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow environment: JUEL for ``${...}``, restricted Python otherwise."""

    def __init__(self, time_limit: float = 2.0, extra_globals: Mapping[str, Any] | None = None,
                 juel_functions: Mapping[str, Any] | None = None) -> None:
        super().__init__(dict(extra_globals or {}))
        self.time_limit = time_limit
        self.juel_functions = dict(juel_functions or {})

    def _globals(self, context: Mapping[str, Any], external: Mapping[str, Any] | None) -> dict[str, Any]:
        names = base_globals()
        names.update(self.globals)
        names.update(external or {})
        names.update(context)
        return names

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        if is_juel(expression):
            try:
                return evaluate_juel(expression, {**self.globals, **(external_context or {}), **context},
                                     self.juel_functions)
            except JuelError as exc:
                raise ExpressionError(str(exc)) from None
        code = _compile(expression.strip(), "eval")
        try:
            return eval(code, self._globals(context, external_context))  # noqa: S307 - restricted code
        except ExpressionError:
            raise
        except NameError as exc:
            raise ExpressionError(f"Expression '{_short(expression)}' uses an unknown variable: {exc}") from None
        except Exception as exc:
            raise ExpressionError(f"Expression '{_short(expression)}' failed: {exc.__class__.__name__}: {exc}") from None

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        code = _compile(script, "exec")
        names = self._globals(context, external_context)
        reserved = set(base_globals()) | set(self.globals) | set(external_context or {})
        clash = reserved.intersection(context)
        if clash:
            raise ExpressionError(f"Task data overwrites predefined names {sorted(clash)}; rename those variables")
        previous = sys.gettrace()
        sys.settrace(_Deadline(self.time_limit))
        try:
            exec(code, names)  # noqa: S102 - restricted code
        finally:
            sys.settrace(previous)
        context.clear()
        context.update({k: v for k, v in names.items()
                        if k not in reserved and not k.startswith("_") and not callable(v)
                        and not isinstance(v, ModuleType)})
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Service tasks are external tasks in onewindow: a worker completes them")


def make_script_engine(time_limit: float = 2.0, extra_globals: Mapping[str, Any] | None = None,
                       juel_functions: Mapping[str, Any] | None = None) -> PythonScriptEngine:
    """The script engine every workflow gets (set again after each deserialization)."""
    return PythonScriptEngine(environment=RestrictedEnvironment(time_limit, extra_globals, juel_functions))
