"""The small kernel every service uses: envelope, contracts, persistence, transport, web helpers."""
