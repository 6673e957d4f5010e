"""Ticket templates as pure domain code: the condition language, the node graph, publish-time
validation, versioned catalogues and the execution engine (their fields: shared/formfields). No I/O."""
