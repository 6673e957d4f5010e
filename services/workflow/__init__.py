"""workflow: templates, the Ticket aggregate and the staff actions that move it."""
