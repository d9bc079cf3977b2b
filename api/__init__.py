"""The Flask application factory: settings → database → services → blueprints."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy.orm as so
from flask import Flask, g
from sqlalchemy.engine import Engine

from engine.clock import Clock
from engine.context import Services
from engine.db import make_engine, make_session_factory
from engine.settings import Settings


@dataclass(frozen=True)
class AppState:
    """What a request needs besides Flask: the database and the engine services."""

    engine: Engine
    sessions: so.sessionmaker[so.Session]
    services: Services


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_AS_ASCII=False,
        ONEWINDOW_SETTINGS=settings,
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False
    services = Services.create(settings, clock)
    engine = make_engine(settings.database_url)
    app.extensions["onewindow"] = AppState(engine, make_session_factory(engine, services), services)
    app.teardown_appcontext(_close_session)

    from . import cli, errors, http_security, public, request_input, web
    from .engine_rest import bp as engine_rest_bp

    errors.init_app(app)
    http_security.init_app(app)  # the client's address behind the proxy, cookie flags, response headers
    request_input.init_app(app)  # paths, query, form and JSON bodies checked before any handler; strict JSON out
    cli.init_app(app)
    app.register_blueprint(engine_rest_bp)
    web.init_app(app)
    public.init_app(app)  # no sign-in: the service guides and their JSON (engine.publication)
    return app


def state(app: Flask | None = None) -> AppState:
    from flask import current_app

    return (app or current_app).extensions["onewindow"]


def db() -> so.Session:
    """The request's session (one per request, closed on teardown). Endpoints frame
    each command with ``with db().begin():``."""
    if "db" not in g:
        g.db = state().sessions()
    return g.db


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()
