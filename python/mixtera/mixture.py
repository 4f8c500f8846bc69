"""Mixtures: in which proportions a job's chunks mix the query's samples (DESIGN.md §3.4,
docs/mixtures.md). Each class builds the same document as a mixture file.

    StaticMixture(chunk_size=1024, mixture={MixtureKey({"license": ["MIT"]}): 0.7,
                                            MixtureKey({"license": ["GPL-2.0"]}): 0.3},
                  strict=False, seed=7, shuffle_block=64)

Options common to all (keyword arguments): ``chunk_size`` (samples, or tokens with
``unit="tokens"``), ``unit`` ("samples" | "tokens"), ``strict`` (True: the stream ends at the
first chunk that cannot be filled; False: best effort), ``seed`` and ``shuffle_block`` (a
seeded block shuffle within each component; 0 = file order).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .args import check_limit
from .errors import InvalidArgumentError


class MixtureKey:
    """``{property: [values]}``: matches a component whose value (or one of its list values)
    is among the values, for every named property."""

    def __init__(self, properties: Mapping[str, Any]) -> None:
        if not properties:
            raise InvalidArgumentError("a MixtureKey needs at least one property")
        props: Dict[str, List[Any]] = {}
        for name, values in properties.items():
            if isinstance(values, (list, tuple, set, frozenset)):
                vals = list(values)
            else:
                vals = [values]
            if not vals:
                raise InvalidArgumentError(f"MixtureKey property {name!r} has no values")
            props[str(name)] = vals
        self.properties = dict(sorted(props.items()))

    def to_dict(self) -> Dict[str, List[Any]]:
        return {k: list(v) for k, v in self.properties.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MixtureKey) and self.properties == other.properties

    def __hash__(self) -> int:
        return hash(json.dumps(self.properties, sort_keys=True))

    def __str__(self) -> str:
        return ";".join(name + "".join(f":{v}" for v in vals) for name, vals in self.properties.items())

    def __repr__(self) -> str:
        return f"MixtureKey({self.properties!r})"


def _as_key(key: Union[MixtureKey, Mapping[str, Any]]) -> MixtureKey:
    return key if isinstance(key, MixtureKey) else MixtureKey(key)


class Mixture:
    """Base of all mixtures: the options every mixture file has."""

    type = ""

    def __init__(self, chunk_size: int = 1024, *, unit: str = "samples", strict: bool = True,
                 seed: int = 0, shuffle_block: int = 0, group_by: Optional[Sequence[str]] = None) -> None:
        check_limit("chunk_size", chunk_size)
        check_limit("shuffle.block", shuffle_block, "shuffle_block")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
            raise InvalidArgumentError(f"seed must be an integer in [0, 2^64), got {seed!r}")
        if unit not in ("samples", "tokens"):
            raise InvalidArgumentError(f"unit must be 'samples' or 'tokens', got {unit!r}")
        self.chunk_size = chunk_size
        self.unit = unit
        self.strict = bool(strict)
        self.seed = int(seed)
        self.shuffle_block = int(shuffle_block)
        self.group_by = list(group_by) if group_by else []

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"type": self.type, "chunk_size": self.chunk_size, "unit": self.unit,
                             "strict": self.strict, "seed": self.seed}
        if self.shuffle_block:
            d["shuffle"] = {"block": self.shuffle_block}
        if self.group_by:
            d["group_by"] = self.group_by
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _weights(mixture: Mapping[Any, Any], repeat: Optional[Mapping[Any, int]] = None) -> List[Dict[str, Any]]:
    if not mixture:
        raise InvalidArgumentError("a mixture needs at least one key")
    out = []
    repeat = {(_as_key(k)): v for k, v in (repeat or {}).items()}
    for key, weight in mixture.items():
        k = _as_key(key)
        entry: Dict[str, Any] = {"key": k.to_dict(), "weight": float(weight)}
        if k in repeat:
            entry["repeat"] = int(repeat[k])
        out.append(entry)
    return out


class StaticMixture(Mixture):
    """Fixed weights per key (they must sum to 1). ``repeat={key: N}`` reuses a key's data up
    to N epochs."""

    type = "static"

    def __init__(self, chunk_size: int = 1024, mixture: Optional[Mapping[Any, float]] = None, *,
                 repeat: Optional[Mapping[Any, int]] = None, **options: Any) -> None:
        super().__init__(chunk_size, **options)
        self.mixture = {_as_key(k): float(v) for k, v in (mixture or {}).items()}
        self.repeat = dict(repeat or {})

    def to_dict(self) -> Dict[str, Any]:
        d = super().to_dict()
        d["weights"] = _weights(self.mixture, self.repeat)
        return d


class InferringMixture(Mixture):
    """Keys are the query's components, weighted by their natural proportions."""

    type = "inferring"


