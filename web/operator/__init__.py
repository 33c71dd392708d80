from flask import Blueprint

bp = Blueprint("operator", __name__, url_prefix="/operator")

from web.operator import keys, reviews, routes  # noqa: E402, F401
