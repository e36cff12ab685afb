"""What the pages and the API show: plain reads of the store, returning dicts and lists.

Other areas' tables (alerting, feeds, models) may be absent in an older or partial database; every read of
them checks first and shows nothing rather than failing, so the dashboard still opens.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlite_utils

from monitor.errors import InputError
from monitor.events import SEVERITIES

logger = logging.getLogger(__name__)

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES, start=1)}
OPEN_STATUSES = ("new", "growing", "cooling")
HOUR = timedelta(hours=1)
SENTIMENTS = ("negative", "neutral", "positive")
ESCALATIONS = ("low", "medium", "high")
TASK_LABELS = {"sentiment": SENTIMENTS, "escalation": ESCALATIONS}

# The latest classification of a post (any model version); the pk index makes this a short lookup.
_LATEST_CLASSIFICATION = """
    left join classifications c on c.rowid = (
        select rowid from classifications
        where source = p.source and post_id = p.id
        order by classified_at desc limit 1
    )
"""
_POST_COLUMNS = """
    p.source, p.id, p.text, p.url, p.author, p.author_followers, p.author_verified, p.created_at,
    p.first_seen_at, p.reposts, p.comments, p.likes, p.feed, p.brand,
    c.sentiment, c.p_negative, c.p_neutral, c.p_positive, c.escalation, c.escalation_score, c.model_version
"""

# The order of the posts page: coalesce(created_at, first_seen_at) in UTC as SQLite's datetime() writes it, kept
# by the store as sort_at and indexed (``posts_newest``, ``posts_feed_newest``), so a page reads that index from
# its newest end instead of sorting the whole table.
NEWEST = "p.sort_at"
# When a search word matches fewer posts than this, the full-text index picks the posts and they are sorted;
# when it matches more, posts are read newest first and each is checked against the matches.
FTS_DRIVE_LIMIT = 10_000
# Words of one or two characters cannot use the trigram index: unless a longer word lets the index pick the
# posts, they are looked for among this many newest posts (within the date range when one is given), so that a
# rare short word does not read the whole table.
SHORT_WORD_WINDOW = 200_000
RECENT_FEED_POSTS = 10_000


def has_table(db: sqlite_utils.Database, name: str) -> bool:
    return db[name].exists()


def parse_time(text: str | None) -> datetime | None:
    """A stored ISO-8601 time as an aware datetime (naive taken as UTC); None when absent or unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def json_list(text: str | None) -> list[Any]:
    """A JSON list column; a plain string (older rows) becomes a one-item list."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    return value if isinstance(value, list) else [value]


def data_now(db: sqlite_utils.Database) -> datetime | None:
    """The store's own clock: the latest time a post was seen (a replay's end, or about now when live)."""
    row = next(iter(db.query("select max(datetime(last_seen_at)) as t from posts")), None)
    return parse_time(row["t"].replace(" ", "T") + "+00:00") if row and row["t"] else None


def _hourly_counts(
    db: sqlite_utils.Database, incident_ids: list[str], now: datetime | None
) -> dict[str, tuple[int, int]]:
    """incident id -> (its posts in the hour up to ``now``, in the hour before).

    Only the posts of the last two hours are read (through the ``posts_newest`` index), then matched to the
    incidents' members: reading every member post of two hundred incidents took seconds on a big store.
    """
    out = {i: (0, 0) for i in incident_ids}
    if not incident_ids or now is None:
        return out
    marks = ",".join("?" * len(incident_ids))
    # The index holds whole seconds: widen its range by one, then compare the exact times.
    edges = [(now + k * HOUR).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") for k in (-2, 0)]
    rows = db.execute(
        f"""
        with recent as materialized (
            select p.source, p.id, coalesce(p.created_at, p.first_seen_at) as t from posts p
            where {NEWEST} >= datetime(?, '-1 second') and {NEWEST} <= datetime(?, '+1 second')
        )
        select ip.incident_id, r.t
        from incident_posts ip join recent r on r.source = ip.source and r.id = ip.post_id
        where ip.incident_id in ({marks})
        """,
        [*edges, *incident_ids],
    )
    counts = {i: [0, 0] for i in incident_ids}
    for incident_id, text in rows:
        moment = parse_time(text)
        if moment is None:
            continue
        if now - HOUR < moment <= now:
            counts[incident_id][0] += 1
        elif now - 2 * HOUR < moment <= now - HOUR:
            counts[incident_id][1] += 1
    return {i: (last, previous) for i, (last, previous) in counts.items()}


def incidents(db: sqlite_utils.Database, *, include_resolved: bool = False, limit: int = 200) -> list[dict]:
    """Open incidents with a severity (or all, candidates and resolved included), most severe and
    fastest-growing first, each with its growth over the last hour."""
    if not has_table(db, "incidents"):
        return []
    # By default: open incidents that reached a severity; candidates detection still watches stay out.
    where = (
        ""
        if include_resolved
        else f"where status in ({','.join('?' * len(OPEN_STATUSES))}) and severity is not null"
    )
    params = [] if include_resolved else list(OPEN_STATUSES)
    rows = list(
        db.query(f"select * from incidents {where} order by updated_at desc limit {int(limit)}", params)
    )
    now = data_now(db)
    counts = _hourly_counts(db, [row["id"] for row in rows], now)
    acked = acked_incidents(db)
    for row in rows:
        row["reasons"] = json_list(row.get("reasons"))
        row["severity_rank"] = SEVERITY_RANK.get(row.get("severity") or "", 0)
        row.update(growth(*counts[row["id"]]))
        row["acked"] = row["id"] in acked
    rows.sort(key=lambda r: (r["severity_rank"], r["last_hour"], r.get("score") or 0), reverse=True)
    return rows


def growth(last: int, previous: int) -> dict[str, Any]:
    """Posts in the hour up to the store's clock and in the hour before, and the ratio between them."""
    ratio = None if previous == 0 else round(last / previous, 2)
    return {"last_hour": last, "previous_hour": previous, "growth": ratio}


