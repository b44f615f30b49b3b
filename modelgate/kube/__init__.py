"""Kubernetes side of the kubernetes runtime: API client, pods, events, readiness watcher, endpoint URL.

Modules work on the API's JSON objects as plain dicts (camelCase keys, as `kubectl get -o json`
prints them) and never import Prefect.
"""
