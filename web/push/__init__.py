from flask import Blueprint

bp = Blueprint("push", __name__, url_prefix="/push")


@bp.record_once
def _check_settings(state) -> None:  # type: ignore[no-untyped-def]
    """Refuse to start with push settings that would let the relay post inward."""
    from web.push.endpoints import check_push_settings

    check_push_settings(state.app.config)


from web.push import routes  # noqa: E402, F401
