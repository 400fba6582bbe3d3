pragma solidity ^0.4.24;

/// @title Legacy
/// @notice chainlift example fixture in Solidity 0.4.x syntax (compiled with
///         solc 0.4.26): an ether bank with internal transfers, allowances and
///         simple two-party escrows, plus a payable fallback.
contract Legacy {
    struct Escrow {
        address payer;
        address payee;
        address arbiter;
        uint256 amount;
        uint256 deadline;
        uint8 state; // 0 = none, 1 = open, 2 = released, 3 = refunded
    }

    uint8 constant STATE_OPEN = 1;
    uint8 constant STATE_RELEASED = 2;
    uint8 constant STATE_REFUNDED = 3;

    address public owner;
    uint256 public feeBasisPoints;
    uint256 public collectedFees;
    uint256 public totalDeposits;
    uint256 public escrowCount;
    bool private locked;

    mapping(address => uint256) public balances;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(uint256 => Escrow) public escrows;

    event Deposit(address indexed from, uint256 amount);
    event Withdrawal(address indexed to, uint256 amount, uint256 fee);
    event Transfer(address indexed from, address indexed to, uint256 amount);
    event Approval(address indexed owner, address indexed spender, uint256 amount);
    event EscrowOpened(uint256 indexed id, address indexed payer, address indexed payee, uint256 amount, uint256 deadline);
    event EscrowReleased(uint256 indexed id, address by);
    event EscrowRefunded(uint256 indexed id, address by);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    modifier nonReentrant() {
        require(!locked, "reentrant call");
        locked = true;
        _;
        locked = false;
    }

    constructor(uint256 _feeBasisPoints) public {
        require(_feeBasisPoints <= 1000, "fee too high");
        owner = msg.sender;
        feeBasisPoints = _feeBasisPoints;
    }

    /// @notice Plain ether transfers are credited as deposits.
    function () public payable {
        _credit(msg.sender, msg.value);
    }

    function deposit() public payable returns (uint256) {
        require(msg.value > 0, "nothing sent");
        _credit(msg.sender, msg.value);
        return balances[msg.sender];
    }

    function withdraw(uint256 amount) public nonReentrant {
        require(balances[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * feeBasisPoints / 10000;
        balances[msg.sender] -= amount;
        totalDeposits -= amount;
        collectedFees += fee;
        msg.sender.transfer(amount - fee);
        emit Withdrawal(msg.sender, amount - fee, fee);
    }

    function transfer(address to, uint256 amount) public returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) public returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) public returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= amount, "allowance exceeded");
        if (allowed != uint256(-1)) {
            allowance[from][msg.sender] = allowed - amount;
        }
        _move(from, to, amount);
        return true;
    }

    function openEscrow(address payee, address arbiter, uint256 amount, uint256 duration) public returns (uint256 id) {
        require(payee != address(0) && arbiter != address(0), "zero address");
        require(balances[msg.sender] >= amount, "insufficient balance");
        balances[msg.sender] -= amount;
        id = ++escrowCount;
        escrows[id] = Escrow(msg.sender, payee, arbiter, amount, now + duration, STATE_OPEN);
        emit EscrowOpened(id, msg.sender, payee, amount, now + duration);
    }

    function release(uint256 id) public {
        Escrow storage e = escrows[id];
        require(e.state == STATE_OPEN, "escrow not open");
        require(msg.sender == e.payer || msg.sender == e.arbiter, "not allowed");
        e.state = STATE_RELEASED;
        balances[e.payee] += e.amount;
        emit EscrowReleased(id, msg.sender);
    }

    function refund(uint256 id) public {
        Escrow storage e = escrows[id];
        require(e.state == STATE_OPEN, "escrow not open");
        require(msg.sender == e.arbiter || (msg.sender == e.payer && now > e.deadline), "not allowed");
        e.state = STATE_REFUNDED;
        balances[e.payer] += e.amount;
        emit EscrowRefunded(id, msg.sender);
    }

    function escrowDigest(uint256 id) public constant returns (bytes32) {
        Escrow storage e = escrows[id];
        return keccak256(abi.encodePacked(id, e.payer, e.payee, e.amount, e.deadline));
    }

    function balanceOf(address who) public view returns (uint256) {
        return balances[who];
    }

    function setFee(uint256 newFee) public onlyOwner {
        require(newFee <= 1000, "fee too high");
        feeBasisPoints = newFee;
    }

    function collectFees(address to) public onlyOwner nonReentrant {
        uint256 amount = collectedFees;
        collectedFees = 0;
        to.transfer(amount);
    }

    function changeOwner(address newOwner) public onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(owner, newOwner);
        owner = newOwner;
    }

    function _credit(address who, uint256 amount) internal {
        balances[who] += amount;
        totalDeposits += amount;
        emit Deposit(who, amount);
    }

    function _move(address from, address to, uint256 amount) internal {
        require(to != address(0), "zero address");
        require(balances[from] >= amount, "insufficient balance");
        balances[from] -= amount;
        balances[to] += amount;
        emit Transfer(from, to, amount);
    }
}
