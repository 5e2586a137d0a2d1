"""Shared test harness: execution histories, the checker, private servers, a fault proxy."""
