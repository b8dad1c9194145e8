"""Errors the CLI reports as runtime errors (exit 1); no heavy imports, so the CLI can name them before numpy loads."""


class ModelIntegrityError(RuntimeError):
    """The model directory is incomplete or an artifact does not match its manifest checksum."""
