"""Errors raised by the encoder library; the service maps them to responses in one place."""

from __future__ import annotations


class EncoderError(Exception):
    """Base class for every error raised while resolving or loading an encoder."""


class UnknownEncoder(EncoderError, KeyError):
    """The requested name is not in the registry."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = sorted(known)
        super().__init__(f"unknown encoder {name!r}; known encoders: {', '.join(self.known) or '(none)'}")

    def __str__(self) -> str:
        # KeyError would otherwise repr() the message and wrap it in quotes.
        return str(self.args[0])


class WeightsMissing(EncoderError, FileNotFoundError):
    """A weight file the encoder needs is not on disk (the model would run on random weights)."""


class WeightsIntegrityError(EncoderError):
    """A weight file's sha256 differs from the recorded one: refuse it, whatever else is allowed."""


class RandomWeightsRefused(EncoderError):
    """The weights are known to be a random initialisation and `allow_random` was not set."""
