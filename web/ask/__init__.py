from flask import Blueprint

bp = Blueprint("ask", __name__)

from web.ask import routes  # noqa: E402, F401
