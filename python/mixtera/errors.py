"""Exceptions raised by Mixtera.

Every error is a :class:`MixteraError`; each also derives from the closest builtin, so
``except ValueError`` catches an invalid spec and ``except LookupError`` an unknown dataset.
The native module maps each status code to one of these classes (python/src/status_bridge.cc).
"""


class MixteraError(Exception):
    """Base class of all Mixtera errors."""


class InvalidArgumentError(MixteraError, ValueError):
    """A bad spec, option, query or request: change the input."""


class NotFoundError(MixteraError, LookupError):
    """An unknown dataset, file, job or property, or a path that does not exist."""


class AlreadyExistsError(MixteraError, ValueError):
    """A dataset or job of that name is already registered."""


class OutOfRangeError(MixteraError, IndexError):
    """Reading past the end."""


class FailedPreconditionError(MixteraError, RuntimeError):
    """The system is in the wrong state for the call (e.g. a file changed since registration)."""


class UnavailableError(MixteraError, ConnectionError):
    """A server is unreachable; safe to retry."""


class CancelledError(MixteraError, RuntimeError):
    """The operation was cancelled."""


class MixteraIOError(MixteraError, OSError):
    """The operating system or file system failed."""


class CorruptionError(MixteraError, ValueError):
    """A malformed record, truncated archive or corrupt file."""


class UnimplementedError(MixteraError, NotImplementedError):
    """A feature that does not exist yet."""


class InternalError(MixteraError, RuntimeError):
    """A bug in Mixtera: please report it with the message."""
