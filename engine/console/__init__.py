"""The web console at ``/console``: state machines with their graphs, executions, each
execution's coloured graph and timeline, and the task inbox (see ``app.py``)."""
