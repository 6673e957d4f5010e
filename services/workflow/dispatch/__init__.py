"""Assignment strategies (派单): one small pure module each; catalogue.py names them for templates."""
