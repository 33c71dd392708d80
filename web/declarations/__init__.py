"""Posted-worker declarations per trip (issue 18): the host states' rules as versioned data,
the status and file-by date of each trip's declaration, the filing and its receipt, reminders,
and the EU standard form's JSON export."""

from flask import Blueprint

# No url_prefix: the console's routes live under /declarations/, the JSON export under /api/v1/.
bp = Blueprint("declarations", __name__)

from web.declarations import cli, inspection, routes  # noqa: E402, F401
