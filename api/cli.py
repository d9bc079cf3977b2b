"""The `onewindow` command. Commands are thin: each calls one engine function in
one transaction and echoes the result (the Flask tutorial's pattern)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from engine import caseclock, deploy, identity, migrate, password_checks, workdays
from engine.errors import EngineError
from engine.scheduler import TimerScheduler
from engine.settings import Settings

from .cli_catalogue import catalogue_group
from .cli_design import lint_command, validate_command
from .cli_scenarios import test_command
from .cli_versions import diff_command, migrate_command, versions_command


def _create_app() -> Flask:
    from . import create_app

    return create_app()


def _state():
    from . import state

    return state(current_app)


def init_app(app: Flask) -> None:
    for command in (db_group, deploy_command, user_group, token_group, serve_command,
                    scheduler_command, worker_command, calendar_group, seed_cases_command):
        app.cli.add_command(command)
    app.cli.add_command(test_command)
    app.cli.add_command(validate_command)
    app.cli.add_command(lint_command)
    app.cli.add_command(catalogue_group)
    for command in (versions_command, diff_command, migrate_command):
        app.cli.add_command(command)


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create or migrate the schema to the latest revision.")
def db_upgrade() -> None:
    migrate.upgrade(_state().engine)
    click.echo(f"database at revision {migrate.current_revision(_state().engine)}")


@click.command("deploy", help="Deploy BPMN files or directories to the local database, or with --url to a "
                              "onewindow server over its REST API.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--name", default=None, help="Deployment name.")
@click.option("--url", envvar="ONEWINDOW_URL", default=None,
              help="Deploy to this server (http://host:port, or its /engine-rest address) [env ONEWINDOW_URL].")
@click.option("--token", envvar="ONEWINDOW_TOKEN", default=None,
              help="API token of a designer for --url (`onewindow token create`) [env ONEWINDOW_TOKEN].")
@with_appcontext
def deploy_command(paths: tuple[Path, ...], name: str | None, url: str | None, token: str | None) -> None:
    from flask_babel import gettext as _

    from .bilingual import say

    files = []
    for path in paths or (_state().services.settings.processes_dir,):
        files.extend(sorted(path.rglob("*.bpmn")) if path.is_dir() else [path])
    resources = [(f.name, f.read_bytes()) for f in files]
    if not resources:
        raise click.ClickException("no .bpmn files found")
    if url:
        new, unchanged = _deploy_remotely(url, token, resources, name or "cli")
    else:
        with _state().sessions.begin() as session:
            result = deploy.deploy(session, resources, name=name or "cli", source="cli", actor="cli")
        new = [(d.key, d.version, d.resource_name) for d in result.new_definitions]
        unchanged = [(d.key, d.version) for d in result.unchanged_definitions]
    for key, version, resource in new:
        say(lambda: _("deployed %(key)s version %(version)d (%(resource)s)", key=key, version=version,
                      resource=resource))
    for key, version in unchanged:
        say(lambda: _("unchanged %(key)s version %(version)d", key=key, version=version))


def _deploy_remotely(url: str, token: str | None, resources: list, name: str) -> tuple[list, list]:
    """POST /engine-rest/deployment/create; the server's validation problems are printed one a line."""
    from flask_babel import gettext as _

    from .bilingual import say
    from .remote_deploy import RemoteDeployError, deploy_remotely

    if not token:
        raise click.UsageError("--url needs --token (or ONEWINDOW_TOKEN): an API token of a designer")
    try:
        result = deploy_remotely(url, token, resources, name=name)
    except RemoteDeployError as exc:
        reason, problems, status = str(exc), exc.problems, exc.status
        if problems:
            say(lambda: _("The server refused the deployment (HTTP %(status)s):", status=status), err=True)
        else:
            say(lambda: _("The server refused the deployment: %(reason)s", reason=reason), err=True)
        for problem in problems:
            where = problem.get("resource", "") + (f":{problem['line']}" if problem.get("line") else "")
            element = f" [{problem['elementId']}]" if problem.get("elementId") else ""
            click.echo(f"  {where}{element}: {problem.get('message')}", err=True)
        raise SystemExit(1) from None
    return result.new, result.unchanged


