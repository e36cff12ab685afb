"""What every command that reads the store or the config shares: the ``--db`` and ``--config`` options."""

from __future__ import annotations

from pathlib import Path

import click

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database file (default: `database` in monitor.toml, var/tingfeng.db).",
)
config_option = click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Configuration directory (default: the shipped config/).",
)


def store_options(func):
    """Both ``--db`` and ``--config``."""
    return db_option(config_option(func))


def load(config_dir: Path | None, db_path: Path | None):
    """The validated config and the database path the options name (``database`` in monitor.toml by default)."""
    from monitor.config import load_config

    config = load_config(config_dir)
    return config, Path(db_path) if db_path is not None else config.resolve(config.monitor.database)
