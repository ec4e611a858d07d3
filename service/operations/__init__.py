"""Operators' tasks on a whole installation: backup and restore."""
