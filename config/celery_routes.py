"""Celery queues per role, so a 10,000-recipient batch never queues ahead of an activation.

Plain data and one pure function: settings build the routes from it, and the tests build the
same routes under a per-run prefix (their workers consume only their own queues).
"""

# role -> what runs there
QUEUE_ROLES = {
    "callbacks": "processing of DingTalk's callback events (authorizations, app state, ...)",
    "sends": "work-notification sends",
    "polls": "send progress and result polling",
    "sync": "directory synchronisation",
    "default": "everything else: sweeps and housekeeping",
}

# task-name pattern -> role; the first match wins (celery's glob routes).
_ROUTES = (
    ("tenants.callback_event_process", "callbacks"),
    # Planning is the head of every send (contact reads, then batches for the senders): it
    # scales with the send workers, and a burst of it never delays default's sweeps.
    ("messaging.notification_plan", "sends"),
    ("messaging.*send*", "sends"),
    ("messaging.*poll*", "polls"),
    # The sweep that resumes and starts syncs must never wait behind a running sync.
    ("directory.syncs_sweep", "default"),
    ("directory.*sync*", "sync"),
    # Webhook deliveries wait on the ISV's servers (seconds at worst): with the other outbound,
    # delay-tolerant calls, never ahead of callbacks; their sweep stays on default.
    ("api.webhook_deliver", "polls"),
)


def queue_names(prefix: str = "") -> list[str]:
    """Every role's queue name (what a worker that serves all roles passes to -Q)."""
    return [f"{prefix}{role}" for role in QUEUE_ROLES]


def task_routes(prefix: str = "") -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES for the given queue-name prefix."""
    return {pattern: {"queue": f"{prefix}{role}"} for pattern, role in _ROUTES}
