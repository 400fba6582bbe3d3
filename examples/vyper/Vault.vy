# pragma version ~=0.4.3
"""
@title Vault
@notice chainlift example fixture: an ether vault issuing transferable shares.
        Depositors receive shares priced against the vault's accounted assets;
        plain ether sent to the vault (the __default__ function) is treated as
        a donation that raises the share price. Shares can be time-locked, and
        withdrawals pay a small fee to the owner.
@dev Exercises structs, nested HashMaps, events, asserts with reasons,
     payable functions, raw_call with value and a payable __default__.
"""

struct Lock:
    shares: uint256
    unlock_at: uint256

struct Position:
    shares: uint256
    locked_shares: uint256
    unlock_at: uint256
    assets: uint256
    deposited: uint256
    withdrawn: uint256

event Deposit:
    sender: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256

event Withdraw:
    owner: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256
    fee: uint256

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Locked:
    owner: indexed(address)
    shares: uint256
    unlock_at: uint256

event Unlocked:
    owner: indexed(address)
    shares: uint256

event Donation:
    sender: indexed(address)
    amount: uint256

event FeeUpdated:
    old_fee_bps: uint256
    new_fee_bps: uint256

event PausedSet:
    paused: bool

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)

NAME: constant(String[32]) = "Chainlift Vault Share"
SYMBOL: constant(String[8]) = "cvETH"
MAX_FEE_BPS: constant(uint256) = 500
BPS: constant(uint256) = 10_000
MAX_LOCK: constant(uint256) = 4 * 365 * 86400

owner: public(address)
paused: public(bool)
withdraw_fee_bps: public(uint256)
fees_accrued: public(uint256)
total_assets: public(uint256)

totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
locks: public(HashMap[address, Lock])

deposited: HashMap[address, uint256]
withdrawn: HashMap[address, uint256]


@deploy
def __init__(fee_bps: uint256):
    assert fee_bps <= MAX_FEE_BPS, "fee too high"
    self.owner = msg.sender
    self.withdraw_fee_bps = fee_bps
    log OwnershipTransferred(previous_owner=empty(address), new_owner=msg.sender)


# ----------------------------------------------------------------- internals

@internal
@view
def _to_shares(assets: uint256) -> uint256:
    supply: uint256 = self.totalSupply
    if supply == 0 or self.total_assets == 0:
        return assets
    return assets * supply // self.total_assets


@internal
@view
def _to_assets(shares: uint256) -> uint256:
    supply: uint256 = self.totalSupply
    if supply == 0:
        return 0
    return shares * self.total_assets // supply


@internal
@view
def _unlocked_balance(account: address) -> uint256:
    lock: Lock = self.locks[account]
    if lock.unlock_at > block.timestamp:
        return self.balanceOf[account] - lock.shares
    return self.balanceOf[account]


@internal
def _transfer(sender: address, receiver: address, amount: uint256):
    assert receiver != empty(address), "zero receiver"
    assert self._unlocked_balance(sender) >= amount, "insufficient unlocked shares"
    self.balanceOf[sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=sender, receiver=receiver, value=amount)


@internal
def _deposit(sender: address, receiver: address, assets: uint256) -> uint256:
    assert not self.paused, "paused"
    assert assets > 0, "zero deposit"
    shares: uint256 = self._to_shares(assets)
    assert shares > 0, "deposit too small"
    self.total_assets += assets
    self.totalSupply += shares
    self.balanceOf[receiver] += shares
    self.deposited[receiver] += assets
    log Transfer(sender=empty(address), receiver=receiver, value=shares)
    log Deposit(sender=sender, receiver=receiver, assets=assets, shares=shares)
    return shares


# ------------------------------------------------------------- share token

@external
@view
def name() -> String[32]:
    return NAME


@external
@view
def symbol() -> String[8]:
    return SYMBOL


@external
@view
def decimals() -> uint8:
    return 18


