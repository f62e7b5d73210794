"""One exception tree for everything referbot reports to a person, caught by category.

    ReferbotError                 anything referbot explains in one line (str(error) is that line)
    ├── ConfigError               settings, profile, flow or channel configuration: fix a file, restart
    ├── StorageError              the database cannot be opened, reached or migrated
    ├── NotFound (LookupError)    a referral, source, nudge … that does not exist
    └── BadRequest (ValueError)   input that cannot be used: unknown period, status, format, date …

The CLI turns ConfigError and StorageError into one line "referbot: …" (exit 2) and NotFound / BadRequest
into a one-line answer (exit 1); chat channels show NotFound / BadRequest to the person who asked.
Nobody needs to match error text to tell them apart. NotFound and BadRequest keep their builtin
bases so code that expected LookupError / ValueError still works.
"""

from __future__ import annotations


class ReferbotError(Exception):
    """Base of every error referbot explains to a person."""


class ConfigError(ReferbotError):
    """Configuration that cannot be used; the message names the file or variable and what to do."""


class StorageError(ReferbotError):
    """The database cannot be used (unreachable, unreadable, wrong schema)."""


class NotFound(ReferbotError, LookupError):
    """Something asked for by name or number does not exist."""


class BadRequest(ReferbotError, ValueError):
    """Input (a command argument, a form field) that cannot be used as given."""
