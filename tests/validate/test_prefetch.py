import pytest

from dataward.errors import SourceError
from dataward.sources.prefetch import prefetch


def test_items_arrive_in_order():
    assert list(prefetch(iter(range(100)), depth=2)) == list(range(100))


def test_reader_errors_reach_the_consumer():
    def items():
        yield 1
        raise SourceError("broken")

    got = []
    with pytest.raises(SourceError, match="broken"):
        for item in prefetch(items()):
            got.append(item)
    assert got == [1]


def test_consumer_stopping_early_ends_the_reader():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    for item in prefetch(items(), depth=1):
        if item == 3:
            break
    assert len(produced) < 10
