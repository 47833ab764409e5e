"""The one error type of the configuration layer.

``zwiebel.encoding`` had no ``ParseError`` when this package was written, so
:class:`ConfigError` is a ``ValueError`` subclass of its own. Its message names the
file and line of the offending torrc entry whenever one is known, e.g.
``/etc/tor/torrc:12: Could not parse CircuitBuildTimeout: Unknown unit in 10 blorps``.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A torrc, command line or option value that tor would refuse."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
