# pragma version ~=0.4.3
"""
@title Counter
@notice chainlift example fixture: a global counter plus per-account counters
        with a configurable step, an owner-only reset and a bounded history.
"""

event Changed:
    account: indexed(address)
    old_value: int128
    new_value: int128

event Reset:
    by: indexed(address)

MAX_HISTORY: constant(uint256) = 32

owner: public(address)
step: public(int128)
total: public(int128)
per_account: public(HashMap[address, int128])
history: public(DynArray[int128, MAX_HISTORY])


@deploy
def __init__(initial_step: int128):
    assert initial_step != 0, "zero step"
    self.owner = msg.sender
    self.step = initial_step


@internal
def _apply(delta: int128):
    old: int128 = self.total
    new: int128 = old + delta
    self.total = new
    self.per_account[msg.sender] += delta
    if len(self.history) == MAX_HISTORY:
        # Drop the oldest entry by shifting everything one slot left.
        for i: uint256 in range(MAX_HISTORY - 1):
            self.history[i] = self.history[i + 1]
        self.history.pop()
    self.history.append(new)
    log Changed(account=msg.sender, old_value=old, new_value=new)


@external
def increment() -> int128:
    self._apply(self.step)
    return self.total


@external
def decrement() -> int128:
    self._apply(-self.step)
    return self.total


@external
def add(delta: int128) -> int128:
    self._apply(delta)
    return self.total


@external
def set_step(new_step: int128):
    assert msg.sender == self.owner, "not owner"
    assert new_step != 0, "zero step"
    self.step = new_step


@external
def reset():
    assert msg.sender == self.owner, "not owner"
    self.total = 0
    self.history = []
    log Reset(by=msg.sender)


@external
@view
def history_length() -> uint256:
    return len(self.history)


@external
@view
def history_sum() -> int256:
    acc: int256 = 0
    for v: int128 in self.history:
        acc += convert(v, int256)
    return acc
