"""A1 Wallet: the application factory. `flask --app app run`, `gunicorn 'app:create_app()'`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from babel import Locale
from flask import Flask, request

from web.config import PROJECT_ROOT, Config
from web.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings read from the environment (tests use it)."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    overrides = dict(config or {})
    settings = Config(overrides.get("INSTANCE_PATH"))
    app.config.from_mapping(settings.as_dict())
    if "DATABASE_URL" in overrides:
        from web.config import normalise_database_url

        overrides["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(overrides.pop("DATABASE_URL"))
    app.config.from_mapping(overrides)
    app.instance_path = app.config["INSTANCE_PATH"]
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    from web.i18n import ensure_compiled_catalogues

    app.config.setdefault("TRANSLATIONS_PATH", str(PROJECT_ROOT / "translations"))
    ensure_compiled_catalogues(app)  # or refuse to start: no language silently turns English
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=app.config["TRANSLATIONS_PATH"],
    )
    htmx.init_app(app)
    from web.i18n import install_fast_template_gettext

    install_fast_template_gettext(app)
    _init_login(app)

    from web.database import init_database

    init_database(app)

    from web.errors import init_errors
    from web.security import init_security

    init_security(app)
    init_errors(app)

    from web.mail import warn_if_mail_missing

    warn_if_mail_missing(app)

    _init_compression(app)

    from web.admin import bp as admin_bp
    from web.api import bp as api_bp
    from web.ask import bp as ask_bp
    from web.auth import bp as auth_bp
    from web.certificates.routes import bp as certificates_bp
    from web.declarations import bp as declarations_bp
    from web.health import bp as health_bp
    from web.operator import bp as operator_bp
    from web.push import bp as push_bp
    from web.pwa import bp as pwa_bp
    from web.support import bp as support_bp
    from web.urls import AnyTextConverter, RowIdConverter
    from web.verify import bp as verify_bp
    from web.wallet import bp as wallet_bp

    # Before the blueprints: their QR-token routes use it.
    app.url_map.converters["any_text"] = AnyTextConverter
    app.url_map.converters["int"] = RowIdConverter
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(wallet_bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(push_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(ask_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(declarations_bp)
    from web.metrics import init_metrics

    init_metrics(app)

    from web.cli import register_cli

    register_cli(app)

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        from web.i18n import LANGUAGE_NAMES, page_languages, select_locale

        return {
            "languages": [(code, LANGUAGE_NAMES[code]) for code in page_languages()],
            "current_locale": select_locale(),
            "country_name": localised_country_name,
        }

    from web.countries import localised_country_name

    app.add_template_filter(localised_country_name, "country_name")
    app.add_template_filter(_duration, "duration")
    from web.certificates.institutions import institution_name

    app.add_template_filter(institution_name, "institution_name")
    from flask_babel import gettext

    from web.vocabulary import label, use_translator

    use_translator(gettext)  # the domain's labels in the request's language

    # The domain's words in templates, through the `term` macro (templates/_macros.html).
    app.add_template_global(label, "vocabulary_label")

    return app


def _duration(seconds: float | None) -> str:
    """42 s, 3 min 5 s, 2 h 10 min: how long ago, for the support console."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# Text compresses 3-8x; images and PDFs are compressed already; a tiny body would grow.
COMPRESSED_MIMETYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
    "text/plain",
]


def _init_compression(app: Flask) -> None:
    """gzip, or brotli where the client accepts it (Flask-Compress), with Vary: Accept-Encoding;
    a strong ETag gets the encoding appended, so conditional requests still answer 304."""
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])  # static files
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    # A 64 KB window, not brotli's 4 MB default: the encoder allocates (and the kernel zeroes)
    # tables sized to the window on every response, ~1 ms for a 4 KB page, while no page needs
    # more (the largest vendored script, 450 KB, grows 0.7 %). benchmarks/verify_page.py.
    app.config.setdefault("COMPRESS_BR_WINDOW", 16)
    Compress(app)


def _select_locale() -> Locale:
    from web.i18n import locale_object, select_locale

    return locale_object(select_locale())


def _init_login(app: Flask) -> None:
    from flask import jsonify, redirect, url_for
    from flask_babel import lazy_gettext as _l

    from web.auth.services import load_signed_in_user

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]
    login_manager.user_loader(load_signed_in_user)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            # A login page swapped into a fragment would be nonsense: send the browser there.
            response = app.response_class(status=401)
            response.headers["HX-Redirect"] = login_url
            return response
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify({"error": "authentication required", "status": 401}), 401
        return redirect(login_url)
