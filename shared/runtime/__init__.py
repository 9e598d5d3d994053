"""What every Apollonia process runs with: logging, masking, signals, GC tuning, the health
and metrics HTTP server."""
