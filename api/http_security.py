"""HTTP-level protections in one place: whose address a request comes from behind the reverse proxy, the
session cookie's flags, and the headers every response carries — pages, the REST API, static files, errors.

Why each:

- ``ProxyFix`` with ``ONEWINDOW_PROXY_COUNT`` hops: behind the documented reverse proxy every request would
  otherwise come from the proxy's address, and the sign-in throttle and the audit log would treat the whole
  center as one caller. With 0 (the default) no forwarded header is believed, so a caller cannot pick an
  address by sending one.
- The session cookie is ``HttpOnly``, ``SameSite=Lax`` and, with ``ONEWINDOW_SECURE_COOKIES``, ``Secure``.
  They are *set*: Flask defines these keys already, so ``setdefault`` would change nothing.
- Pages run scripts and styles only from this server (bpmn-js, ECharts and our own files in ``web/static``;
  the data a page hands its scripts is a ``<script type="application/json">`` block, which is never
  executed), cannot be framed (clickjacking), and nothing is content-sniffed. ``tests/browser.py`` fails a
  browser test on any violation of this policy, so the pages are known to work under it.
"""
from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

#: the pages' policy: everything from this server only, no inline script or style, no eval, no plugins, no
#: framing. bpmn-js and diagram-js style what they draw through the DOM's style properties, which CSP allows;
#: ECharts draws its tooltips as rich text inside the chart (web/static/dashboard.js) instead of HTML with
#: style attributes, which it would refuse. ``img-src data:`` is for the breadcrumb arrows of bpmn-js's style
#: sheet (a collapsed subprocess opened in its own view).
PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
#: JSON, CSV, PDF, scripts, style sheets, images, fonts: nothing opened on its own may load or run anything
#: (Chromium's PDF viewer shows the signed documents under it: tried)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    #: case numbers and search terms in URLs stay on this server
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    settings = app.config["ONEWINDOW_SETTINGS"]
    _trust_proxies(app, settings.proxy_count)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.secure_cookies)
    app.after_request(_secure_headers)


def _trust_proxies(app: Flask, count: int) -> None:
    """Believe X-Forwarded-For and X-Forwarded-Proto as far as ``count`` proxies back, no further."""
    if count < 0:
        raise ValueError(f"ONEWINDOW_PROXY_COUNT must be 0 or more, got {count}")
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def _secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy",
                                PAGE_POLICY if response.mimetype == "text/html" else OTHER_POLICY)
    return response
