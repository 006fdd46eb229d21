"""What the server entry point sets for the whole process, once the
application is loaded: nothing here runs on import.

- the garbage collector's thresholds, and a freeze of what start-up made
  (collector.py);
- autobahn's debug lines formatted only when written (debug_log.py);
- asgiref's database thread started, so it keeps its connections
  (stream_database.py).
"""

from ..stream_database import start_stream_database_thread
from .collector import tune_garbage_collector
from .debug_log import install_lazy_debug_formatting


def prepare_server_process(*, fast_path: bool = True) -> None:
    if fast_path:
        # It reads autobahn's module internals: only at the tested version.
        install_lazy_debug_formatting()
    start_stream_database_thread()
    # Last: everything start-up made is loaded and can be frozen.
    tune_garbage_collector()
