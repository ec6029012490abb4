"""Pure functions: metric frames -> chart specs (plotly figures as plain data); one theme module."""
