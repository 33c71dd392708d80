from flask import Blueprint

bp = Blueprint("push", __name__, url_prefix="/push")

from web.push import routes  # noqa: E402, F401
