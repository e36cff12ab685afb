"""Alert delivery: Alertmanager-style routing, grouping, inhibition, silences and acks, through a durable outbox."""

from monitor.alerting.alerter import Alerter, Notification
from monitor.alerting.config import AlertingConfig, load_alerting_config
from monitor.alerting.outbox import DeliveryReport, deliver_due
from monitor.alerting.store import migrations

__all__ = [
    "Alerter",
    "AlertingConfig",
    "DeliveryReport",
    "Notification",
    "deliver_due",
    "load_alerting_config",
    "migrations",
]
