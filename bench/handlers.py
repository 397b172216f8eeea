"""Task handlers of the benchmark workloads (``--handlers bench/handlers.py``)."""
from engine import task


@task("bench-inc")
def bench_inc(event, context):
    """W6: every Task state adds one."""
    return {"n": event["n"] + 1}
