from flask import Blueprint

# No url_prefix: the QR opens /V/<token>, the typed lookup and the lists live under /verify/.
bp = Blueprint("verify", __name__)

from web.verify import routes  # noqa: E402, F401
