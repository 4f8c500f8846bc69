"""MixteraClient: the entry point of the Python API (DESIGN.md §1)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from . import _mixtera
from .errors import InvalidArgumentError

SpecLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class MixteraClient:
    """A client of one Mixtera directory (local mode).

    Use :meth:`from_directory`; the directory and its metadata store are created when missing.
    Only one process may open a directory at a time. Not thread-safe.
    """

    def __init__(self, engine: "_mixtera.Engine") -> None:
        self._engine = engine

    @staticmethod
    def from_directory(directory: Union[str, "os.PathLike[str]"]) -> "MixteraClient":
        """Opens (creating if missing) the Mixtera directory ``directory``."""
        return MixteraClient(_mixtera.Engine.open(os.fspath(directory)))

    @property
    def directory(self) -> str:
        return self._engine.directory

    def register_dataset(
        self,
        name: Optional[str],
        spec: SpecLike,
        parser: Optional[Callable[[int, Any], Mapping[str, Any]]] = None,
        num_threads: int = 0,
    ) -> Dict[str, Any]:
        """Registers a dataset atomically and returns its report.

        ``spec`` is a path to a YAML/JSON spec file or a dict with the same keys
        (docs/dataset_spec.md); relative paths in a dict resolve against the current
        directory. ``name`` must equal the spec's ``name`` when both are given (a dict
        without ``name`` takes ``name``). ``parser`` (JSONL only) is a callable
        ``parser(line_number, payload) -> dict`` or an object with the original Mixtera's
        ``parse(line_number, payload)`` method; it receives the JSON-decoded line and returns
        the values of the declared properties.

        Returns a dict with ``name``, ``num_files``, ``num_samples``, ``num_skipped``,
        ``bytes``, ``seconds``, ``skipped_examples`` and ``warnings``.
        Raises AlreadyExistsError, InvalidArgumentError, NotFoundError, CorruptionError, ...
        """
        if isinstance(spec, Mapping):
            spec_dict = dict(spec)
            if name is not None:
                if "name" in spec_dict and spec_dict["name"] != name:
                    raise InvalidArgumentError(
                        f"name {name!r} differs from the spec's name {spec_dict['name']!r}")
                spec_dict["name"] = name
            text, base_dir, origin = json.dumps(spec_dict), os.getcwd(), ""
        else:
            path = os.path.abspath(os.fspath(spec))
            try:
                with open(path, "r", encoding="utf-8") as f:
                    text = f.read()
            except FileNotFoundError:
                from .errors import NotFoundError
                raise NotFoundError(f"spec file '{path}' does not exist") from None
            base_dir, origin = os.path.dirname(path), path
            if name is not None:
                import yaml  # Debian's python3-yaml
                declared = (yaml.safe_load(text) or {}).get("name")
                if declared is not None and str(declared) != name:
                    raise InvalidArgumentError(
                        f"{path}: name {name!r} differs from the spec's name {declared!r}")
        report = self._engine.register(text, base_dir, origin, parser, num_threads)
        return json.loads(report)

    def list_datasets(self) -> List[str]:
        """Names of the registered datasets, sorted."""
        return [json.loads(d)["name"] for d in self._engine.list_datasets_json()]

    def dataset_info(self, name: str) -> Dict[str, Any]:
        """The description of dataset ``name`` (as ``mixtera datasets --json``). Raises NotFoundError."""
        return json.loads(self._engine.dataset_info_json(name))

    def check_dataset_exists(self, name: str) -> bool:
        return name in self.list_datasets()

    def remove_dataset(self, name: str) -> bool:
        """Removes dataset ``name`` (the data files stay). Raises NotFoundError."""
        self._engine.remove_dataset(name)
        return True

    def verify(self, name: Optional[str] = None) -> Dict[str, Any]:
        """Reports files whose size or mtime changed since registration."""
        return json.loads(self._engine.verify_json(name))
