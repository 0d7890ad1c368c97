"""Every error Macaw raises on purpose, and the exit code the CLI gives it.

    MacawError                      1
    ├── ConfigError                 3   bad macaw.toml, bad option value, bad MACAW_* variable
    │   └── UnknownEngineError      4   an engine name no installed plugin provides
    ├── SourceError                10   the input cannot be used
    │   ├── SourceNotFoundError    11   missing file, unknown arXiv id
    │   ├── EmptySourceError       12   an entry or document with no words in it
    │   ├── InvalidIdError         13   a malformed arXiv id or URL
    │   ├── FetchError             14   the network or a server failed
    │   └── RefusedSourceError     15   a remote source refused for safety: private address, hostile XML, too big
    ├── ExtractError               20   the source could not be turned into a document
    │   ├── NotAPdfError           21
    │   ├── EncryptedPdfError      22
    │   ├── NoTextLayerError       23
    │   ├── ResourceLimitError     24   too big, too slow, too much memory
    │   └── DamagedPdfError        25   truncated, circular cross-references, a page tree that loops
    ├── EngineError                30   a model failed
    │   ├── ModelNotFoundError     31   a model file or folder is missing
    │   ├── EngineUnavailableError 32   a server is unreachable, a package is missing
    │   └── EmptyOutputError       33   a model returned nothing usable
    ├── QualityGateFailed          40   the round-trip WER is above the threshold
    ├── PublishError               50   the feed or pages could not be written or validated
    ├── LockHeldError              60   another Macaw run (a night or a build) holds the output root's lock
    └── NightlyError               61   a night in which some items failed (the rest were published)
        └── NightlyAllFailedError  62   a night in which every item that was tried failed

Outside the tree: 2 is a usage error (click), 70 an internal error (a bug), 130 an interrupt.
Each error's message is one line that says what went wrong, with which input, and what to do.
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class MacawError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(MacawError):
    exit_code = 3


class UnknownEngineError(ConfigError):
    exit_code = 4


class SourceError(MacawError):
    exit_code = 10


class SourceNotFoundError(SourceError):
    exit_code = 11


class EmptySourceError(SourceError):
    exit_code = 12


class InvalidIdError(SourceError):
    exit_code = 13


class FetchError(SourceError):
    exit_code = 14


class ExtractError(MacawError):
    exit_code = 20


class NotAPdfError(ExtractError):
    exit_code = 21


class EncryptedPdfError(ExtractError):
    exit_code = 22


class NoTextLayerError(ExtractError):
    exit_code = 23


class ResourceLimitError(ExtractError):
    exit_code = 24


class DamagedPdfError(ExtractError):
    exit_code = 25


class EngineError(MacawError):
    exit_code = 30


class ModelNotFoundError(EngineError):
    exit_code = 31


class EngineUnavailableError(EngineError):
    exit_code = 32


class EmptyOutputError(EngineError):
    exit_code = 33


class QualityGateFailed(MacawError):
    exit_code = 40


class PublishError(MacawError):
    exit_code = 50


class RefusedSourceError(SourceError):
    exit_code = 15


class NightlyError(MacawError):
    exit_code = 61


class NightlyAllFailedError(NightlyError):
    exit_code = 62


class LockHeldError(MacawError):
    exit_code = 60
