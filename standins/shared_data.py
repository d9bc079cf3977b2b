"""A stand-in for the e-licence library / shared-data exchange (电子证照库 / 数据共享交换平台).

Not part of the product: the real service belongs to the municipal data
platform. This one answers the single call the materials worker makes,
``GET /licences?holder=<credit code or ID number>&type=<material code>``,
from a JSON file of licences (``shared_data.json`` beside this module), so
`make demo` and the tests exercise a real HTTP exchange.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

DATA_FILE = Path(__file__).parent / "shared_data.json"


def create_app(data: dict[str, list[dict[str, Any]]] | None = None) -> Flask:
    records = data if data is not None else json.loads(DATA_FILE.read_text(encoding="utf-8"))
    app = Flask("shared_data_standin")

    @app.get("/licences")
    def licences():
        holder, kind = request.args.get("holder", ""), request.args.get("type", "")
        if not holder or not kind:
            return jsonify({"message": "holder and type are required"}), 400
        found = [r for r in records.get(holder, []) if r.get("type") == kind]
        if not found:
            return jsonify({"licences": []}), 404
        return jsonify({"licences": found})

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # the demo console is for mail and errors
        pass


def serve_in_thread(host: str = "127.0.0.1", port: int = 0,
                    data: dict[str, list[dict[str, Any]]] | None = None) -> BaseWSGIServer:
    """Start the stand-in on a daemon thread; ``server.server_port`` tells the port, ``shutdown()`` stops it."""
    server = make_server(host, port, create_app(data), threaded=True, request_handler=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="shared-data-standin", daemon=True).start()
    return server