@click.group("user", help="Users and their roles.")
def user_group() -> None:
    pass


@user_group.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--group", "groups", multiple=True, help=f"Role/group; any of {', '.join(identity.ROLES)}.")
@click.option("--department", default=None)
@click.option("--name", "display_name", default=None)
def user_create(username: str, password: str, groups: tuple[str, ...], department: str | None,
                display_name: str | None) -> None:
    from engine.access import DEPARTMENT_WIDE

    if set(groups) & set(DEPARTMENT_WIDE) and not department:
        raise click.UsageError(f"a {'/'.join(sorted(set(groups) & set(DEPARTMENT_WIDE)))} oversees a department's "
                               "cases: give --department (center for the center's supervisors)")
    with _state().sessions.begin() as session:
        identity.create_user(session, username, password, display_name=display_name, groups=groups,
                             department=department)
    click.echo(f"created user {username}")


@user_group.command("unlock", help="Clear the recent failed sign-ins of a user (or with --address, of an "
                                   "address), so the next attempt is checked at once; audited.")
@click.argument("username", required=False)
@click.option("--address", default=None, help="Unlock this client address (for every name) instead.")
def user_unlock(username: str | None, address: str | None) -> None:
    if bool(username) == bool(address):
        raise click.UsageError("give a user name or --address, not both")
    with _state().sessions.begin() as session:
        cleared = password_checks.unlock(session, username=username, remote=address, actor="cli")
    click.echo(f"unlocked {username or address}: {cleared} failed sign-in(s) cleared")


@click.group("token", help="API tokens for workers and integrations.")
def token_group() -> None:
    pass


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="worker", help="What the token is for.")
def token_create(username: str, name: str) -> None:
    with _state().sessions.begin() as session:
        secret = identity.create_token(session, username, name)
    click.echo(secret)


@click.command("serve", help="Serve the app with waitress (for the demo; production uses gunicorn).")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=16, type=int)
def serve_command(host: str, port: int, threads: int) -> None:
    if not current_app.config.get("SECRET_KEY"):
        click.echo("ONEWINDOW_SECRET_KEY is not set: the REST API serves, the pages answer 503 until it is set",
                   err=True)
    _serve(host, port, threads)


def _serve(host: str, port: int, threads: int) -> None:
    """Waitress with the app's log lines (refusals, errors) on the console."""
    import logging

    from waitress import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line a second would bury what matters
    click.echo(f"onewindow on http://{host}:{port}/ (Ctrl-C stops)")
    serve(current_app._get_current_object(), host=host, port=port, threads=threads)


@click.command("demo", help="Migrate, deploy processes/, seed demo data, then serve with scheduler and workers.")
@click.option("--port", default=5000, type=int)
def demo_command(port: int) -> None:
    """Builds its own app: the demo's secret key (ONEWINDOW_SECRET_KEY, or a random one kept in the data folder)
    is settled before the app exists, so cookies, CSRF tokens and rating links are all signed with it."""
    from . import create_app

    app = create_app(Settings.from_env().with_kept_secret())
    with app.app_context():
        _run_demo(port)


def _run_demo(port: int) -> None:
    import threading

    from standins import shared_data, smtp
    from workers.service import start_in_process
    from workers.settings import WorkerSettings

    from .demo import seed

    state = _state()
    migrate.upgrade(state.engine)
    with state.sessions.begin() as session:
        result = deploy.deploy_directory(session, state.services.settings.processes_dir, actor="demo")
        created = seed(session)
        token = identity.create_token(session, "worker", "demo workers")
    click.echo(f"deployed {len(result.new_definitions)} new definition(s); seeded {created} user(s)")
    settings = WorkerSettings.from_env(engine_url=f"http://127.0.0.1:{port}/engine-rest", worker_token=token)
    mailbox = settings.documents_dir.parent / "mailbox"
    mail = smtp.start(mailbox, port=settings.smtp_port)
    lookup = shared_data.serve_in_thread(port=int(settings.shared_data_url.rsplit(":", 1)[1]))
    click.echo(f"stand-ins: SMTP debugging server on :{settings.smtp_port} (mail in {mailbox}), "
               f"shared-data service on {settings.shared_data_url}")
    scheduler = make_scheduler()
    scheduler.start()
    stop = threading.Event()
    start_in_process(settings, stop)
    click.echo("scheduler and workers running in this process (timers, case clocks, service tasks)")
    try:
        _serve("127.0.0.1", port, threads=16)
    finally:
        stop.set()
        scheduler.shutdown()
        lookup.shutdown()
        mail.stop()


