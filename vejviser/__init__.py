"""Operator CLI and the local development orchestrator."""
