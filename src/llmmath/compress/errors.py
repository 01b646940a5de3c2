"""What can go wrong when decompressing, each with its own exception (all ``ValueError``)."""

from __future__ import annotations

from llmmath.errors import InvalidValueError

__all__ = ["ContainerError", "CorruptDataError", "ModelMismatchError"]


class ContainerError(InvalidValueError):
    """A file that is not an llmmath compressed file, or one that is damaged or cut short.

    Lesson: none (part of the ``llmmath compress`` command).
    """


class CorruptDataError(InvalidValueError):
    """Compressed data that cannot have come from the encoder with this model.

    Lesson: none (part of the ``llmmath compress`` command).
    """


class ModelMismatchError(InvalidValueError):
    """The model given to decompress is not the one the data was compressed with.

    Lesson: none (part of the ``llmmath compress`` command).
    """
