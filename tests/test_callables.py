import pytest

from devicelab.callables import Adder, Counter


def test_counter_counts_calls_and_keeps_state():
    tick = Counter()
    assert callable(tick)
    assert tick.count == 0
    assert [tick(), tick(), tick()] == [1, 2, 3]
    assert tick.count == 3


def test_counters_are_independent():
    first, second = Counter(), Counter()
    first()
    first()
    assert second() == 1
    assert first.count == 2


def test_adder_returns_sum_and_prints(capsys):
    add = Adder()
    assert add(2, 3) == 5
    assert capsys.readouterr().out == "Adder: 2 + 3 = 5\n"


def test_adder_uses_its_name(capsys):
    assert Adder("plus")(1.5, 2.5) == pytest.approx(4.0)
    assert capsys.readouterr().out.startswith("plus: 1.5 + 2.5")


def test_adder_needs_two_arguments():
    with pytest.raises(TypeError):
        Adder()(1)
