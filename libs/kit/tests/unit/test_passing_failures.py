"""Which database errors a consumer outlives by waiting, and which are the work's own (dead-lettered)."""

from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

from kit.mongo import is_passing_failure


def test_the_database_being_away_or_busy_is_passing() -> None:
    assert is_passing_failure(AutoReconnect("connection reset"))
    assert is_passing_failure(ServerSelectionTimeoutError("no primary"))
    assert is_passing_failure(OperationFailure("WriteConflict", code=112))  # a dead worker's open transaction
    assert is_passing_failure(OperationFailure("NoSuchTransaction", code=251))
    labelled = OperationFailure("odd", code=99999, details={"errorLabels": ["TransientTransactionError"]})
    assert is_passing_failure(labelled)


def test_the_works_own_errors_are_not() -> None:
    assert not is_passing_failure(DuplicateKeyError("E11000", code=11000))
    assert not is_passing_failure(OperationFailure("BadValue", code=2))
    assert not is_passing_failure(ValueError("no such student"))
