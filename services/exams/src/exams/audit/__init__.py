"""The audit trail: a hash-chained log per school of every signature, adoption, finalization and decision."""
