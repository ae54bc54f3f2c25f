"""Exceptions every layer may raise; each carries a message a person can act on."""


class RegieError(Exception):
    """Base of Regie's own errors."""


class ConfigurationError(RegieError):
    """The installation is set up in a way Regie refuses to run with."""


class SchemaVersionError(ConfigurationError):
    """The database is at a different migration than this version of Regie expects."""


class CodedError(RegieError):
    """An error whose ``code`` picks the explanation a page or API shows (collect, send, ...)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
