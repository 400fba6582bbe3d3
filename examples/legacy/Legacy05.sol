pragma solidity ^0.5.16;

/// @title Legacy05
/// @notice chainlift example fixture in Solidity 0.5.x syntax (compiled with
///         solc 0.5.16): a milestone escrow with an arbiter, a deposit ledger
///         and a payable fallback.
contract Legacy05 {
    enum DealState { None, Funded, Disputed, Closed }

    struct Deal {
        address payable client;
        address payable provider;
        address arbiter;
        uint256 total;
        uint256 paidOut;
        uint256[] milestones;
        uint256 nextMilestone;
        DealState state;
        string memo;
    }

    address payable public owner;
    uint256 public dealCount;
    uint256 public looseEther;
    uint256 public pendingTotal;

    mapping(uint256 => Deal) internal deals;
    mapping(address => uint256[]) internal dealsByClient;
    mapping(address => uint256) public credits;

    event Funded(uint256 indexed id, address indexed client, address indexed provider, uint256 total);
    event MilestonePaid(uint256 indexed id, uint256 index, uint256 amount);
    event Disputed(uint256 indexed id, address by, string reason);
    event Resolved(uint256 indexed id, uint256 toProvider, uint256 toClient);
    event Credited(address indexed who, uint256 amount);
    event Received(address indexed from, uint256 amount, bytes data);

    modifier onlyOwner() {
        require(msg.sender == owner, "Legacy05: not owner");
        _;
    }

    modifier inState(uint256 id, DealState s) {
        require(deals[id].state == s, "Legacy05: wrong state");
        _;
    }

    constructor() public {
        owner = msg.sender;
    }

    function() external payable {
        looseEther += msg.value;
        emit Received(msg.sender, msg.value, msg.data);
    }

    function createDeal(
        address payable provider,
        address arbiter,
        uint256[] calldata milestones,
        string calldata memo
    ) external payable returns (uint256 id) {
        require(provider != address(0) && arbiter != address(0), "Legacy05: zero address");
        require(milestones.length > 0 && milestones.length <= 16, "Legacy05: bad milestones");
        uint256 sum = 0;
        for (uint256 i = 0; i < milestones.length; i++) {
            require(milestones[i] > 0, "Legacy05: empty milestone");
            sum += milestones[i];
            require(sum >= milestones[i], "Legacy05: overflow");
        }
        require(msg.value == sum, "Legacy05: value mismatch");

        id = ++dealCount;
        Deal storage d = deals[id];
        d.client = msg.sender;
        d.provider = provider;
        d.arbiter = arbiter;
        d.total = sum;
        d.milestones = milestones;
        d.state = DealState.Funded;
        d.memo = memo;
        dealsByClient[msg.sender].push(id);
        pendingTotal += sum;
        emit Funded(id, msg.sender, provider, sum);
    }

    function approveMilestone(uint256 id) external inState(id, DealState.Funded) {
        Deal storage d = deals[id];
        require(msg.sender == d.client, "Legacy05: not client");
        uint256 index = d.nextMilestone;
        uint256 amount = d.milestones[index];
        d.nextMilestone = index + 1;
        d.paidOut += amount;
        pendingTotal -= amount;
        if (d.nextMilestone == d.milestones.length) {
            d.state = DealState.Closed;
        }
        _credit(d.provider, amount);
        emit MilestonePaid(id, index, amount);
    }

    function dispute(uint256 id, string calldata reason) external inState(id, DealState.Funded) {
        Deal storage d = deals[id];
        require(msg.sender == d.client || msg.sender == d.provider, "Legacy05: not a party");
        d.state = DealState.Disputed;
        emit Disputed(id, msg.sender, reason);
    }

    /// @param providerShareBps share of the remaining funds for the provider, in basis points.
    function resolve(uint256 id, uint256 providerShareBps) external inState(id, DealState.Disputed) {
        Deal storage d = deals[id];
        require(msg.sender == d.arbiter, "Legacy05: not arbiter");
        require(providerShareBps <= 10000, "Legacy05: bad share");
        uint256 remaining = d.total - d.paidOut;
        uint256 toProvider = remaining * providerShareBps / 10000;
        uint256 toClient = remaining - toProvider;
        d.paidOut = d.total;
        d.state = DealState.Closed;
        pendingTotal -= remaining;
        _credit(d.provider, toProvider);
        _credit(d.client, toClient);
        emit Resolved(id, toProvider, toClient);
    }

    function withdraw() external {
        uint256 amount = credits[msg.sender];
        require(amount > 0, "Legacy05: nothing to withdraw");
        credits[msg.sender] = 0;
        msg.sender.transfer(amount);
    }

    function sweepLoose(address payable to) external onlyOwner {
        uint256 amount = looseEther;
        looseEther = 0;
        to.transfer(amount);
    }

    function transferOwnership(address payable newOwner) external onlyOwner {
        require(newOwner != address(0), "Legacy05: zero address");
        owner = newOwner;
    }

    function getDeal(uint256 id)
        external
        view
        returns (
            address client,
            address provider,
            address arbiter,
            uint256 total,
            uint256 paidOut,
            uint256 nextMilestone,
            DealState state
        )
    {
        Deal storage d = deals[id];
        return (d.client, d.provider, d.arbiter, d.total, d.paidOut, d.nextMilestone, d.state);
    }

    function getMilestones(uint256 id) external view returns (uint256[] memory) {
        return deals[id].milestones;
    }

    function getMemo(uint256 id) external view returns (string memory) {
        return deals[id].memo;
    }

    function dealsOf(address client) external view returns (uint256[] memory) {
        return dealsByClient[client];
    }

    function dealHash(uint256 id) external view returns (bytes32) {
        Deal storage d = deals[id];
        return keccak256(abi.encodePacked(id, d.client, d.provider, d.total, d.milestones, d.memo));
    }

    function _credit(address who, uint256 amount) internal {
        if (amount == 0) return;
        credits[who] += amount;
        emit Credited(who, amount);
    }
}
