"""The knobs of Stepstone, read once: command-line flags first, then STEPSTONE_* variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

DEFAULT_SERVE_DB = "sqlite:///stepstone.db"
MEMORY_DB = "sqlite://"


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_SERVE_DB
    handlers: tuple[str, ...] = ()
    region: str = "us-east-1"
    account: str = "123456789012"
    host: str = "127.0.0.1"
    port: int = 8083
    workers: int = 2  # executor threads claiming work items
    handler_threads: int = 16  # bounded pool that runs task handlers
    lease_seconds: float = 30.0  # a claimed work item is another worker's after this
    task_redispatch_seconds: float = 300.0  # re-invoke a task whose result never came (crash)
    poll_seconds: float = 0.5  # how often an idle worker looks for work from other processes
    skip_waits: bool = False
    activity_poll_seconds: float = 60.0  # GetActivityTask's long poll (AWS: 60 s)
    http_allow: tuple[str, ...] = ()  # host[:port] patterns the HTTP Task may call; none by default
    connections: str | None = None  # JSON/YAML file of EventBridge connections for the HTTP Task
    event_retry_seconds: float = 1.0  # first retry of a failed event delivery; doubles, max 300 s
    sources: str | None = None  # JSON/YAML file of broker event sources (Redis Streams, NATS JetStream)
    # API request signing (engine/api/access_keys.py): a JSON/YAML file of keys and/or one pair;
    # with any key configured, `serve` verifies SigV4 on every API request
    access_keys_file: str | None = None
    access_key_pair: tuple[str, str] | None = field(default=None, repr=False)  # repr: a secret
    # finished executions, settled bus events and dead letters older than this are deleted
    # (AWS keeps executions 90 days); 0 keeps everything
    retention_days: float = 90.0
    retention_interval_seconds: float = 3600.0  # how often serve/worker purge
    log_format: str = "json"  # serve/worker log lines on stderr: json or text
    log_level: str = "INFO"  # INFO: one record per execution's end, plus warnings and errors

    def with_flags(self, **flags) -> "Settings":
        """Override with the flags that were given (None means "not given")."""
        given = {key: value for key, value in flags.items() if value is not None}
        for key in ("handlers", "http_allow"):  # flags add to the environment's list
            if key in given:
                given[key] = tuple(getattr(self, key)) + tuple(given[key])
        return replace(self, **given)


def from_environment(environ: dict | None = None) -> Settings:
    env = os.environ if environ is None else environ
    handlers = tuple(h for h in env.get("STEPSTONE_HANDLERS", "").split(",") if h.strip())
    return Settings(
        db_url=env.get("STEPSTONE_DB_URL", DEFAULT_SERVE_DB),
        handlers=handlers,
        region=env.get("STEPSTONE_REGION", "us-east-1"),
        account=env.get("STEPSTONE_ACCOUNT", "123456789012"),
        workers=int(env.get("STEPSTONE_WORKERS", "2")),
        lease_seconds=float(env.get("STEPSTONE_LEASE_SECONDS", "30")),
        task_redispatch_seconds=float(env.get("STEPSTONE_TASK_REDISPATCH_SECONDS", "300")),
        poll_seconds=float(env.get("STEPSTONE_POLL_SECONDS", "0.5")),
        activity_poll_seconds=float(env.get("STEPSTONE_ACTIVITY_POLL_SECONDS", "60")),
        http_allow=tuple(h.strip() for h in env.get("STEPSTONE_HTTP_ALLOW", "").split(",") if h.strip()),
        connections=env.get("STEPSTONE_CONNECTIONS") or None,
        event_retry_seconds=float(env.get("STEPSTONE_EVENT_RETRY_SECONDS", "1")),
        sources=env.get("STEPSTONE_SOURCES") or None,
        access_keys_file=env.get("STEPSTONE_ACCESS_KEYS_FILE") or None,
        access_key_pair=_key_pair(env),
        # set but empty means "keep forever", like 0; unset is AWS's 90 days
        retention_days=float(env.get("STEPSTONE_RETENTION_DAYS", "90") or 0),
        retention_interval_seconds=float(env.get("STEPSTONE_RETENTION_INTERVAL_SECONDS", "3600")),
        log_format=env.get("STEPSTONE_LOG_FORMAT", "json").lower(),
        log_level=env.get("STEPSTONE_LOG_LEVEL", "INFO").upper(),
    )


def _key_pair(env) -> tuple[str, str] | None:
    # one half set without the other is kept so that loading the keys can say which is missing
    pair = (env.get("STEPSTONE_ACCESS_KEY_ID", ""), env.get("STEPSTONE_SECRET_ACCESS_KEY", ""))
    return pair if any(pair) else None
