"""One broker source in its own process, for the kill-before-ack tests.

    python source_process.py '<a sources-file entry as JSON>' SINK.db [--die-after-store]

Stores events in the SQLite sink (sources_support.SqliteSink); with --die-after-store it SIGKILLs
itself right after the first store committed, before the broker hears an ack. SIGTERM stops the
source cleanly (its batch in flight finishes) and exits 0.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading

from engine.eventbus.sources import config, start_sources
from sources_support import SqliteSink


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    entry, sink_path = json.loads(argv[0]), argv[1]
    sink = SqliteSink(sink_path, die_after_store="--die-after-store" in argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    sources = start_sources(config.parse([entry]), sink, account="123456789012", region="us-east-1")
    print("started", flush=True)
    done.wait()
    sources.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
