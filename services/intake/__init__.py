"""intake: turns channel submissions into ticket-created events."""
