"""A Camunda 7 compatible REST subset under /engine-rest.

Each module adds its routes to ``bp``; every endpoint parses input, runs one
engine command inside ``with db().begin():`` and shapes the response the way
Camunda does, so existing Camunda clients and external-task workers work.
"""
from __future__ import annotations

from flask import Blueprint

from ..auth import require_api_auth

bp = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")


@bp.before_request
def _authenticate() -> None:
    from flask import request

    if request.endpoint == "engine_rest.openapi" or request.endpoint == "engine_rest.engine_info":
        return
    require_api_auth()


from . import (calendar_admin, case_clocks, cases, catalogue_adjustments, definitions, deployments,  # noqa: E402,F401
               external_tasks, incidents, instances, jobs, messages, migration, openapi, supervision, tasks,
               versions)
