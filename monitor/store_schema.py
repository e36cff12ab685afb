"""The schema the migrations make of a new store, written out for ``open_db`` to make it in one go.

Generated; tests/test_store.py checks it against the migrations. After adding a migration, write it again with
``python -m monitor.store_schema`` (until then, new stores are made by running the migrations).
"""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("tingfeng", "m001_core"),
    ("tingfeng", "m002_fts_on_text_changes_only"),
    ("tingfeng", "m003_incident_commands"),
    ("tingfeng", "m004_posts_by_id"),
    ("tingfeng", "m005_fts_per_batch"),
    ("tingfeng", "m006_dashboard_indexes"),
    ("tingfeng", "m007_posts_sort_key"),
    ("tingfeng.incidents", "detection_columns"),
    ("tingfeng.alerting", "m001_alerting"),
    ("tingfeng.feeds", "m001_feed_tables"),
    ("tingfeng.feeds", "m002_daemon"),
    ("tingfeng.web", "m001_web"),
    ("tingfeng.web", "m002_dashboard_indexes"),
    ("tingfeng.web", "m003_feed_index_on_sort_key"),
    ("tingfeng.analyst", "m001_model_events"),
)
STATEMENTS: tuple[str, ...] = (
    'CREATE TABLE "_sqlite_migrations" (\n   "id" INTEGER PRIMARY KEY,\n   "migration_set" TEXT,\n   "name" TEXT,\n   "applied_at" TEXT\n)',
    'CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"\n    ON "_sqlite_migrations" ("migration_set", "name")',
    'CREATE TABLE "posts" (\n   "source" TEXT,\n   "id" TEXT,\n   "text" TEXT NOT NULL,\n   "text_norm" TEXT,\n   "url" TEXT,\n   "author" TEXT,\n   "author_followers" INTEGER,\n   "author_verified" INTEGER,\n   "created_at" TEXT,\n   "first_seen_at" TEXT,\n   "last_seen_at" TEXT,\n   "reposts" INTEGER,\n   "comments" INTEGER,\n   "likes" INTEGER,\n   "urls" TEXT,\n   "mentions" TEXT,\n   "repost_chain" TEXT,\n   "emoticons" TEXT,\n   "feed" TEXT,\n   "brand" TEXT,\n   "deleted" INTEGER DEFAULT 0,\n   "raw" TEXT, "sort_at" TEXT,\n   PRIMARY KEY ("source", "id")\n)',
    'CREATE TABLE "observations" (\n   "source" TEXT,\n   "post_id" TEXT,\n   "observed_at" TEXT,\n   "reposts" INTEGER,\n   "comments" INTEGER,\n   "likes" INTEGER,\n   FOREIGN KEY ("source", "post_id") REFERENCES "posts"("source", "id"),\n   PRIMARY KEY ("source", "post_id", "observed_at")\n)',
    'CREATE TABLE "classifications" (\n   "source" TEXT,\n   "post_id" TEXT,\n   "model_version" TEXT,\n   "sentiment" TEXT,\n   "p_negative" REAL,\n   "p_neutral" REAL,\n   "p_positive" REAL,\n   "escalation" TEXT,\n   "escalation_score" REAL,\n   "classified_at" TEXT,\n   FOREIGN KEY ("source", "post_id") REFERENCES "posts"("source", "id"),\n   PRIMARY KEY ("source", "post_id", "model_version")\n)',
    'CREATE INDEX "idx_classifications_sentiment"\n    ON "classifications" ("sentiment")',
    'CREATE INDEX "idx_classifications_escalation"\n    ON "classifications" ("escalation")',
    'CREATE TABLE "incidents" (\n   "id" TEXT PRIMARY KEY,\n   "title" TEXT,\n   "brand" TEXT,\n   "feed" TEXT,\n   "status" TEXT,\n   "severity" TEXT,\n   "score" REAL,\n   "first_post_at" TEXT,\n   "last_post_at" TEXT,\n   "updated_at" TEXT,\n   "n_posts" INTEGER,\n   "n_authors" INTEGER,\n   "reach" INTEGER,\n   "summary" TEXT,\n   "reasons" TEXT\n, "peak_severity" TEXT, "opened_at" TEXT, "resolved_at" TEXT, "reopened" INTEGER, "keywords" TEXT, "post_ids" TEXT, "stats" TEXT, "revision" INTEGER)',
    'CREATE TABLE "incident_posts" (\n   "incident_id" TEXT REFERENCES "incidents"("id"),\n   "source" TEXT,\n   "post_id" TEXT,\n   "added_at" TEXT, "author" TEXT, "similarity" REAL, "followers" INTEGER, "verified" INTEGER,\n   PRIMARY KEY ("incident_id", "source", "post_id")\n)',
    'CREATE TABLE "alerts" (\n   "alert_id" TEXT PRIMARY KEY,\n   "incident_id" TEXT,\n   "severity" TEXT,\n   "status" TEXT,\n   "fired_at" TEXT,\n   "title" TEXT,\n   "summary" TEXT,\n   "post_ids" TEXT,\n   "reasons" TEXT,\n   "receiver" TEXT\n, "kind" TEXT, "group_key" TEXT, "outbox_id" TEXT, "changes" TEXT, "labels" TEXT)',
    'CREATE INDEX "idx_alerts_incident_id"\n    ON "alerts" ("incident_id")',
    'CREATE TABLE "feed_state" (\n   "feed" TEXT PRIMARY KEY,\n   "cursor" TEXT,\n   "since_id" TEXT,\n   "etag" TEXT,\n   "last_modified" TEXT,\n   "last_run_at" TEXT,\n   "last_success_at" TEXT,\n   "next_run_at" TEXT,\n   "error_streak" INTEGER DEFAULT 0,\n   "last_error" TEXT,\n   "items_last_run" INTEGER,\n   "paused" INTEGER DEFAULT 0\n)',
    'CREATE TABLE "labels" (\n   "id" INTEGER PRIMARY KEY,\n   "source" TEXT,\n   "post_id" TEXT,\n   "text" TEXT,\n   "task" TEXT,\n   "label" TEXT,\n   "labeller" TEXT,\n   "origin" TEXT,\n   "created_at" TEXT\n)',
    'CREATE INDEX "idx_labels_source_post_id_task"\n    ON "labels" ("source", "post_id", "task")',
    'CREATE TABLE "models" (\n   "version" TEXT PRIMARY KEY,\n   "path" TEXT,\n   "created_at" TEXT,\n   "metrics" TEXT,\n   "data_hashes" TEXT,\n   "active" INTEGER DEFAULT 0,\n   "promoted_at" TEXT,\n   "promoted_by" TEXT,\n   "notes" TEXT\n)',
    'CREATE TABLE "replay_progress" (\n   "input" TEXT PRIMARY KEY,\n   "sha256" TEXT,\n   "lines_done" INTEGER,\n   "updated_at" TEXT\n)',
    'CREATE TABLE "detector_state" (\n   "name" TEXT PRIMARY KEY,\n   "state" TEXT,\n   "updated_at" TEXT\n)',
    'CREATE VIRTUAL TABLE "posts_fts" USING FTS5 (\n    "text", "author",\n    tokenize=\'trigram\',\n    content="posts"\n)',
    'CREATE TRIGGER "posts_ad" AFTER DELETE ON "posts" BEGIN\n  INSERT INTO "posts_fts" ("posts_fts", rowid, "text", "author") VALUES(\'delete\', old.rowid, old."text", old."author");\nEND',
    'CREATE TRIGGER "posts_au" AFTER UPDATE OF "text", "author" ON "posts" BEGIN\n  INSERT INTO "posts_fts" ("posts_fts", rowid, "text", "author") VALUES(\'delete\', old.rowid, old."text", old."author");\n  INSERT INTO "posts_fts" (rowid, "text", "author") VALUES (new.rowid, new."text", new."author");\nEND',
    'CREATE TABLE "incident_commands" (\n   "id" INTEGER PRIMARY KEY,\n   "incident_id" TEXT,\n   "action" TEXT,\n   "requested_by" TEXT,\n   "requested_at" TEXT,\n   "done_at" TEXT,\n   "result" TEXT\n)',
    'CREATE INDEX "idx_posts_id"\n    ON "posts" ("id")',
    "CREATE TABLE posts_fts_deferred (since INTEGER)",
    'CREATE TRIGGER "posts_ai" AFTER INSERT ON "posts" WHEN NOT EXISTS (SELECT 1 FROM posts_fts_deferred) BEGIN\n  INSERT INTO "posts_fts" (rowid, "text", "author") VALUES (new.rowid, new."text", new."author");\nEND',
    "CREATE INDEX posts_last_seen ON posts (datetime(last_seen_at))",
    "CREATE INDEX posts_first_seen ON posts (first_seen_at)",
    "CREATE INDEX posts_newest ON posts (sort_at)",
    'CREATE TRIGGER "posts_sort_at_ai" AFTER INSERT ON "posts" WHEN new.sort_at IS NULL BEGIN\n  UPDATE posts SET sort_at = datetime(coalesce(new.created_at, new.first_seen_at)) WHERE rowid = new.rowid;\nEND',
    'CREATE TRIGGER "posts_sort_at_au" AFTER UPDATE OF created_at, first_seen_at ON "posts" WHEN new.sort_at IS NOT datetime(coalesce(new.created_at, new.first_seen_at)) BEGIN\n  UPDATE posts SET sort_at = datetime(coalesce(new.created_at, new.first_seen_at)) WHERE rowid = new.rowid;\nEND',
    'CREATE TABLE "incident_history" (\n   "incident_id" TEXT REFERENCES "incidents"("id"),\n   "seq" INTEGER,\n   "at" TEXT,\n   "status" TEXT,\n   "severity" TEXT,\n   "event" TEXT,\n   PRIMARY KEY ("incident_id", "seq")\n)',
    'CREATE INDEX "idx_incidents_severity"\n    ON "incidents" ("severity")',
    'CREATE INDEX "idx_incidents_status"\n    ON "incidents" ("status")',
    'CREATE INDEX "idx_alerts_fired_at"\n    ON "alerts" ("fired_at")',
    'CREATE TABLE "alerting_alerts" (\n   "incident_id" TEXT PRIMARY KEY,\n   "severity" TEXT,\n   "status" TEXT,\n   "labels" TEXT,\n   "title" TEXT,\n   "summary" TEXT,\n   "post_ids" TEXT,\n   "reasons" TEXT,\n   "stats" TEXT,\n   "evidence" TEXT,\n   "starts_at" TEXT,\n   "updated_at" TEXT,\n   "ends_at" TEXT\n)',
    'CREATE TABLE "alerting_groups" (\n   "key" TEXT PRIMARY KEY,\n   "route_id" TEXT,\n   "receiver" TEXT,\n   "labels" TEXT,\n   "created_at" TEXT,\n   "next_flush_at" TEXT,\n   "last_notified_at" TEXT,\n   "members" TEXT\n)',
    'CREATE INDEX "idx_alerting_groups_next_flush_at"\n    ON "alerting_groups" ("next_flush_at")',
    'CREATE TABLE "alerting_outbox" (\n   "id" TEXT PRIMARY KEY,\n   "receiver" TEXT,\n   "group_key" TEXT,\n   "created_at" TEXT,\n   "status" TEXT DEFAULT \'pending\',\n   "attempts" INTEGER DEFAULT 0,\n   "next_attempt_at" TEXT,\n   "last_attempt_at" TEXT,\n   "last_error" TEXT,\n   "sent_at" TEXT,\n   "payload" TEXT\n)',
    'CREATE INDEX "idx_alerting_outbox_status_next_attempt_at"\n    ON "alerting_outbox" ("status", "next_attempt_at")',
    'CREATE TABLE "alerting_dead_letters" (\n   "id" TEXT PRIMARY KEY,\n   "receiver" TEXT,\n   "group_key" TEXT,\n   "created_at" TEXT,\n   "attempts" INTEGER,\n   "last_error" TEXT,\n   "died_at" TEXT,\n   "payload" TEXT\n)',
    'CREATE TABLE "alerting_silences" (\n   "id" TEXT PRIMARY KEY,\n   "matchers" TEXT,\n   "starts_at" TEXT,\n   "ends_at" TEXT,\n   "created_by" TEXT,\n   "comment" TEXT,\n   "created_at" TEXT,\n   "updated_at" TEXT\n)',
    'CREATE TABLE "alerting_acks" (\n   "incident_id" TEXT PRIMARY KEY,\n   "severity" TEXT,\n   "acked_at" TEXT,\n   "acked_by" TEXT,\n   "comment" TEXT\n)',
    'CREATE TABLE "feed_runs" (\n   "id" INTEGER PRIMARY KEY,\n   "feed" TEXT,\n   "started_at" TEXT,\n   "finished_at" TEXT,\n   "status" TEXT,\n   "reason" TEXT,\n   "message" TEXT,\n   "items" INTEGER,\n   "new" INTEGER,\n   "pages" INTEGER,\n   "duration" REAL\n)',
    'CREATE INDEX "idx_feed_runs_feed_started_at"\n    ON "feed_runs" ("feed", "started_at")',
    'CREATE TABLE "feed_commands" (\n   "id" INTEGER PRIMARY KEY,\n   "feed" TEXT,\n   "command" TEXT,\n   "requested_at" TEXT,\n   "done_at" TEXT,\n   "result" TEXT\n)',
    'CREATE TABLE "feed_health" (\n   "feed" TEXT PRIMARY KEY,\n   "status" TEXT,\n   "reason" TEXT,\n   "since" TEXT,\n   "alerted_at" TEXT\n)',
    'CREATE TABLE "push_inbox" (\n   "seq" INTEGER PRIMARY KEY,\n   "feed" TEXT,\n   "received_at" TEXT,\n   "post" TEXT\n)',
    'CREATE INDEX "idx_push_inbox_feed_seq"\n    ON "push_inbox" ("feed", "seq")',
    'CREATE TABLE "feed_daemon" (\n   "id" INTEGER PRIMARY KEY,\n   "pid" INTEGER,\n   "started_at" TEXT,\n   "heartbeat_at" TEXT,\n   "config_dir" TEXT,\n   "stopped_at" TEXT\n)',
    'CREATE TABLE "web_users" (\n   "username" TEXT PRIMARY KEY,\n   "password_hash" TEXT,\n   "created_at" TEXT,\n   "updated_at" TEXT\n)',
    'CREATE TABLE "web_settings" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT\n)',
    'CREATE TABLE "web_notes" (\n   "id" INTEGER PRIMARY KEY,\n   "incident_id" TEXT,\n   "author" TEXT,\n   "text" TEXT,\n   "created_at" TEXT\n)',
    'CREATE INDEX "idx_web_notes_incident_id"\n    ON "web_notes" ("incident_id")',
    "CREATE INDEX classifications_by_model ON classifications (model_version)",
    "CREATE INDEX posts_feed_newest ON posts (coalesce(feed, source), sort_at)",
    'CREATE TABLE "model_events" (\n   "id" INTEGER PRIMARY KEY,\n   "at" TEXT,\n   "action" TEXT,\n   "version" TEXT,\n   "previous_version" TEXT,\n   "by" TEXT,\n   "reason" TEXT,\n   "forced" INTEGER DEFAULT 0,\n   "details" TEXT\n)',
    'CREATE INDEX "idx_model_events_version"\n    ON "model_events" ("version")',
)


def main() -> None:
    """Make a store by running every migration and write this module from it."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import sqlite_utils

    from monitor.store import migrate, schema_snapshot, write_transaction

    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite_utils.Database(Path(tmp) / "new.db")
        with write_transaction(db):
            migrate(db)
        applied, statements = schema_snapshot(db)
        db.close()
    path = Path(__file__)
    head, _, rest = path.read_text(encoding="utf-8").partition("\nMIGRATIONS")
    _, _, tail = rest.partition("\n\n\ndef main")
    path.write_text(
        f"{head}\nMIGRATIONS: tuple[tuple[str, str], ...] = {applied!r}\n"
        f"STATEMENTS: tuple[str, ...] = {statements!r}\n\n\ndef main{tail}",
        encoding="utf-8",
    )
    # The interpreter's own ruff (a test extra): ``ruff`` alone is not on PATH unless the venv is activated.
    formatted = subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=False)
    if formatted.returncode != 0:
        print(f"wrote {path}; format it with ruff (pip install -e '.[test]')", file=sys.stderr)


if __name__ == "__main__":
    main()
