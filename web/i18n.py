"""Language choice: the signed-in user's setting, else the picker's choice, else Accept-Language."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user

LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "nl": "Nederlands",
    "it": "Italiano",
    "es": "Español",
    "pl": "Polski",
}


# Inspectors anywhere in Europe read the public verification pages: more languages there.
PUBLIC_LANGUAGES = ("en", "fr", "de", "nl", "it", "es", "pl")
PUBLIC_BLUEPRINTS = frozenset({"verify", "api"})
PUBLIC_PATHS = ("/V/", "/v/", "/verify", "/api/")  # also for their 404s, which have no blueprint


def app_languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def is_public_page() -> bool:
    """The anonymous verification pages: their own languages, no session, no cookies."""
    if not has_request_context():
        return False
    return request.blueprint in PUBLIC_BLUEPRINTS or request.path.startswith(PUBLIC_PATHS)


def page_languages() -> tuple[str, ...]:
    return PUBLIC_LANGUAGES if is_public_page() else app_languages()


def select_locale() -> str:
    languages = app_languages()
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # CLI, jobs: messages in English
    if is_public_page():
        # The switcher is a plain link (?lang=xx): no session, so no cookie for inspectors.
        chosen = request.args.get("lang")
        if chosen in PUBLIC_LANGUAGES:
            return chosen
        return request.accept_languages.best_match(PUBLIC_LANGUAGES) or "en"
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def page_translations():
    """flask_babel.get_translations(), remembered for the request and locale: it costs ~14 µs a
    call and a verification page makes forty. A forced locale is another Locale object, so
    `force_locale` (the inspector view, reminders) still gets its own language."""
    from flask import g
    from flask_babel import get_translations

    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None) if state is not None else None
    memo = getattr(state, "a1w_translations", None) if state is not None else None
    if locale is not None and memo is not None and memo[0] is locale:
        return memo[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    if state is not None:
        state.a1w_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def install_fast_template_gettext(app) -> None:
    """Templates translate through page_translations (same strings, same newstyle formatting)."""
    app.jinja_env.install_gettext_callables(
        lambda message: page_translations().ugettext(message),
        lambda singular, plural, n: page_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
