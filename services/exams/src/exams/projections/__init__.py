"""Local projections of identity's and enrollment's events, which authorization and the views read."""
