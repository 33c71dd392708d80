"""How the operator commands refuse: a message on stderr, exit status 2, nothing written."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from web.extensions import db
from web.validation import InputError


def fail(message: str) -> NoReturn:
    """Undo the session's changes, print `Error: message` on stderr, exit with status 2."""
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def fail_input(exc: InputError) -> NoReturn:
    """Refuse with every bad field of `exc`, named as its command-line option."""
    fail("; ".join(f"{name.replace('_', '-')}: {msg}" for name, msg in exc.errors.items()))
