"""``tingfeng label ...`` and ``tingfeng model ...``: the analysts' loop from the terminal.

Label posts (one key per label), import and export labels, train a model on them, compare it with the one
in use, promote it (or not) and roll back. Thin commands over ``monitor.labels``, ``monitor.queue``,
``monitor.registry`` and ``monitor.evaluation``.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor.cli_options import load, store_options

MODELS_DIR = "var/models"
SENTIMENT_KEYS = {"1": "negative", "2": "neutral", "3": "positive"}
ESCALATION_KEYS = {"1": "low", "2": "medium", "3": "high"}
KEY_NAMES = {
    "negative": "负面",
    "neutral": "中性",
    "positive": "正面",
    "low": "低",
    "medium": "中",
    "high": "高",
}
REASONS = {"disagree": "两个判断矛盾", "unsure": "模型拿不准", "random": "随机抽样"}


def _by_option(func):
    return click.option(
        "--by", default=None, help="Who is acting (default: $TINGFENG_USER or the login name)."
    )(func)


def _open(db_path: Path | None, config_dir: Path | None):
    from monitor.store import open_db

    config, path = load(config_dir, db_path)
    return open_db(path), config


def _current_path(db, config) -> Path | None:
    """The model in use: the registry's active one, else the configured one, else None (shipped default)."""
    from monitor.registry import active_model_path

    path = active_model_path(db)
    if path is None and config.monitor.model:
        path = config.resolve(config.monitor.model)
    return path


def _now() -> datetime:
    return datetime.now(UTC)


# ---- label ------------------------------------------------------------------------------------------------


@click.group("label", invoke_without_command=True)
@click.option(
    "--task",
    type=click.Choice(["sentiment", "escalation"]),
    default="sentiment",
    show_default=True,
    help="What to label.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="Posts to show.")
@click.option("--stored", is_flag=True, help="Rank by stored classifications instead of the model in use.")
@_by_option
@store_options
@click.pass_context
def label(
    ctx: click.Context,
    task: str,
    limit: int,
    stored: bool,
    by: str | None,
    db_path: Path | None,
    config_dir: Path | None,
) -> None:
    """Label posts one key at a time: the ones the model is least sure about come first.

    Shows a post and waits for one key: 1/2/3 for the label (sentiment: 负面/中性/正面, escalation: 低/中/高),
    s to skip, q to quit. Each label is saved at once. `label import` and `label export` move labels in and
    out as CSV or JSONL.
    """
    if ctx.invoked_subcommand is not None:
        return
    from classifiers import load_model
    from monitor.labels import add_label, default_labeller
    from monitor.queue import next_posts

    db, config = _open(db_path, config_dir)
    classifier = None if stored else load_model(_current_path(db, config))
    items = next_posts(db, task, limit=limit, classifier=classifier)
    if not items:
        click.echo(f"nothing to label for {task}: every stored post has a {task} label")
        return
    keys = SENTIMENT_KEYS if task == "sentiment" else ESCALATION_KEYS
    legend = "  ".join(f"{k} {KEY_NAMES[v]} {v}" for k, v in keys.items()) + "  s 跳过 skip  q 退出 quit"
    who = by or default_labeller()
    done = skipped = 0
    for number, item in enumerate(items, 1):
        click.echo("")
        click.secho(f"[{number}/{len(items)}] {item.feed} · {item.source}:{item.post_id}", bold=True)
        if item.sentiment is not None:
            scores = " ".join(f"{KEY_NAMES[k]}{v:.2f}" for k, v in item.sentiment_scores.items())
            click.echo(
                f"  模型: {KEY_NAMES[item.sentiment]} ({scores}) · 升级风险 {KEY_NAMES[item.escalation]} "
                f"{item.escalation_score:.2f} · {REASONS[item.reason]}"
            )
        click.echo(textwrap.indent(textwrap.fill(item.text, width=60), "  "))
        click.echo(legend)
        while True:
            key = _read_key().lower()
            if key in ("", "q"):
                click.echo(f"\nlabelled {done}, skipped {skipped}")
                return
            if key == "s":
                skipped += 1
                click.echo("  → skipped")
                break
            if key in keys:
                add_label(
                    db,
                    task=task,
                    label=keys[key],
                    source=item.source,
                    post_id=item.post_id,
                    labeller=who,
                    origin="cli",
                    now=_now(),
                )
                done += 1
                click.echo(f"  → {KEY_NAMES[keys[key]]} {keys[key]}")
                break
    click.echo(f"\nlabelled {done}, skipped {skipped}")


def _read_key() -> str:
    """One key press; from a pipe, the next non-blank character (so a session can be scripted)."""
    try:
        if sys.stdin.isatty():
            return click.getchar()
        while True:
            key = sys.stdin.read(1)
            if not key or not key.isspace():
                return key
    except (KeyboardInterrupt, EOFError):  # Ctrl-C / Ctrl-D: stop, keeping what was labelled
        return "q"


@label.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: by suffix."
)
@_by_option
@store_options
def label_import(
    file: Path, fmt: str | None, by: str | None, db_path: Path | None, config_dir: Path | None
) -> None:
    """Import labels from FILE (CSV or JSONL); bad rows are reported with their line and skipped.

    Each row has `text` (or `source` and `post_id` of a stored post) and either `task` and `label`, or
    `sentiment` and/or `escalation` columns. Exit status 1 when any row was skipped.
    """
    from monitor.labels import import_labels

    db, _ = _open(db_path, config_dir)
    report = import_labels(db, file, labeller=by, fmt=fmt, now=_now())
    for error in report.bad:
        click.echo(f"skipped: {error}", err=True)
    click.echo(
        f"imported {report.added} labels ({report.repeated} already present, {len(report.bad)} bad rows)"
    )
    if report.bad:
        sys.exit(1)