@external
def transfer(receiver: address, amount: uint256) -> bool:
    self._transfer(msg.sender, receiver, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transferFrom(sender: address, receiver: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[sender][msg.sender]
    assert allowed >= amount, "allowance exceeded"
    if allowed != max_value(uint256):
        self.allowance[sender][msg.sender] = allowed - amount
    self._transfer(sender, receiver, amount)
    return True


# ----------------------------------------------------------- vault actions

@external
@payable
def deposit(receiver: address = msg.sender) -> uint256:
    return self._deposit(msg.sender, receiver, msg.value)


@external
@nonreentrant
def withdraw(shares: uint256, receiver: address = msg.sender) -> uint256:
    assert not self.paused, "paused"
    assert shares > 0, "zero shares"
    assert self._unlocked_balance(msg.sender) >= shares, "insufficient unlocked shares"
    assets: uint256 = self._to_assets(shares)
    fee: uint256 = assets * self.withdraw_fee_bps // BPS
    payout: uint256 = assets - fee

    self.balanceOf[msg.sender] -= shares
    self.totalSupply -= shares
    self.total_assets -= assets
    self.fees_accrued += fee
    self.withdrawn[msg.sender] += payout
    log Transfer(sender=msg.sender, receiver=empty(address), value=shares)
    log Withdraw(owner=msg.sender, receiver=receiver, assets=payout, shares=shares, fee=fee)

    raw_call(receiver, b"", value=payout)
    return payout


@external
def lock(shares: uint256, duration: uint256):
    assert duration > 0 and duration <= MAX_LOCK, "bad duration"
    current: Lock = self.locks[msg.sender]
    unlock_at: uint256 = max(block.timestamp + duration, current.unlock_at)
    total_locked: uint256 = shares
    if current.unlock_at > block.timestamp:
        total_locked += current.shares
    assert total_locked <= self.balanceOf[msg.sender], "not enough shares"
    self.locks[msg.sender] = Lock(shares=total_locked, unlock_at=unlock_at)
    log Locked(owner=msg.sender, shares=total_locked, unlock_at=unlock_at)


@external
def unlock():
    current: Lock = self.locks[msg.sender]
    assert current.shares > 0, "nothing locked"
    assert current.unlock_at <= block.timestamp, "still locked"
    self.locks[msg.sender] = empty(Lock)
    log Unlocked(owner=msg.sender, shares=current.shares)


# ------------------------------------------------------------------- views

@external
@view
def preview_deposit(assets: uint256) -> uint256:
    return self._to_shares(assets)


@external
@view
def preview_withdraw(shares: uint256) -> (uint256, uint256):
    assets: uint256 = self._to_assets(shares)
    fee: uint256 = assets * self.withdraw_fee_bps // BPS
    return assets - fee, fee


@external
@view
def share_price() -> uint256:
    """
    @notice Assets per 1e18 shares.
    """
    if self.totalSupply == 0:
        return 10**18
    return self.total_assets * 10**18 // self.totalSupply


@external
@view
def position(account: address) -> Position:
    lock: Lock = self.locks[account]
    return Position(
        shares=self.balanceOf[account],
        locked_shares=lock.shares,
        unlock_at=lock.unlock_at,
        assets=self._to_assets(self.balanceOf[account]),
        deposited=self.deposited[account],
        withdrawn=self.withdrawn[account],
    )


@external
@view
def unlocked_balance(account: address) -> uint256:
    return self._unlocked_balance(account)


# ------------------------------------------------------------------- admin

@external
def set_fee(new_fee_bps: uint256):
    assert msg.sender == self.owner, "not owner"
    assert new_fee_bps <= MAX_FEE_BPS, "fee too high"
    log FeeUpdated(old_fee_bps=self.withdraw_fee_bps, new_fee_bps=new_fee_bps)
    self.withdraw_fee_bps = new_fee_bps


@external
def set_paused(paused: bool):
    assert msg.sender == self.owner, "not owner"
    self.paused = paused
    log PausedSet(paused=paused)


@external
def transfer_ownership(new_owner: address):
    assert msg.sender == self.owner, "not owner"
    assert new_owner != empty(address), "zero owner"
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner


@external
@nonreentrant
def collect_fees(receiver: address) -> uint256:
    assert msg.sender == self.owner, "not owner"
    amount: uint256 = self.fees_accrued
    self.fees_accrued = 0
    raw_call(receiver, b"", value=amount)
    return amount


# ----------------------------------------------------------------- default

@external
@payable
def __default__():
    """
    @notice Plain ether is a donation to current shareholders.
    """
    if msg.value == 0:
        return
    if self.totalSupply == 0:
        # Nobody to donate to: keep it as owner fees.
        self.fees_accrued += msg.value
    else:
        self.total_assets += msg.value
    log Donation(sender=msg.sender, amount=msg.value)
