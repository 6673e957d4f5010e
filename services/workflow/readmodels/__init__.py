"""Read models (lists, kanban, my tickets, dashboard), rebuilt from workflow's own log."""
