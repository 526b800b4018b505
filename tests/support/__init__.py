"""Shared test helpers: real servers and sessions, never stand-ins."""
