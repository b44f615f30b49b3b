"""Runtimes that run a model server: the local vLLM process."""