@label.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--task", type=click.Choice(["sentiment", "escalation", "alert"]), default=None, help="One task only."
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None, help="Default: by suffix."
)
@store_options
def label_export(
    file: Path, task: str | None, fmt: str | None, db_path: Path | None, config_dir: Path | None
) -> None:
    """Write every label to FILE (CSV or JSONL), oldest first, with who labelled it and when."""
    from monitor.labels import export_labels

    db, _ = _open(db_path, config_dir)
    n = export_labels(db, file, task=task, fmt=fmt)
    click.echo(f"exported {n} labels to {file}")


@label.command("feedback")
@click.argument("incident")
@click.argument("verdict", type=click.Choice(["false_alarm", "confirmed"]))
@_by_option
@store_options
def label_feedback(
    incident: str, verdict: str, by: str | None, db_path: Path | None, config_dir: Path | None
) -> None:
    """Turn a verdict on INCIDENT into escalation labels of its evidence posts.

    false_alarm: each post is low; confirmed: each post is medium (high where the model said high).
    """
    from monitor.labels import labels_from_feedback

    db, _ = _open(db_path, config_dir)
    n = labels_from_feedback(db, incident, verdict, labeller=by, now=_now())
    click.echo(f"added {n} escalation labels from incident {incident} ({verdict})")


# ---- model ------------------------------------------------------------------------------------------------


@click.group("model")
def model() -> None:
    """Train, evaluate, compare, promote and roll back classifier models."""


@model.command("train")
@click.option("--pool/--no-pool", default=True, show_default=True, help="Also learn from the public pool.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same data + seed = same model)."
)
@click.option("--name", default="analyst", show_default=True, help="Prefix of the version name.")
@click.option(
    "--out",
    "models_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where model directories go (default: {MODELS_DIR} under the project).",
)
@_by_option
@store_options
def model_train(
    pool: bool,
    seed: int,
    name: str,
    models_dir: Path | None,
    by: str | None,
    db_path: Path | None,
    config_dir: Path | None,
) -> None:
    """Train a model on the analysts' labels (all but the held-out slice), plus the public pool.

    The new version is scored on every held-out set and registered, not promoted: compare it, then
    promote it. Shows progress on a terminal.
    """
    from monitor.labels import label_counts, training_labels
    from monitor.registry import train

    db, config = _open(db_path, config_dir)
    labels = training_labels(db)
    counts = label_counts(labels)
    click.echo(
        f"training on {counts['sentiment']} sentiment and {counts['escalation']} escalation analyst labels"
        + (" plus the public pool" if pool else ""),
        err=True,
    )
    with TrainingProgress() as progress:
        record = train(
            db,
            models_dir or config.resolve(MODELS_DIR),
            use_pool=pool,
            seed=seed,
            progress=progress,
            by=by,
            name=name,
            labels=labels,
            now=_now(),
        )
    click.echo(f"trained {record['version']} → {record['path']}")
    for set_name, figures in record["metrics"].items():
        key = next(k for k in figures if k.endswith("_f1") and k != "macro_f1")
        click.echo(
            f"  {set_name:<20} n={figures['n']:<6} accuracy {figures['accuracy']:.3f}  "
            f"macro-F1 {figures['macro_f1']:.3f}  {key} {figures[key]:.3f}"
        )
    click.echo(f"next: tingfeng model compare {record['version']}")


