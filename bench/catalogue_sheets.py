"""The item catalogue as a sheet: importing, re-importing and exporting thousands of items, and the public
guide API over them.

A fresh database gets the center's departments, forms and processes (the demo seed); the demo catalogue is
copied into N items (new codes, the limits varied), written as CSV and as .xlsx by the export, then:
import the CSV (every row a new item), import it again (nothing to do: idempotent), export CSV and .xlsx,
import the .xlsx again; and, through the Flask test client, the public list and one guide with and
without If-None-Match. Each import is one command as `onewindow catalogue import` runs it. Not a test:
nothing here asserts a speed.

Usage: python bench/catalogue_sheets.py [--items N] [--postgres URL]
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api import create_app, state  # noqa: E402
from api.demo import seed  # noqa: E402
from bench.harness import fresh_database  # noqa: E402
from engine import catalogue_io, deploy  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import Settings  # noqa: E402


def seconds(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def synthetic_sheet(sessions, folder: Path, count: int) -> Path:
    """The demo catalogue's items (bundles aside) copied into ``count`` rows with new codes."""
    template = folder / "demo.csv"
    with sessions.begin() as session:
        catalogue_io.export_file(session, template, "csv")
    with template.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    header, items = rows[0], [r for r in rows[1:] if "YJS" not in r[0]]
    out = folder / "items.csv"
    with out.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        for n in range(count):
            row = list(items[n % len(items)])
            row[0] = f"BENCH-{n:06d}"
            writer.writerow(row)
    return out


def import_once(sessions, path: Path) -> float:
    def run() -> None:
        sheet = catalogue_io.read_file(path)
        with sessions.begin() as session:
            for _ in catalogue_io.iter_import(session, sheet, "bench", source=path.name):
                pass
    return seconds(run)


def export_once(sessions, path: Path) -> float:
    def run() -> None:
        with sessions.begin() as session:
            catalogue_io.export_file(session, path)
    return seconds(run)


def public_ms(client, url: str, runs: int = 20) -> tuple[float, float]:
    """Median milliseconds of a full answer and of a 304 to If-None-Match."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code, first.get_data(as_text=True)[:300])
    tag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    full, cached = [], []
    for _ in range(runs):
        full.append(seconds(lambda: client.get(url)) * 1000)
        cached.append(seconds(lambda: client.get(url, headers={"If-None-Match": tag})) * 1000)
    return statistics.median(full), statistics.median(cached)


def run(url: str, count: int, folder: Path) -> dict[str, float]:
    settings = Settings.from_env({}, database_url=url)
    app = create_app(settings, test_config={"TESTING": True})
    upgrade(state(app).engine)
    sessions = state(app).sessions
    with sessions.begin() as session:
        deploy.deploy_directory(session, ROOT / "processes", actor="bench")
        seed(session, password=None)
    sheet = synthetic_sheet(sessions, folder, count)
    figures = {"import new CSV": import_once(sessions, sheet), "re-import CSV": import_once(sessions, sheet),
               "export CSV": export_once(sessions, folder / "out.csv"),
               "export xlsx": export_once(sessions, folder / "out.xlsx")}
    figures["re-import xlsx"] = import_once(sessions, folder / "out.xlsx")
    client = app.test_client()
    figures["public list ms"], figures["public list 304 ms"] = public_ms(client, "/public/api/items")
    figures["one guide ms"], figures["one guide 304 ms"] = public_ms(client, "/public/api/items/BENCH-000001")
    state(app).engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--postgres", default=os.environ.get("ONEWINDOW_BENCH_POSTGRES",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/bench_catalogue"))
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.items} items")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run(f"sqlite:///{folder}/bench.db", args.items, Path(folder))
    fresh_database(args.postgres)
    with tempfile.TemporaryDirectory() as folder:
        results["PostgreSQL"] = run(args.postgres, args.items, Path(folder))
    names = list(results["SQLite"])
    print(f"{'':22}" + "".join(f"{db:>12}" for db in results))
    for name in names:
        unit = "" if name.endswith("ms") else " s"
        print(f"{name:22}" + "".join(f"{results[db][name]:>10.1f}{unit:2}" for db in results))


if __name__ == "__main__":
    main()
