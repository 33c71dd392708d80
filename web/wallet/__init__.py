from flask import Blueprint

bp = Blueprint("wallet", __name__, url_prefix="/wallet")

from web.wallet import routes  # noqa: E402, F401