class TrainingProgress:
    """tqdm over the training stages on a terminal; nothing in pipes and CI."""

    def __enter__(self):
        from tqdm import tqdm

        # A terminal that reports no size (a bare pty) would hide the bar: assume 80×24.
        size = shutil.get_terminal_size()
        self.bar = tqdm(
            total=6,
            desc="reading data",
            unit="step",
            ncols=size.columns or 80,
            nrows=size.lines or 24,
            disable=not sys.stderr.isatty(),
        )
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        self.bar.total = max(total, self.bar.total or 0)
        self.bar.set_description(stage)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc) -> None:
        self.bar.close()


@model.command("evaluate")
@click.argument("model_name", metavar="[MODEL]", required=False)
@click.option("--snownlp", is_flag=True, help="Score SnowNLP on the public sets too (if installed).")
@store_options
def model_evaluate(
    model_name: str | None, snownlp: bool, db_path: Path | None, config_dir: Path | None
) -> None:
    """Score MODEL (a version or a directory; default: the one in use) on every held-out set.

    The sets: SMP2020-EWECT usual_test, ChnSentiCorp hotels, the project's escalation test set and the
    held-out slice of the analysts' labels (never trained on).
    """
    from classifiers import format_report, load_model
    from monitor import evaluation
    from monitor.registry import resolve

    db, config = _open(db_path, config_dir)
    classifier = load_model(resolve(db, model_name) if model_name else _current_path(db, config))
    report = evaluation.evaluate(classifier, evaluation.heldout(db)).report()
    if snownlp:
        from classifiers.evaluate import evaluate_classifier

        theirs = evaluate_classifier(classifier, with_snownlp=True)
        report["snownlp"] = theirs.get("snownlp")
        for name, result in theirs["sets"].items():
            if "snownlp" in result and name in report["sets"]:
                report["sets"][name]["snownlp"] = result["snownlp"]
    click.echo(format_report(report))


@model.command("compare")
@click.argument("candidate")
@click.argument("current", required=False)
@click.option(
    "--tolerance", type=float, default=None, help="Promotion tolerance to check against (default 0.01)."
)
@store_options
def model_compare(
    candidate: str,
    current: str | None,
    tolerance: float | None,
    db_path: Path | None,
    config_dir: Path | None,
) -> None:
    """Compare CANDIDATE with CURRENT (default: the model in use) on the same held-out examples.

    Per set and per class; a difference whose 95% bootstrap interval leaves out zero is marked better or
    worse, the rest is noise.
    """
    from classifiers import load_model
    from monitor import evaluation
    from monitor.registry import TOLERANCE, resolve

    db, config = _open(db_path, config_dir)
    current_model = load_model(resolve(db, current) if current else _current_path(db, config))
    candidate_model = load_model(resolve(db, candidate))
    sets = evaluation.heldout(db)
    comparison = evaluation.compare(
        evaluation.evaluate(current_model, sets), evaluation.evaluate(candidate_model, sets)
    )
    _show_comparison(comparison, TOLERANCE if tolerance is None else tolerance)


