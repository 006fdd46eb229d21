"""Operating the server: health checks, Prometheus metrics, connection
statistics, and the log filter that keeps credentials out of logs."""
