"""modelgate engine: probe, benchmark and verify model servers, with no Prefect import."""
