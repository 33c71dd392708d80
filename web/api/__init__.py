from flask import Blueprint
from werkzeug.routing import BaseConverter


class AnyTextConverter(BaseConverter):
    """Any non-empty text, slashes, leading slashes and new lines included: whatever a scanner
    read is answered (werkzeug's ``path`` refuses new lines and a leading slash with a 404)."""

    regex = r"[\s\S]+"
    part_isolating = False


bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Recorded before the routes below, so the converter exists when their rules are added.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("any_text", AnyTextConverter))

from web.api import routes  # noqa: E402, F401
