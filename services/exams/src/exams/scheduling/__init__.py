"""Scheduling (*inplannen*) of an adopted assignment's parts into attempts; rescheduling and cancelling."""
