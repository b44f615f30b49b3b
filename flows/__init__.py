"""Prefect flows of modelgate: `deploy_model` takes a model from registered to verified in service."""
