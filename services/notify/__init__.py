"""notify: tells the right people at each step, exactly once per event and recipient."""
