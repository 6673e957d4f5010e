"""SLA (时效): business calendars, per-node targets and escalations, the clocks a ticket runs, and
the timer worker that fires them. Everything here but timers.py is pure (no clock, no I/O)."""
