"""Assessment forms per scheduled part: drafts, the finalize overview, finalizing, the PDF."""