def incident(db: sqlite_utils.Database, incident_id: str) -> dict | None:
    """One incident with its evidence posts, alert history, severity changes, ack, silences and notes."""
    if not has_table(db, "incidents"):
        return None
    rows = list(db.query("select * from incidents where id = ?", [incident_id]))
    if not rows:
        return None
    out = rows[0]
    out["reasons"] = json_list(out.get("reasons"))
    out["posts"] = list(
        db.query(
            f"""
            select {_POST_COLUMNS}, ip.added_at
            from incident_posts ip
            join posts p on p.source = ip.source and p.id = ip.post_id
            {_LATEST_CLASSIFICATION}
            where ip.incident_id = ?
            order by coalesce(p.author_followers, 0) + coalesce(p.reposts, 0) * 10 desc, p.created_at
            """,
            [incident_id],
        )
    )
    out["alerts"] = alert_history(db, incident_id)
    out["severity_changes"] = severity_changes(db, incident_id, out["alerts"])
    out["ack"] = ack(db, incident_id)
    out["silences"] = silences(db, incident_id=incident_id)
    out["notes"] = _notes(db, incident_id)
    out["labels"] = list(
        db.query(
            "select * from labels where origin like 'alert%' and post_id in "
            "(select post_id from incident_posts where incident_id = ?) order by created_at",
            [incident_id],
        )
    )
    return out


def alert_history(db: sqlite_utils.Database, incident_id: str) -> list[dict]:
    """Notifications about the incident, oldest first."""
    if not has_table(db, "alerts"):
        return []
    rows = list(
        db.query("select * from alerts where incident_id = ? order by fired_at, alert_id", [incident_id])
    )
    for row in rows:
        row["reasons"] = json_list(row.get("reasons"))
        row["post_ids"] = json_list(row.get("post_ids"))
    return rows


def severity_changes(db: sqlite_utils.Database, incident_id: str, alerts: list[dict]) -> list[dict]:
    """When the incident's severity changed: from detection's history if kept, else from its notifications."""
    changes: list[dict] = []
    if has_table(db, "incident_history"):
        changes = list(
            db.query(
                "select at, severity from incident_history where incident_id = ? and severity is not null"
                " order by seq",
                [incident_id],
            )
        )
    if not changes:
        changes = [
            {"at": a["fired_at"], "severity": a["severity"]} for a in alerts if a.get("status") == "firing"
        ]
    out: list[dict] = []
    for change in sorted(changes, key=lambda c: parse_time(c["at"]) or datetime.min.replace(tzinfo=UTC)):
        if not out or out[-1]["severity"] != change["severity"]:
            out.append(change)
    return out


