"""Query: which samples a job trains on (DESIGN.md §3.3, docs/query.md).

    Query.for_job("run-1").select(("language", "==", "Python"))
    Query.for_job("run-1").select([("language", "==", "Python"), ("stars", ">=", 10)])  # AND
    Query.for_job("run-1").select(("language", "==", "HTML")).select(("license", "==", "CC"))  # OR
    Query.for_job("run-1").where("language == 'Python' and stars >= 10")

As in the original Mixtera, a list of conditions inside one ``select`` is an AND, and
**chained ``select`` calls are an OR** (a union). ``('p', '==', [a, b])`` means ``p in (a, b)``
and ``==`` on a ``string_list`` property means "contains". Unlike the original, an unknown
property, an unknown operator, an empty value list or a comparison with ``None`` other than
``==``/``!=`` is an error, never silently dropped.
"""

from __future__ import annotations

import json
import math
from typing import Any, List, Optional, Sequence, Tuple, Union

from .errors import InvalidArgumentError

Condition = Tuple[str, str, Any]
_OPS = ("==", "!=", "<", "<=", ">", ">=")


def _literal(value: Any, where: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgumentError(f"{where}: the value {value!r} is not a finite number (NaN and infinities "
                                   "compare with nothing)")
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise InvalidArgumentError(f"{where}: the value {value} is outside int64")
    if isinstance(value, bool) or isinstance(value, (int, float, str)):
        return value
    raise InvalidArgumentError(f"{where}: unsupported value {value!r} (use str, int, float or bool)")


def _condition_json(cond: Any) -> dict:
    if not isinstance(cond, tuple) or len(cond) != 3:
        raise InvalidArgumentError(f"a condition is a (property, op, value) tuple, got {cond!r}")
    prop, op, value = cond
    if not isinstance(prop, str) or not prop:
        raise InvalidArgumentError(f"condition {cond!r}: the property must be a non-empty string")
    if op not in _OPS:
        raise InvalidArgumentError(f"condition {cond!r}: unknown operator {op!r} (known: {', '.join(_OPS)})")
    if value is None:
        if op == "==":
            return {"op": "is_null", "prop": prop}
        if op == "!=":
            return {"op": "is_not_null", "prop": prop}
        raise InvalidArgumentError(f"condition {cond!r}: only == and != compare with None")
    if isinstance(value, (list, tuple, set, frozenset)):
        values = [_literal(v, f"condition {cond!r}") for v in value]
        if not values:
            raise InvalidArgumentError(f"condition {cond!r}: the value list is empty")
        if len(values) == 1:
            return _condition_json((prop, op, values[0]))
        if op == "==":
            return {"op": "in", "prop": prop, "values": values}
        if op == "!=":
            return {"op": "not", "arg": {"op": "in", "prop": prop, "values": values}}
        return {"op": "or", "args": [{"op": "cmp", "prop": prop, "cmp": op, "value": v} for v in values]}
    return {"op": "cmp", "prop": prop, "cmp": op, "value": _literal(value, f"condition {cond!r}")}


class Query:
    """A query bound to a job id. Build it with :meth:`for_job`, then :meth:`select` / :meth:`where`."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        # The union's branches: ("json", predicate JSON) or ("where", text).
        self._branches: List[Tuple[str, str]] = []

    @classmethod
    def for_job(cls, job_id: str) -> "Query":
        if not isinstance(job_id, str) or not job_id:
            raise InvalidArgumentError("the job id must be a non-empty string")
        return cls(job_id)

    def select(self, condition: Union[None, Condition, Sequence[Condition]]) -> "Query":
        """Adds a branch to the union: ``None`` (everything), a tuple, or a list of tuples (AND)."""
        if condition is None:
            node: dict = {"op": "true"}
        elif isinstance(condition, tuple):
            node = _condition_json(condition)
        elif isinstance(condition, list):
            if not condition:
                node = {"op": "true"}
            else:
                parts = [_condition_json(c) for c in condition]
                node = parts[0] if len(parts) == 1 else {"op": "and", "args": parts}
        else:
            raise InvalidArgumentError(
                f"select takes None, a (property, op, value) tuple or a list of them, got {condition!r}")
        self._branches.append(("json", json.dumps(node)))
        return self

    def where(self, expression: str) -> "Query":
        """Adds a branch in the text grammar, e.g. ``"lang == 'en' and not stars < 3"``."""
        if not isinstance(expression, str):
            raise InvalidArgumentError("where() takes a string")
        self._branches.append(("where", expression))
        return self

    @property
    def branches(self) -> List[Tuple[str, str]]:
        return list(self._branches)

    def __repr__(self) -> str:
        return f"Query(job_id={self.job_id!r}, branches={self._branches!r})"
