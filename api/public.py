"""The public channels of one-source publication (同源发布): a read-only JSON API and the service-guide
pages (办事指南), both without sign-in, both rendering ``engine.publication`` — the record the window's
receive page shows the clerk.

- ``/public/api/items`` (filters ``department``, ``q``, ``type``), ``/public/api/items/<code>``,
  ``/public/api/items/<code>/form`` (the application form's JSON Schema: the file the server validates
  against), ``/public/api/departments``: for the 一网通办 portal, the mobile app and self-service terminals.
- ``/guide/`` and ``/guide/<code>``: the same records as pages that work without JavaScript.

Every answer carries an ``ETag`` and ``Cache-Control: public, max-age=60``, so terminals and proxies can
keep a copy for a minute and then revalidate cheaply: ``If-None-Match`` with a matching tag (weak
comparison, a list of tags or ``*``, RFC 9110 §13.1.2) is a 304 without a body; ``If-Match`` without a
strong match is a 412 (§13.1.1). An item's tag is its guide's ``revision``; a list's, a page's or a form's
is the hash of what is sent. Errors under /public/api are JSON in the shape of ``api/errors.py``
(``type`` and English ``message``) plus the refusal's ``code`` and ``messageZh``, the sentence in Chinese
for a terminal's screen; pages get the site's error page.

The answers are the same for everyone, so they are rendered as for a visitor even when a clerk is
signed in: a shared cache can never hand one person's page to another.
"""
from __future__ import annotations

import hashlib
import re
from itertools import groupby
from typing import Any, Callable, Literal

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask_babel import force_locale, gettext as _

from engine import codesets, publication
from engine.errors import EngineError, NotFound

from . import db, state
from .bilingual import CHINESE

api_bp = Blueprint("public_api", __name__, url_prefix="/public/api")
guide_bp = Blueprint("guide", __name__, url_prefix="/guide")

CACHE_CONTROL = "public, max-age=60"
#: an entity-tag in a conditional header (RFC 9110 §8.8.3): optional weakness, then the quoted opaque tag
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')


# --------------------------------------------------------------------------- conditional requests

#: what If-Match / If-None-Match: * parses to: any current representation
ANY = "*"


def parse_tags(header: str | None) -> list[tuple[bool, str]] | Literal["*"] | None:
    """The entity-tags of an If-Match / If-None-Match value as (weak, opaque) pairs, ``ANY`` for ``*``, None
    when the header is absent. Malformed parts are skipped: a garbled header then matches nothing and the
    full answer is sent, which is always safe."""
    if header is None:
        return None
    if header.strip() == "*":
        return ANY
    return [(bool(m.group(1)), m.group(2)) for m in _ENTITY_TAG.finditer(header)]


def weak_match(tags: list[tuple[bool, str]] | Literal["*"], current: str) -> bool:
    """RFC 9110 §8.8.3.2 weak comparison (used by If-None-Match): the opaque tags are equal, W/ or not."""
    return tags == ANY or any(opaque == current for _weak, opaque in tags)


def strong_match(tags: list[tuple[bool, str]] | Literal["*"], current: str) -> bool:
    """Strong comparison (used by If-Match): the same opaque tag, neither marked weak. Our tags are strong."""
    return tags == ANY or any(not weak and opaque == current for weak, opaque in tags)


def conditional(body: bytes, tag: str, mimetype: str, *, vary: str | None = None) -> Response:
    """The answer to a GET of ``body`` whose strong ETag is ``tag``: 412, 304 or 200 (RFC 9110 §13.2.2 order:
    If-Match first, then If-None-Match). The 304 repeats the validators and caching headers, nothing else."""
    headers = {"ETag": f'"{tag}"', "Cache-Control": CACHE_CONTROL}
    if vary:
        headers["Vary"] = vary
    if request.blueprint == api_bp.name:
        # public data, no credentials: a portal on another origin may read it and revalidate with the tag
        headers.update({"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"})
    if_match = parse_tags(request.headers.get("If-Match"))
    if if_match is not None and not strong_match(if_match, tag):
        return Response(status=412, headers=headers)
    if_none_match = parse_tags(request.headers.get("If-None-Match"))
    if if_none_match is not None and weak_match(if_none_match, tag):
        response = Response(status=304, headers=headers)
        del response.headers["Content-Type"]
        return response
    return Response(body, mimetype=mimetype, headers=headers)


