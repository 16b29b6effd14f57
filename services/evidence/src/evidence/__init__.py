"""The evidence service: Streaming upload and download of evidence and library files (at most 537 MB each)."""
