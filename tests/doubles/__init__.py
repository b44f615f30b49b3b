"""Test doubles of model servers and engines, served over real HTTP on 127.0.0.1."""
