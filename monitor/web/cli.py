"""``tingfeng web``: serve the dashboard on its own; ``tingfeng web passwd``: set a login password."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from monitor.cli_options import load, store_options

logger = logging.getLogger(__name__)


@click.group(invoke_without_command=True)
@store_options
@click.option("--host", default=None, help="Address to bind (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: [web] port, 8642).")
@click.pass_context
def web(
    ctx: click.Context, db_path: Path | None, config_dir: Path | None, host: str | None, port: int | None
) -> None:
    """Serve the dashboard and JSON API (until Ctrl-C).

    Log in with the password set by `tingfeng web passwd` (or, the first time, the one in the environment
    variable named by [web] password_env); scripts use a bearer token from [web] token_env.
    """
    ctx.ensure_object(dict).update(db_path=db_path, config_dir=config_dir)
    if ctx.invoked_subcommand is not None:
        return
    from monitor.web.app import serve

    config, path = load(config_dir, db_path)
    bind = host or config.monitor.web.host
    if bind not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s: put it behind a TLS reverse proxy and set [web] secure_cookie", bind)
    click.echo(
        f"听风 dashboard on http://{bind}:{port or config.monitor.web.port}/ (database {path})", err=True
    )
    serve(config, path, host=host, port=port)


@web.command()
@click.option("--user", "username", default="admin", show_default=True, help="User to create or update.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set the login password of a dashboard user (created if absent); it is stored scrypt-hashed."""
    from monitor.store import open_db
    from monitor.web.app import prepare_db
    from monitor.web.store import set_password

    _, path = load(ctx.obj.get("config_dir"), ctx.obj.get("db_path"))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    db = open_db(path)
    try:
        prepare_db(db)
        set_password(db, username, password)
    finally:
        db.close()
    click.echo(
        f"password set for {username!r} in {path}; existing sessions of {username!r} are logged out", err=True
    )