def _json(data: Any, tag: str | None = None) -> Response:
    """JSON with the record's own revision as its tag, or the hash of the data (a list, a form)."""
    return conditional(current_app.json.dumps(data).encode("utf-8"), tag or publication.revision_of(data),
                       "application/json")


def _page(template: str, **context: Any) -> Response:
    """An HTML page tagged by the hash of its bytes; its words follow Accept-Language (``api.web._locale``)."""
    body = render_template(template, **context).encode("utf-8")
    return conditional(body, hashlib.sha256(body).hexdigest()[:32], "text/html",
                       vary="Accept-Language")


def _as_visitor() -> None:
    """The public answers are the same for everyone (see the module docstring)."""
    g.principal = None


api_bp.before_request(_as_visitor)
guide_bp.before_request(_as_visitor)


# --------------------------------------------------------------------------- errors as JSON under /public/api

def _public_messages() -> dict[str, Callable[[dict[str, Any]], str]]:
    return {"item.bad-type": lambda p: _("%(value)s is not an item type; use one of %(allowed)s.", **p)}


def _in_chinese(exc: EngineError) -> str:
    from .web.messages import describe

    with force_locale(CHINESE):
        template = _public_messages().get(exc.code or "")
        return template(dict(exc.params)) if template else describe(exc)


@api_bp.errorhandler(EngineError)
def _refused(exc: EngineError):
    body = {"type": exc.camunda_type, "message": exc.message, "code": exc.code, "messageZh": _in_chinese(exc)}
    response = current_app.json.response(body)
    response.status_code = exc.status
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --------------------------------------------------------------------------- the JSON API

def _filters() -> dict[str, str | None]:
    return {"department": request.args.get("department", "").strip() or None,
            "query": request.args.get("q", "").strip() or None,
            "item_type": request.args.get("type", "").strip() or None}


@api_bp.get("/items")
def list_items():
    """The published items (summaries: each with its revision, so a client knows which guides to refetch)."""
    with db().begin():
        found = publication.guides(db(), **_filters())
    return _json([g.summary() for g in found])


@api_bp.get("/items/<code>")
def get_item(code: str):
    """The guide record itself, tagged with its revision: byte for byte what every channel renders."""
    with db().begin():
        shown = publication.guide(db(), code)
    return _json(shown.record, shown.revision)


@api_bp.get("/items/<code>/form")
def get_item_form(code: str):
    """The application form of a published item: the JSON Schema the server validates a submission against."""
    with db().begin():
        key = publication.guide(db(), code).form_key
    return _json(state().services.forms.get(key).schema)


@api_bp.get("/departments")
def list_departments():
    with db().begin():
        return _json(publication.departments(db()))


@api_bp.get("/<path:_rest>")
def unknown(_rest: str):
    """A path the public API does not have: a JSON 404, not the clerks' HTML page."""
    raise NotFound(f"No public API at {request.path}; see /public/api/items and /public/api/departments")


# --------------------------------------------------------------------------- the service-guide pages

@guide_bp.get("/")
def guide_list():
    """The guides by department, with a search box and filters that are plain GET forms (no JavaScript)."""
    filters = _filters()
    with db().begin():
        found = publication.guides(db(), **filters)
        departments = publication.departments(db())
    groups = []  # (department, its guides): the list is ordered by department already
    for _code, members in groupby(found, key=lambda shown: shown.record["department"]["code"]):
        listed = list(members)
        groups.append((listed[0].record["department"], listed))
    return _page("guide_list.html", groups=groups, departments=departments, search=filters["query"] or "",
                 department=filters["department"] or "", item_type=filters["item_type"] or "",
                 item_types=list(codesets.ITEM_TYPES.entries.items()))


@guide_bp.get("/<code>")
def guide_page(code: str):
    """One item's 办事指南: every field of the published record (an unknown item is the site's 404 page)."""
    with db().begin():
        shown = publication.guide(db(), code)
    return _page("guide.html", guide=shown.record)


def init_app(app: Flask) -> None:
    """Register both public blueprints. They only answer GET, so there is no form for CSRF to protect."""
    app.register_blueprint(api_bp)
    app.register_blueprint(guide_bp)