class ArbitraryMixture(Mixture):
    """No proportions: chunks are filled with the components in order; only the last chunk may
    be partial (unlike the original, where each chunk held one component)."""

    type = "arbitrary"

    def __init__(self, chunk_size: int = 1024, **options: Any) -> None:
        options.setdefault("strict", False)
        super().__init__(chunk_size, **options)


class Component:
    """One branch of a :class:`MixtureNode`: values of the node's property, a weight, and an
    optional sub-tree."""

    def __init__(self, values: Union[Any, Sequence[Any]], weight: float,
                 submixture: Optional["MixtureNode"] = None) -> None:
        self.values = list(values) if isinstance(values, (list, tuple)) else [values]
        self.weight = float(weight)
        self.submixture = submixture

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"values": self.values, "weight": self.weight}
        if self.submixture is not None:
            d["tree"] = self.submixture.to_dict()
        return d


class MixtureNode:
    """Splits on one property: ``MixtureNode("language", [Component(["en"], 0.7), ...])``."""

    def __init__(self, property_name: str, components: Sequence[Component]) -> None:
        self.property_name = property_name
        self.components = list(components)

    def to_dict(self) -> Dict[str, Any]:
        return {"property": self.property_name, "components": [c.to_dict() for c in self.components]}


class HierarchicalStaticMixture(Mixture):
    """A weight tree; leaf weights are the products down the tree (largest remainder per
    chunk, unlike the original's "remainder to the first key")."""

    type = "hierarchical"

    def __init__(self, chunk_size: int = 1024, mixture: Optional[MixtureNode] = None, **options: Any) -> None:
        super().__init__(chunk_size, **options)
        if mixture is None:
            raise InvalidArgumentError("HierarchicalStaticMixture needs a MixtureNode")
        self.mixture = mixture

    def to_dict(self) -> Dict[str, Any]:
        d = super().to_dict()
        d["tree"] = self.mixture.to_dict()
        return d


