"""The EventBridge-style event bus: pattern matching, targets, schedules and the dispatcher.

``patterns``/``index`` match events against rules (pure), ``transform`` shapes a target's input
(pure), ``schedule`` reads ``rate(...)``/``cron(...)`` (pure), ``dispatcher`` delivers stored
events to state machines. The API operations live in ``engine.service_events``.
"""
