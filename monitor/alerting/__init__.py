"""Alert delivery: Alertmanager-style routing, grouping, inhibition, silences and acks, through a durable outbox."""

from monitor.alerting.alerter import Alerter, Notification
from monitor.alerting.config import AlertingConfig, load_alerting_config
from monitor.alerting.outbox import DeliveryReport, deliver_due
from monitor.alerting.store import ack_incident, add_silence, expire_silence, migrations, unack_incident

__all__ = [
    "Alerter",
    "AlertingConfig",
    "DeliveryReport",
    "Notification",
    "ack_incident",
    "add_silence",
    "deliver_due",
    "expire_silence",
    "load_alerting_config",
    "migrations",
    "unack_incident",
]
