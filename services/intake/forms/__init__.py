"""The H5 form channel: a mobile page for each template workflow publishes, its submissions,
image uploads and per-client rate limits. Intake learns templates from workflow's public
template.published events (policy.py), never from workflow's store."""