def acked_incidents(db: sqlite_utils.Database) -> set[str]:
    if not has_table(db, "alerting_acks"):
        return set()
    return {row["incident_id"] for row in db.query("select incident_id from alerting_acks")}


def ack(db: sqlite_utils.Database, incident_id: str) -> dict | None:
    if not has_table(db, "alerting_acks"):
        return None
    rows = list(db.query("select * from alerting_acks where incident_id = ?", [incident_id]))
    return rows[0] if rows else None


def silences(
    db: sqlite_utils.Database, *, incident_id: str | None = None, active_at: datetime | None = None
) -> list[dict]:
    """Silences (newest first); with ``incident_id``, only those whose matchers mute that incident's alert."""
    if not has_table(db, "alerting_silences"):
        return []
    from monitor.alerting.matchers import all_match, parse_matchers

    rows = list(db.query("select * from alerting_silences order by starts_at desc"))
    now = active_at or datetime.now(UTC)
    labels = _alert_labels(db, incident_id) if incident_id else None
    out = []
    for row in rows:
        matchers_text = json_list(row["matchers"])
        try:
            matchers = parse_matchers(str(m) for m in matchers_text)
        except ValueError:
            matchers = ()
        row["matchers"] = [str(m) for m in matchers] or matchers_text
        starts, ends = parse_time(row["starts_at"]), parse_time(row["ends_at"])
        row["active"] = bool(starts and ends and starts <= now < ends)
        if labels is not None and not (matchers and all_match(matchers, labels)):
            continue
        out.append(row)
    return out


def _alert_labels(db: sqlite_utils.Database, incident_id: str) -> dict[str, str]:
    labels: dict[str, str] = {"incident_id": incident_id}
    if has_table(db, "alerting_alerts"):
        rows = list(db.query("select labels from alerting_alerts where incident_id = ?", [incident_id]))
        if rows and rows[0]["labels"]:
            labels.update(json.loads(rows[0]["labels"]))
    return labels


def _notes(db: sqlite_utils.Database, incident_id: str) -> list[dict]:
    if not has_table(db, "web_notes"):
        return []
    return list(
        db.query("select * from web_notes where incident_id = ? order by created_at, id", [incident_id])
    )


def search_posts(
    db: sqlite_utils.Database,
    *,
    q: str = "",
    feed: str = "",
    sentiment: str = "",
    escalation: str = "",
    since: str = "",
    until: str = "",
    limit: int = 50,
    offset: int = 0,
    before: str = "",
    tz: tzinfo = UTC,
    fts_drive_limit: int = FTS_DRIVE_LIMIT,
    short_word_window: int = SHORT_WORD_WINDOW,
) -> list[dict]:
    """Posts matching the words of ``q`` (all of them) and the filters, newest first.

    ``since`` and ``until`` are days (YYYY-MM-DD, both included) in the time zone ``tz``. ``before`` is a page
    cursor (``next_cursor`` of the previous page): the posts after it, read from the index without counting
    past the earlier pages as ``offset`` does.

    Words of three or more characters use the trigram full-text index; shorter ones (most Chinese words are
    two characters) fall back to a substring match, over the newest ``short_word_window`` posts unless the longer
    words find few enough posts for the index to pick them (``fts_picks_posts``).
    """
    clauses, params = [], []
    words = q.split()
    long_words = [w for w in words if len(w) >= 3]
    short_words = [w for w in words if len(w) < 3]
    fts_drives = fts_picks_posts(db, q, fts_drive_limit)
    if long_words:
        match = _fts_query(long_words)
        # A unary + keeps SQLite from looking posts up by these rowids: many matches are better checked one by one
        # while reading the newest posts.
        clauses.append(
            f"{'' if fts_drives else '+'}p.rowid in (select rowid from posts_fts where posts_fts match ?)"
        )
        params.append(match)
    for word in short_words:
        clauses.append("(p.text like ? escape '\\' or p.author like ? escape '\\')")
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    if feed:
        # A post's feed, or its source when it came from no feed: the expression of index posts_feed_newest.
        clauses.append("coalesce(p.feed, p.source) = ?")
        params.append(feed)
    if sentiment:
        clauses.append("c.sentiment = ?")
        params.append(sentiment)
    if escalation:
        clauses.append("c.escalation = ?")
        params.append(escalation)
    bounds = {}
    for bound, op, value in (("since", ">=", since), ("until", "<", until)):
        if value:
            bounds[bound] = _local_midnight_utc(value, tz, next_day=bound == "until")
            clauses.append(f"{NEWEST} {op} ?")
            params.append(bounds[bound])
    if short_words and not fts_drives:
        horizon = _window_start(db, short_word_window, until=bounds.get("until"))
        if horizon is not None:
            clauses.append(f"{NEWEST} >= ?")
            params.append(horizon)
    if before:
        key, rowid = parse_cursor(before)
        # One range on the index and a check within it (an OR across the two would read the index three times).
        # Posts with no time at all sort last and are not reached by a cursor; every stored post has one.
        clauses.append(f"{NEWEST} <= ? and ({NEWEST} < ? or p.rowid < ?)")
        params += [key, key, rowid]
    where = ("where " + " and ".join(clauses)) if clauses else ""
    sql = f"""
        select {_POST_COLUMNS}, {NEWEST} as _key, p.rowid as _rowid
        from posts p {_LATEST_CLASSIFICATION} {where}
        order by {NEWEST} desc, p.rowid desc limit ? offset ?
    """
    rows = list(db.query(sql, [*params, int(limit), int(offset)]))
    for row in rows:
        row["cursor"] = f"{row.pop('_key') or ''}~{row.pop('_rowid')}"
    return rows


