"""The sender: sends requested deliveries when they are due, outside the transaction that requested
them, and records what became of each."""
