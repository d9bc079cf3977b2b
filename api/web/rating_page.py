"""The applicant's rating page (好差评), reached from the link in the rating invitation: no account,
the link's token proves the case (``engine.ratings``); one rating per service."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from engine import ratings
from engine.forms import FormInvalid

from .. import db, state
from . import bp
from .form_fields import fields_of, parse

FORM = "rating"


@bp.route("/rate/<key>", methods=["GET", "POST"])
def rate(key: str):
    token = request.args.get("t", "")
    schema = state().services.forms.get(FORM).schema
    values, errors, status = {}, {}, 200
    with db().begin():
        open_for_rating = ratings.awaiting(db(), key, token)
    if request.method == "POST" and open_for_rating:
        values = parse(schema, request.form)
        try:
            with db().begin():
                ratings.rate(db(), key, token, values)
        except FormInvalid as invalid:
            errors, status = invalid.fields, 400
        else:
            return render_template("rated.html", key=key, message=_("Thank you: your rating was recorded."))
    if not open_for_rating:
        closed = render_template("rated.html", key=key, message=_(
            "This service has been rated already, or the time to rate it has passed."))
        return closed, 409 if request.method == "POST" else 200
    return render_template("rate.html", key=key, token=token, title=schema.get("title", ""),
                           fields=fields_of(schema, values, errors)), status