def parse_cursor(text: str) -> tuple[str, int]:
    """A page cursor (``"2026-11-20 12:00:00~1234"``: the last post's time and row) as its two parts."""
    key, sep, rowid = text.rpartition("~")
    if not sep or not rowid.isdigit() or parse_time(key) is None:
        raise InputError(f"not a page cursor: {text!r}")
    return key, int(rowid)


def next_cursor(rows: list[dict], limit: int) -> str | None:
    """The cursor of the page after ``rows`` (None when this page is the last)."""
    return rows[limit - 1]["cursor"] if len(rows) > limit else None


def fts_picks_posts(db: sqlite_utils.Database, q: str, limit: int = FTS_DRIVE_LIMIT) -> bool:
    """Whether the words of ``q`` that the trigram index can use find at most ``limit`` posts (then the index
    picks the posts of a search, and short words are looked for among all of them)."""
    long_words = [w for w in q.split() if len(w) >= 3]
    if not long_words:
        return False
    row = db.execute(
        "select count(*) from (select rowid from posts_fts where posts_fts match ? limit ?)",
        [_fts_query(long_words), limit + 1],
    ).fetchone()
    return row[0] <= limit


def _fts_query(words: list[str]) -> str:
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def _window_start(db: sqlite_utils.Database, size: int, *, until: str | None) -> str | None:
    """The time of the ``size``-th newest post (before ``until``), or None when there are fewer."""
    where, params = (f"where {NEWEST} < ?", [until]) if until else ("", [])
    row = db.execute(
        f"select {NEWEST} from posts p {where} order by {NEWEST} desc limit 1 offset ?", [*params, size - 1]
    ).fetchone()
    return row[0] if row else None


def _local_midnight_utc(day: str, tz: tzinfo, *, next_day: bool) -> str:
    """The start of ``day`` (or of the day after) in ``tz``, as SQLite's UTC ``datetime()`` text."""
    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=tz)
    except ValueError:
        raise InputError(f"expected a date like 2026-11-23, got {day!r}") from None
    if next_day:
        start = (start + timedelta(days=1)).replace(tzinfo=tz)
    return start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def feed_names(db: sqlite_utils.Database, configured: Iterable[str] = ()) -> list[str]:
    """Feeds to filter posts by: the configured ones, those with a state row, and those of recent posts.

    Not every feed that ever stored a post (that reads the whole table): a feed that is neither configured nor
    run any more and has no post among the newest ``RECENT_FEED_POSTS`` is left out of the choice.
    """
    names = set(configured)
    if has_table(db, "feed_state"):
        names.update(row[0] for row in db.execute("select feed from feed_state"))
    names.update(
        row[0]
        for row in db.execute(
            f"select distinct coalesce(feed, source) from (select p.feed, p.source from posts p"
            f" order by {NEWEST} desc limit ?)",
            [RECENT_FEED_POSTS],
        )
    )
    return sorted(name for name in names if name)