def _show_comparison(comparison, tolerance: float) -> None:
    click.echo(f"current   {comparison.current}")
    click.echo(f"candidate {comparison.candidate}")
    better = worse = 0
    for name, result in comparison.sets.items():
        click.echo("")
        click.secho(f"{name} (n={result.n})", bold=True)
        click.echo(f"  {'':<16}{'current':>9}{'candidate':>11}{'change':>9}   95% interval")
        for row in result.rows:
            line = (
                f"  {row.metric:<16}{row.current:>9.3f}{row.candidate:>11.3f}{row.delta:>+9.3f}"
                f"   [{row.low:+.3f}, {row.high:+.3f}]"
            )
            if row.matters and row.delta > 0:
                better += 1
                click.secho(line + "  ▲ better", fg="green", bold=True)
            elif row.matters and row.delta < 0:
                worse += 1
                click.secho(line + "  ▼ worse", fg="red", bold=True)
            else:
                click.echo(line)
    click.echo("")
    click.echo(f"beyond noise: {better} better, {worse} worse (the rest is within the 95% interval of zero)")
    regressions = comparison.regressions(tolerance)
    if regressions:
        click.secho(f"promote would refuse (tolerance {tolerance:.3f}):", fg="red", bold=True)
        for line in regressions:
            click.echo(f"  {line}")
    else:
        click.echo(f"promote would accept (no held-out set worse beyond tolerance {tolerance:.3f} and noise)")


@model.command("promote")
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if worse on a held-out set (needs --reason).")
@click.option("--reason", default="", help="Why (recorded in the registry's history).")
@click.option(
    "--tolerance", type=float, default=None, help="Allowed drop in F1 on any held-out set (default 0.01)."
)
@_by_option
@store_options
def model_promote(
    version: str,
    force: bool,
    reason: str,
    tolerance: float | None,
    by: str | None,
    db_path: Path | None,
    config_dir: Path | None,
) -> None:
    """Make VERSION the model in use, after comparing it with the current one on every held-out set.

    Refused (exit 2) when it is worse beyond the tolerance and noise on any held-out set, unless --force
    with --reason. A running monitor switches to it within a minute, without a restart.
    """
    from monitor.registry import TOLERANCE, PromotionRefused, promote

    db, config = _open(db_path, config_dir)
    tolerance = TOLERANCE if tolerance is None else tolerance
    current_path = config.resolve(config.monitor.model) if config.monitor.model else None
    try:
        result = promote(
            db,
            version,
            by=by,
            force=force,
            reason=reason,
            tolerance=tolerance,
            current_path=current_path,
            now=_now(),
        )
    except PromotionRefused as exc:
        _show_comparison(exc.comparison, tolerance)
        raise
    if result.comparison is not None:
        _show_comparison(result.comparison, tolerance)
    click.echo(
        f"\npromoted {result.version} (was {result.previous})"
        + (" — FORCED: " + reason if result.forced else "")
    )


@model.command("rollback")
@click.option("--reason", default="", help="Why (recorded in the registry's history).")
@_by_option
@store_options
def model_rollback(reason: str, by: str | None, db_path: Path | None, config_dir: Path | None) -> None:
    """Make the previously active model version active again."""
    from monitor.registry import rollback

    db, _ = _open(db_path, config_dir)
    result = rollback(db, by=by, reason=reason, now=_now())
    click.echo(f"rolled back to {result.version} (was {result.previous})")


@model.command("list")
@store_options
def model_list(db_path: Path | None, config_dir: Path | None) -> None:
    """Registered model versions, newest first: key figures, who promoted it, what it learned from."""
    from monitor.registry import history, list_models

    db, _ = _open(db_path, config_dir)
    rows = list_models(db)
    if not rows:
        click.echo("no models registered yet (tingfeng model train)")
        return
    reasons = {}
    for event in history(db):
        if event["action"] in ("promote", "rollback", "baseline"):
            reasons[event["version"]] = f"{event['action']} by {event['by']}" + (
                f": {event['reason']}" if event["reason"] else ""
            )
    for row in rows:
        mark = "*" if row["active"] else " "
        click.secho(f"{mark} {row['version']}", bold=bool(row["active"]))
        click.echo(f"    created {row['created_at']}  {row['notes'] or ''}")
        figures = []
        for name, m in row["metrics"].items():
            key = next((k for k in m if k.endswith("_f1") and k != "macro_f1"), "macro_f1")
            figures.append(f"{name} {key} {m.get(key, 0):.3f}")
        if figures:
            click.echo("    " + " · ".join(figures))
        if row["version"] in reasons:
            click.echo(f"    last: {reasons[row['version']]} ({row['promoted_at'] or ''})")
    if not any(row["active"] for row in rows):
        click.echo("(no version promoted: the configured or shipped default model is in use)")
