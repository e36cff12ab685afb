"""The route tree: which receivers, with which grouping and timers, an alert goes to (pure, no I/O).

Follows Alertmanager's ``dispatch/route.go``: a depth-first walk where the first matching child wins unless it
says ``continue``, a node with no matching child takes the alert itself, and children inherit every option
they leave unset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from monitor.alerting.config import RouteConfig
from monitor.alerting.matchers import Matcher, all_match, parse_matchers

GROUP_BY_ALL = "..."
DEFAULT_GROUP_BY = ("incident_id",)


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved route node: its own matchers plus the options it inherited."""

    id: str
    receiver: str
    matchers: tuple[Matcher, ...]
    continue_: bool
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    routes: tuple[Route, ...] = ()

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes (nodes of this tree) that take an alert with ``labels``; empty if this node does not match."""
        if not all_match(self.matchers, labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels that name this alert's group on this route."""
        if GROUP_BY_ALL in self.group_by:
            return dict(sorted(labels.items()))
        return {name: str(labels.get(name, "")) for name in self.group_by}

    def group_key(self, labels: Mapping[str, str]) -> str:
        """A stable key for the group an alert with ``labels`` joins on this route."""
        return f"{self.id}/{self.receiver}/{json.dumps(self.group_labels(labels), ensure_ascii=False, sort_keys=True)}"

    def walk(self):
        """This node and all its descendants, depth first."""
        yield self
        for child in self.routes:
            yield from child.walk()

    def find(self, route_id: str) -> Route | None:
        """The node with ``route_id``, if the tree still has it."""
        return next((node for node in self.walk() if node.id == route_id), None)


def build_route(config: RouteConfig, parent: Route | None = None, path: str = "route") -> Route:
    """Resolve a validated RouteConfig into a Route tree, filling inherited options."""

    def pick(name: str, default: timedelta) -> timedelta:
        own = getattr(config, name)
        if own is not None:
            return own
        return getattr(parent, name) if parent is not None else default

    receiver = (
        config.receiver if config.receiver is not None else parent.receiver
    )  # root validated to have one
    # Unlike Alertmanager (one group for everything), the root groups by incident unless told otherwise.
    group_by = (
        tuple(config.group_by)
        if config.group_by is not None
        else (parent.group_by if parent else DEFAULT_GROUP_BY)
    )
    node = Route(
        id=path,
        receiver=receiver,
        matchers=parse_matchers(config.matchers),
        continue_=config.continue_,
        group_by=group_by,
        group_wait=pick("group_wait", timedelta(seconds=30)),
        group_interval=pick("group_interval", timedelta(minutes=5)),
        repeat_interval=pick("repeat_interval", timedelta(hours=4)),
    )
    children = tuple(build_route(child, node, f"{path}.routes[{i}]") for i, child in enumerate(config.routes))
    return Route(**{**{f: getattr(node, f) for f in node.__dataclass_fields__}, "routes": children})