def label_queue(db: sqlite_utils.Database, task: str, *, limit: int = 20) -> list[dict]:
    """Posts still unlabelled for ``task``, in the active-learning queue's order (``monitor.queue``):
    where the model is least sure or its two heads disagree, spread across feeds, then random ones."""
    from monitor.queue import next_posts

    items = next_posts(db, task, limit=limit)
    rows = []
    for item in items:
        found = list(
            db.query(
                f"select {_POST_COLUMNS} from posts p {_LATEST_CLASSIFICATION} where p.source = ? and p.id = ?",
                [item.source, item.post_id],
            )
        )
        if found:
            rows.append({**found[0], "queue_reason": item.reason})
    return rows


def label_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {row["task"]: row["n"] for row in db.query("select task, count(*) as n from labels group by task")}


def models(db: sqlite_utils.Database) -> list[dict]:
    """Model versions as the registry lists them (newest first, metrics parsed, paths located), flattened."""
    from monitor.registry import list_models

    if not has_table(db, "models"):
        return []
    rows = list_models(db)
    for row in rows:
        row["flat_metrics"] = _flatten(row["metrics"])
    return rows


def _flatten(metrics: Any, prefix: str = "") -> dict[str, Any]:
    """``{"smp": {"macro_f1": 0.7}}`` -> ``{"smp.macro_f1": 0.7}``: numbers only, for a compact table."""
    out: dict[str, Any] = {}
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            out.update(_flatten(value, f"{prefix}{key}."))
    elif isinstance(metrics, int | float) and not isinstance(metrics, bool):
        out[prefix.rstrip(".")] = round(metrics, 4) if isinstance(metrics, float) else metrics
    return out


def feeds(db: sqlite_utils.Database, configured: list[Any]) -> list[dict]:
    """Each configured feed merged with its state row, plus state rows of feeds no longer configured."""
    states = (
        {row["feed"]: row for row in db.query("select * from feed_state")}
        if has_table(db, "feed_state")
        else {}
    )
    out = []
    for feed in configured:
        row = {
            "feed": feed.name,
            "kind": feed.kind,
            "configured": True,
            "enabled": getattr(feed, "enabled", True),
        }
        row.update(_state_fields(states.pop(feed.name, None)))
        out.append(row)
    for name, state in sorted(states.items()):
        row = {"feed": name, "kind": "", "configured": False, "enabled": False}
        row.update(_state_fields(state))
        out.append(row)
    return out


def _state_fields(state: dict | None) -> dict:
    state = dict(state or {})
    state.pop("feed", None)
    # Cursors and ETags are the feed's business; never show anything that could carry a token.
    for private in ("cursor", "since_id", "etag", "last_modified"):
        state.pop(private, None)
    state.setdefault("error_streak", 0)
    state.setdefault("paused", 0)
    state["health"] = (
        "paused" if state.get("paused") else "failing" if (state.get("error_streak") or 0) > 0 else "ok"
    )
    return state


def notifications(db: sqlite_utils.Database, *, limit: int = 200) -> list[dict]:
    if not has_table(db, "alerts"):
        return []
    rows = list(db.query("select * from alerts order by fired_at desc, alert_id desc limit ?", [int(limit)]))
    for row in rows:
        row["reasons"] = json_list(row.get("reasons"))
    return rows


def outbox(db: sqlite_utils.Database, *, limit: int = 200) -> list[dict]:
    if not has_table(db, "alerting_outbox"):
        return []
    return list(
        db.query(
            "select id, receiver, group_key, created_at, status, attempts, next_attempt_at, last_attempt_at,"
            " last_error, sent_at from alerting_outbox order by created_at desc limit ?",
            [int(limit)],
        )
    )


def dead_letters(db: sqlite_utils.Database, *, limit: int = 200) -> list[dict]:
    if not has_table(db, "alerting_dead_letters"):
        return []
    return list(
        db.query(
            "select id, receiver, group_key, created_at, attempts, last_error, died_at"
            " from alerting_dead_letters order by died_at desc limit ?",
            [int(limit)],
        )
    )


def outbox_counts(db: sqlite_utils.Database) -> Counter:
    if not has_table(db, "alerting_outbox"):
        return Counter()
    return Counter(
        {
            row["status"]: row["n"]
            for row in db.query("select status, count(*) n from alerting_outbox group by 1")
        }
    )
