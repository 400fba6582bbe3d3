// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Registry
/// @notice chainlift example fixture: a paid name registry with per-record
///         endorsements, operator delegation and an admin treasury.
/// @dev Exercises structs, nested mappings, arrays of structs, events, custom
///      errors with arguments, modifiers, receive()/fallback(), view getters
///      and public state variables with compiler-generated getters.
contract Registry {
    enum Status {
        None,
        Active,
        Suspended,
        Retired
    }

    struct Record {
        address owner;
        uint64 createdAt;
        uint64 updatedAt;
        uint32 version;
        Status status;
        bytes32 nameHash;
        string name;
        string uri;
    }

    struct Endorsement {
        address endorser;
        uint8 score;
        uint40 timestamp;
        string note;
    }

    // ---------------------------------------------------------------- state

    address public admin;
    bool public paused;
    uint256 public registrationFee;
    uint256 public totalFees;
    uint256 public unknownCalls;

    /// @notice All records; index 0 is a sentinel so that id 0 means "absent".
    Record[] public records;

    /// @notice keccak256(name) => record id.
    mapping(bytes32 => uint256) public idByNameHash;

    /// @notice owner => operator => approved.
    mapping(address => mapping(address => bool)) public isOperator;

    /// @notice record id => endorser => score given (0 = none).
    mapping(uint256 => mapping(address => uint8)) public scoreOf;

    /// @notice owner => list of record ids ever owned (may contain stale ids).
    mapping(address => uint256[]) internal _ownedIds;

    /// @notice record id => endorsements in arrival order.
    mapping(uint256 => Endorsement[]) internal _endorsements;

    /// @notice Plain ether deposits credited through receive().
    mapping(address => uint256) public deposits;

    // --------------------------------------------------------------- events

    event Registered(uint256 indexed id, address indexed owner, string name, uint256 feePaid);
    event Updated(uint256 indexed id, uint32 version, string uri);
    event OwnershipMoved(uint256 indexed id, address indexed from, address indexed to);
    event StatusChanged(uint256 indexed id, Status previous, Status current);
    event Endorsed(uint256 indexed id, address indexed endorser, uint8 score);
    event OperatorSet(address indexed owner, address indexed operator, bool approved);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event Paused(bool paused);
    event AdminTransferred(address indexed previousAdmin, address indexed newAdmin);
    event Deposited(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);
    event UnknownCall(address indexed from, bytes4 selector, uint256 value, uint256 dataLength);

    // --------------------------------------------------------------- errors

    error NotAdmin(address caller);
    error NotAuthorized(uint256 id, address caller);
    error RegistryPaused();
    error UnknownRecord(uint256 id);
    error NameTaken(string name, uint256 existingId);
    error InvalidName(uint256 length);
    error InsufficientFee(uint256 sent, uint256 required);
    error BadStatus(uint256 id, Status current);
    error InvalidScore(uint8 score);
    error AlreadyEndorsed(uint256 id, address endorser);
    error ZeroAddress();
    error TransferFailed(address to, uint256 amount);
    error AmountTooLarge(uint256 requested, uint256 available);

    // ------------------------------------------------------------ modifiers

    modifier onlyAdmin() {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert RegistryPaused();
        _;
    }

    modifier exists(uint256 id) {
        if (id == 0 || id >= records.length) revert UnknownRecord(id);
        _;
    }

    modifier onlyRecordController(uint256 id) {
        address owner = records[id].owner;
        if (msg.sender != owner && !isOperator[owner][msg.sender]) revert NotAuthorized(id, msg.sender);
        _;
    }

    constructor(uint256 fee) {
        admin = msg.sender;
        registrationFee = fee;
        records.push(); // sentinel at index 0
        emit AdminTransferred(address(0), msg.sender);
    }

    // -------------------------------------------------------- registration

    function register(string calldata name, string calldata uri)
        external
        payable
        whenNotPaused
        returns (uint256 id)
    {
        uint256 len = bytes(name).length;
        if (len == 0 || len > 64) revert InvalidName(len);
        if (msg.value < registrationFee) revert InsufficientFee(msg.value, registrationFee);
        bytes32 h = keccak256(bytes(name));
        uint256 existing = idByNameHash[h];
        if (existing != 0) revert NameTaken(name, existing);

        id = records.length;
        Record storage r = records.push();
        r.owner = msg.sender;
        r.createdAt = uint64(block.timestamp);
        r.updatedAt = uint64(block.timestamp);
        r.version = 1;
        r.status = Status.Active;
        r.nameHash = h;
        r.name = name;
        r.uri = uri;

        idByNameHash[h] = id;
        _ownedIds[msg.sender].push(id);
        totalFees += msg.value;
        emit Registered(id, msg.sender, name, msg.value);
    }

    function updateUri(uint256 id, string calldata uri)
        external
        whenNotPaused
        exists(id)
        onlyRecordController(id)
    {
        Record storage r = records[id];
        if (r.status != Status.Active) revert BadStatus(id, r.status);
        r.uri = uri;
        r.updatedAt = uint64(block.timestamp);
        unchecked {
            r.version += 1;
        }
        emit Updated(id, r.version, uri);
    }

    function transferRecord(uint256 id, address to)
        external
        whenNotPaused
        exists(id)
        onlyRecordController(id)
    {
        if (to == address(0)) revert ZeroAddress();
        Record storage r = records[id];
        address from = r.owner;
        r.owner = to;
        r.updatedAt = uint64(block.timestamp);
        _ownedIds[to].push(id);
        emit OwnershipMoved(id, from, to);
    }

    function setOperator(address operator, bool approved) external {
        if (operator == address(0)) revert ZeroAddress();
        isOperator[msg.sender][operator] = approved;
        emit OperatorSet(msg.sender, operator, approved);
    }

    function retire(uint256 id) external exists(id) onlyRecordController(id) {
        Record storage r = records[id];
        if (r.status == Status.Retired) revert BadStatus(id, r.status);
        _setStatus(id, r, Status.Retired);
        delete idByNameHash[r.nameHash];
    }

    function endorse(uint256 id, uint8 score, string calldata note) external whenNotPaused exists(id) {
        if (score == 0 || score > 5) revert InvalidScore(score);
        if (scoreOf[id][msg.sender] != 0) revert AlreadyEndorsed(id, msg.sender);
        Record storage r = records[id];
        if (r.status != Status.Active) revert BadStatus(id, r.status);
        scoreOf[id][msg.sender] = score;
        _endorsements[id].push(
            Endorsement({endorser: msg.sender, score: score, timestamp: uint40(block.timestamp), note: note})
        );
        emit Endorsed(id, msg.sender, score);
    }

    // ------------------------------------------------------------- admin

    function suspend(uint256 id) external onlyAdmin exists(id) {
        Record storage r = records[id];
        if (r.status != Status.Active) revert BadStatus(id, r.status);
        _setStatus(id, r, Status.Suspended);
    }

    function reinstate(uint256 id) external onlyAdmin exists(id) {
        Record storage r = records[id];
        if (r.status != Status.Suspended) revert BadStatus(id, r.status);
        _setStatus(id, r, Status.Active);
    }

    function setFee(uint256 newFee) external onlyAdmin {
        emit FeeChanged(registrationFee, newFee);
        registrationFee = newFee;
    }

    function setPaused(bool value) external onlyAdmin {
        paused = value;
        emit Paused(value);
    }

    function transferAdmin(address newAdmin) external onlyAdmin {
        if (newAdmin == address(0)) revert ZeroAddress();
        emit AdminTransferred(admin, newAdmin);
        admin = newAdmin;
    }

    function withdrawFees(address payable to, uint256 amount) external onlyAdmin {
        if (amount > totalFees) revert AmountTooLarge(amount, totalFees);
        totalFees -= amount;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
        emit Withdrawn(to, amount);
    }

    function withdrawDeposit(uint256 amount) external {
        uint256 available = deposits[msg.sender];
        if (amount > available) revert AmountTooLarge(amount, available);
        deposits[msg.sender] = available - amount;
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------- views

    function recordCount() external view returns (uint256) {
        return records.length - 1;
    }

    function getRecord(uint256 id) external view exists(id) returns (Record memory) {
        return records[id];
    }

    function lookup(string calldata name) external view returns (uint256 id, address owner, string memory uri) {
        id = idByNameHash[keccak256(bytes(name))];
        if (id == 0) revert UnknownRecord(0);
        Record storage r = records[id];
        return (id, r.owner, r.uri);
    }

    function getEndorsements(uint256 id) external view exists(id) returns (Endorsement[] memory) {
        return _endorsements[id];
    }

    function averageScore(uint256 id) external view exists(id) returns (uint256 scaledAverage, uint256 count) {
        Endorsement[] storage list = _endorsements[id];
        count = list.length;
        if (count == 0) return (0, 0);
        uint256 sum;
        for (uint256 i = 0; i < count; ++i) {
            sum += list[i].score;
        }
        scaledAverage = (sum * 100) / count;
    }

    /// @notice Ids currently owned by `owner` (stale history entries are filtered out).
    function recordsOf(address owner) external view returns (uint256[] memory ids) {
        uint256[] storage history = _ownedIds[owner];
        uint256[] memory tmp = new uint256[](history.length);
        uint256 n;
        for (uint256 i = 0; i < history.length; ++i) {
            uint256 id = history[i];
            if (records[id].owner != owner) continue;
            bool seen;
            for (uint256 j = 0; j < n; ++j) {
                if (tmp[j] == id) {
                    seen = true;
                    break;
                }
            }
            if (!seen) tmp[n++] = id;
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = tmp[i];
        }
    }

    function statusCounts() external view returns (uint256[4] memory counts) {
        for (uint256 i = 1; i < records.length; ++i) {
            counts[uint256(records[i].status)]++;
        }
    }

    // ------------------------------------------------- receive / fallback

    receive() external payable {
        deposits[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    fallback(bytes calldata data) external payable returns (bytes memory) {
        unknownCalls += 1;
        bytes4 selector = data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
        if (msg.value > 0) deposits[msg.sender] += msg.value;
        emit UnknownCall(msg.sender, selector, msg.value, data.length);
        return abi.encode(unknownCalls);
    }

    // ----------------------------------------------------------- internal

    function _setStatus(uint256 id, Record storage r, Status next) internal {
        Status previous = r.status;
        r.status = next;
        r.updatedAt = uint64(block.timestamp);
        emit StatusChanged(id, previous, next);
    }
}