class ScheduleEntry:
    """One entry of a ``MixtureSchedule``: from ``start_step`` on, ``mixture`` (a StaticMixture or
    HierarchicalStaticMixture) applies.

    ``ScheduleEntry(start_step, mixture)`` (positional, as the original) counts training steps
    reported through feedback; ``ScheduleEntry(start_chunk=k, mixture=m)`` counts global chunk
    indices instead (a pure function of the stream, identical on every topology). One schedule
    uses one kind.
    """

    def __init__(self, start_step: Optional[int] = None, mixture: Optional[Mixture] = None, *,
                 start_chunk: Optional[int] = None) -> None:
        if (start_step is None) == (start_chunk is None):
            raise InvalidArgumentError("ScheduleEntry needs either start_step (training steps, positional) "
                                       "or start_chunk= (chunk index)")
        if mixture is None:
            raise InvalidArgumentError("ScheduleEntry needs a mixture")
        for name, value in (("start_step", start_step), ("start_chunk", start_chunk)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise InvalidArgumentError(f"ScheduleEntry: {name} must be an integer >= 0, got {value!r}")
        self.start_step = start_step
        self.start_chunk = start_chunk
        self.mixture = mixture


class MixtureSchedule(Mixture):
    """Static mixtures switched by training step (entries made with ``start_step``, as the
    original) or by chunk index (entries made with ``start_chunk=``).

    By training step: ``current_step`` is the largest step reported so far
    (``process_client_feedback``); the current mixture is the entry with the largest
    ``start_step`` at or below it (of equal ones, the one given last), or the first entry
    before any is reached — exactly the original's rule.

    By chunk index: the schedule is part of the job's plan (``type: schedule`` in mixture files).
    The entries' own chunk sizes are ignored.
    """

    type = "schedule"

    def __init__(self, chunk_size: int = 1024, schedule: Optional[Sequence[ScheduleEntry]] = None,
                 **options: Any) -> None:
        super().__init__(chunk_size, **options)
        if not schedule:
            raise InvalidArgumentError("MixtureSchedule needs at least one ScheduleEntry")
        by_step = [e.start_step is not None for e in schedule]
        if any(by_step) and not all(by_step):
            raise InvalidArgumentError("MixtureSchedule: entries by training step (start_step) and by chunk "
                                       "(start_chunk=) cannot be mixed")
        self.by_step = all(by_step)
        key = (lambda e: e.start_step) if self.by_step else (lambda e: e.start_chunk)
        self.schedule = sorted(schedule, key=key)  # stable: equal starts keep their order
        self.current_step = 0

    def process_client_feedback(self, feedback: Any) -> None:
        """Advances ``current_step`` to ``feedback.training_steps`` if that is larger."""
        self.current_step = max(self.current_step, int(feedback.training_steps))

    @property
    def current_mixture(self) -> Mixture:
        """The mixture of the current training step (schedules by step only)."""
        if not self.by_step:
            raise InvalidArgumentError("a schedule by chunk index has no current step; its job's plan "
                                       "switches at the entries' start_chunk")
        for entry in reversed(self.schedule):
            if self.current_step >= entry.start_step:
                return entry.mixture
        return self.schedule[0].mixture

    def step_keys(self) -> List[MixtureKey]:
        """A schedule by step's keys: every entry's keys, in order of first appearance (the
        live job's key ids)."""
        keys: List[MixtureKey] = []
        for e in self.schedule:
            if not isinstance(e.mixture, StaticMixture):
                raise InvalidArgumentError("a MixtureSchedule by training step takes StaticMixture entries")
            for k in e.mixture.mixture:
                if k not in keys:
                    keys.append(k)
        return keys

    def step_weights(self, step: int) -> List[float]:
        """The weights per key id (step_keys) of the entry in force at training step ``step``."""
        entry = self.schedule[0]
        for e in self.schedule:
            if step >= e.start_step:
                entry = e
        return [entry.mixture.mixture.get(k, 0.0) for k in self.step_keys()]

    def to_dict(self) -> Dict[str, Any]:
        if self.by_step:
            # A live job (a dynamic mixture over every entry's keys) whose feedback switches
            # the entries (mixtera.dynamic_mixing.attach_mixing_algorithm).
            d = super().to_dict()
            d["type"] = "dynamic"
            d["weights"] = [{"key": k.to_dict(), "weight": w}
                            for k, w in zip(self.step_keys(), self.step_weights(0))]
            return d
        d = super().to_dict()
        entries = []
        for e in self.schedule:
            inner = e.mixture.to_dict()
            entry: Dict[str, Any] = {"start_chunk": e.start_chunk}
            if "tree" in inner:
                entry["tree"] = inner["tree"]
            elif "weights" in inner:
                entry["weights"] = inner["weights"]
            else:
                raise InvalidArgumentError("schedule entries must be static or hierarchical mixtures")
            entries.append(entry)
        d["schedule"] = entries
        return d


class DynamicMixture(Mixture):
    """Starts from ``initial_mixture`` (static weights); ``mixing_alg`` (a
    ``mixtera.DynamicMixingAlgorithm``: ``AdoDynamicMixing``, ``SimpleAveragingAlgorithm`` or a
    Python subclass) changes the weights from training feedback
    (``client.process_feedback``). Key ids are the initial mixture's keys in order.

    ``mixture_lag_chunks`` (default 0): how many chunks read-ahead may run past what the
    consumers started; a change then lands that many chunks later (docs/mixtures.md, "Live
    jobs"). With 0, the first chunk a consumer starts after ``process_feedback`` returns
    follows the new mixture, and read-ahead waits at the next undecided chunk."""

    type = "dynamic"

    def __init__(self, chunk_size: int = 1024, initial_mixture: Optional[StaticMixture] = None,
                 mixing_alg: Any = None, *, mixture_lag_chunks: int = 0, **options: Any) -> None:
        super().__init__(chunk_size, **options)
        if initial_mixture is None:
            raise InvalidArgumentError("DynamicMixture needs an initial StaticMixture")
        if not isinstance(mixture_lag_chunks, int) or isinstance(mixture_lag_chunks, bool) or mixture_lag_chunks < 0:
            raise InvalidArgumentError(f"mixture_lag_chunks must be an integer >= 0, got {mixture_lag_chunks!r}")
        self.initial_mixture = initial_mixture
        self.mixing_alg = mixing_alg
        self.mixture_lag_chunks = mixture_lag_chunks

    def to_dict(self) -> Dict[str, Any]:
        d = super().to_dict()
        d["weights"] = _weights(self.initial_mixture.mixture, self.initial_mixture.repeat)
        if self.mixture_lag_chunks:
            d["lag_chunks"] = self.mixture_lag_chunks
        return d