@click.command("worker", help="Do service tasks (external tasks) over the engine's REST API; run as many as you like.")
@click.option("--topic", "topics", multiple=True, help="Only this topic (repeatable); default: every topic.")
@click.option("--threads", type=int, default=None, help="Tasks worked on at once (ONEWINDOW_WORKER_THREADS).")
def worker_command(topics: tuple[str, ...], threads: int | None) -> None:
    import threading

    from workers.service import make_worker
    from workers.settings import WorkerSettings

    settings = WorkerSettings.from_env(**({"worker_threads": threads} if threads else {}))
    try:
        worker = make_worker(settings, topics)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"onewindow worker {worker.worker_id} on {settings.engine_url} for {', '.join(worker.handlers)} "
               "(Ctrl-C stops)")
    stop = threading.Event()
    try:
        worker.run(stop)
    except KeyboardInterrupt:
        stop.set()


def make_scheduler(blocking: bool = False) -> TimerScheduler:
    """Timers and case clocks on one APScheduler interval; safe to run on many nodes at once."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    state = _state()
    factory = state.sessions
    settings = state.services.settings
    return TimerScheduler(factory, settings.scheduler_interval,
                          scheduler=BlockingScheduler(timezone="UTC") if blocking else None,
                          extra_jobs=[lambda: caseclock.check_due(factory)])


@click.command("scheduler", help="Fire due timers and move case clocks; run as many as you like against PostgreSQL.")
def scheduler_command() -> None:
    click.echo("onewindow scheduler running (Ctrl-C stops)")
    try:
        make_scheduler(blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass


@click.group("calendar", help="The working-day calendar: official year arrangements and local rules.")
def calendar_group() -> None:
    pass


@calendar_group.command("load-year", help="Load a year's official holiday arrangement (JSON file).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_load_year(path: Path) -> None:
    with _state().sessions.begin() as session:
        arrangement = workdays.load_year(session, path.read_text(encoding="utf-8"), actor="cli")
    click.echo(f"loaded {arrangement.year}: {len(arrangement.holidays)} holiday(s), "
               f"{len(arrangement.workdays)} make-up workday(s); estimated deadlines recomputed")


@calendar_group.command("load-rules", help="Load local rules: a JSON list of {day, workday, note}.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def calendar_load_rules(path: Path) -> None:
    with _state().sessions.begin() as session:
        count = workdays.load_rules_file(session, path.read_text(encoding="utf-8"), actor="cli")
    click.echo(f"loaded {count} local rule(s)")


@click.command("seed-cases", help="Write synthetic cases for load measurements (a bench database only: they have "
                                  "no workflow state). Needs processes/ deployed and the catalogue seeded.")
@click.argument("count", type=click.IntRange(min=1))
@click.option("--days", default=365, show_default=True, help="Spread the receipts over this many days.")
@click.option("--batch", default=5000, show_default=True, help="Cases per transaction.")
@click.option("--first", default=0, show_default=True, help="Number of the first case (to add to earlier ones).")
def seed_cases_command(count: int, days: int, batch: int, first: int) -> None:
    from engine.synthetic import seed_cases

    with click.progressbar(length=count, label="synthetic cases", show_pos=True, show_eta=True) as bar:
        done = 0
        for step in seed_cases(_state().sessions, count, days=days, batch=batch, start_number=first):
            bar.update(step.written - done)
            done = step.written
    click.echo(f"{count} cases written")


class OnewindowGroup(FlaskGroup):
    """Engine errors are the user's input problems: print their message, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except EngineError as exc:
            raise click.ClickException(str(exc)) from None


main = OnewindowGroup(create_app=_create_app, name="onewindow", help="onewindow: BPMN engine for the service center.")
main.add_command(demo_command)  # on the group, not the app: it builds its own app, key settled first
