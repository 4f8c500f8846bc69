"""Mixtera: a data plane for foundation-model training.

    from mixtera import MixteraClient
    client = MixteraClient.from_directory("/data/mx")
    client.register_dataset("web", "web.yaml")
"""

from .args import QueryExecutionArgs, ResultStreamingArgs
from .client import MixteraClient
from .feedback import ClientFeedback
from .dynamic_mixing import AdoDynamicMixing, DynamicMixingAlgorithm, SimpleAveragingAlgorithm
from .mixture import (ArbitraryMixture, Component, DynamicMixture, HierarchicalStaticMixture,
                      InferringMixture, Mixture, MixtureKey, MixtureNode, MixtureSchedule,
                      ScheduleEntry, StaticMixture)
from .query import Query
from .tokenizer import Tokenizer
from .errors import (AlreadyExistsError, CancelledError, CorruptionError, FailedPreconditionError,
                     InternalError, InvalidArgumentError, MixteraError, MixteraIOError,
                     NotFoundError, OutOfRangeError, UnavailableError, UnimplementedError)

__all__ = [
    "MixteraClient", "ClientFeedback", "Query", "Tokenizer", "QueryExecutionArgs", "ResultStreamingArgs", "MixtureKey", "Mixture", "StaticMixture",
    "InferringMixture", "ArbitraryMixture", "HierarchicalStaticMixture", "MixtureNode", "Component",
    "MixtureSchedule", "ScheduleEntry", "DynamicMixture", "DynamicMixingAlgorithm", "AdoDynamicMixing",
    "SimpleAveragingAlgorithm", "MixteraError", "InvalidArgumentError", "NotFoundError",
    "AlreadyExistsError", "OutOfRangeError", "FailedPreconditionError", "UnavailableError",
    "CancelledError", "MixteraIOError", "CorruptionError", "UnimplementedError", "InternalError",
]
__version__ = "0.1.0"
