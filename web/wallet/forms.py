from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class LocationConsentForm(FlaskForm):
    consent = BooleanField(
        _l("Send my location with an “authority is asking” alert"),
        description=_l("Off unless you turn it on. Support then sees where the check happens."),
    )
