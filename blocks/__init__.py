"""Prefect blocks of modelgate: saved settings that runs load by name."""
