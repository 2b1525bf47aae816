// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";

import {IAuditAnchor} from "./interfaces/IAuditAnchor.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title IssuerRegistry
/// @notice Governors (GOVERNOR_ROLE, at most MAX_GOVERNORS) decide by M-of-N proposals;
/// issuer admins manage their own writers and SM2 keys. See docs/contracts.md.
/// @dev Governors are the members of GOVERNOR_ROLE (OpenZeppelin AccessControl). Nobody
/// holds DEFAULT_ADMIN_ROLE and grantRole/revokeRole/renounceRole are disabled: the
/// governor set changes only through executed proposals, and every such change bumps
/// `governorSetVersion`, which makes all open proposals stale. So approvals given by a
/// governor who was later removed can never count, and no loop over approvers is needed.
contract IssuerRegistry is IIssuerRegistry, AccessControlEnumerable {
    /// @notice The role whose members are the governors.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice Upper bound on the number of governors (keeps every loop bounded).
    uint256 public constant MAX_GOVERNORS = 32;
    /// @notice Longest time a proposal may stay open.
    uint64 public constant MAX_PROPOSAL_LIFETIME = 30 days;
    /// @notice Longest display name, in bytes of UTF-8.
    uint256 public constant MAX_NAME_LENGTH = 128;

    /// @dev The sm2p256v1 field prime; a compressed point's x must be below it.
    uint256 private constant _SM2_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF;

    /// @dev Hot fields (admin, status) share one slot: writerStatus reads a single slot here.
    struct Issuer {
        address admin;
        IssuerStatus status;
        uint32 divisionCode;
        uint64 admittedAt;
        string name;
    }

    /// @dev The issuer an account currently writes for (0: none) and its writer-history index.
    struct WriterSlot {
        uint32 issuerId;
        uint64 index;
    }

    /// @dev A key: the compressed point as prefix (0x02/0x03; 0 = no such key) and x.
    struct Key {
        bytes32 x;
        uint8 prefix;
        bool compromised;
        uint64 validFrom;
        uint64 retiredAt;
        uint64 compromisedFrom;
    }

    uint8 private _threshold;
    uint32 private _governorSetVersion;
    uint256 private _proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address governor => bool)) private _approved;

    mapping(uint32 issuerId => Issuer) private _issuers;
    mapping(uint32 issuerId => WriterRecord[]) private _writers;
    mapping(address account => WriterSlot) private _writerOf;
    mapping(uint32 issuerId => bytes32[]) private _keyIds;
    mapping(uint32 issuerId => mapping(bytes32 keyId => Key)) private _keys;

    /// @param initialGovernors 1..MAX_GOVERNORS distinct non-zero accounts.
    /// @param initialThreshold M, with 1 <= M <= number of governors.
    /// @dev Emits {RoleGranted} per governor and {GovernorSetChanged} (version 1, proposal 0).
    constructor(address[] memory initialGovernors, uint8 initialThreshold) {
        uint256 count = initialGovernors.length;
        if (count == 0 || count > MAX_GOVERNORS) revert IssuerRegistryInvalidGovernorCount(count, MAX_GOVERNORS);
        for (uint256 i = 0; i < count; ++i) {
            address governor = initialGovernors[i];
            if (governor == address(0)) revert IssuerRegistryInvalidAccount(governor);
            if (!_grantRole(GOVERNOR_ROLE, governor)) revert IssuerRegistryGovernorExists(governor);
        }
        if (initialThreshold == 0 || initialThreshold > count) {
            revert IssuerRegistryInvalidThreshold(initialThreshold, count);
        }
        _threshold = initialThreshold;
        _governorSetVersion = 1;
        emit GovernorSetChanged(1, count, initialThreshold, 0);
    }

    // ------------------------------------------------------------- governance

    /// @inheritdoc IIssuerRegistry
    function propose(Action action, bytes calldata params, uint64 expiresAt) external returns (uint256 proposalId) {
        _checkGovernor(msg.sender);
        uint64 nowTime = uint64(block.timestamp);
        if (expiresAt <= nowTime || expiresAt > nowTime + MAX_PROPOSAL_LIFETIME) {
            revert IssuerRegistryInvalidExpiry(expiresAt, nowTime);
        }
        _validate(action, params);
        proposalId = ++_proposalCount;
        Proposal storage p = _proposals[proposalId];
        p.action = action;
        p.governorSetVersion = _governorSetVersion;
        p.createdAt = nowTime;
        p.expiresAt = expiresAt;
        p.proposer = msg.sender;
        p.params = params;
        emit ProposalCreated(proposalId, action, msg.sender, params, expiresAt, _governorSetVersion);
        _recordApproval(proposalId, p);
    }

    /// @inheritdoc IIssuerRegistry
    function approve(uint256 proposalId) external returns (bool executed) {
        _checkGovernor(msg.sender);
        Proposal storage p = _proposals[proposalId];
        if (p.proposer == address(0)) revert IssuerRegistryUnknownProposal(proposalId);
        if (p.executed) revert IssuerRegistryProposalAlreadyExecuted(proposalId);
        if (block.timestamp >= p.expiresAt) revert IssuerRegistryProposalExpired(proposalId, p.expiresAt);
        if (p.governorSetVersion != _governorSetVersion) {
            revert IssuerRegistryProposalStale(proposalId, p.governorSetVersion, _governorSetVersion);
        }
        if (_approved[proposalId][msg.sender]) revert IssuerRegistryAlreadyApproved(proposalId, msg.sender);
        return _recordApproval(proposalId, p);
    }

    /// @notice Disabled: governors change only through proposals.
    /// @dev Always reverts {IssuerRegistryGovernanceOnly}.
    function grantRole(bytes32, address) public pure override(AccessControl, IAccessControl) {
        revert IssuerRegistryGovernanceOnly();
    }

    /// @notice Disabled: governors change only through proposals.
    /// @dev Always reverts {IssuerRegistryGovernanceOnly}.
    function revokeRole(bytes32, address) public pure override(AccessControl, IAccessControl) {
        revert IssuerRegistryGovernanceOnly();
    }

    /// @notice Disabled: a governor leaves only through a RemoveGovernor proposal, so
    /// the set can never drop below the threshold.
    /// @dev Always reverts {IssuerRegistryGovernanceOnly}.
    function renounceRole(bytes32, address) public pure override(AccessControl, IAccessControl) {
        revert IssuerRegistryGovernanceOnly();
    }

    // ---------------------------------------------------- issuer administration

    /// @inheritdoc IIssuerRegistry
    function addWriter(uint32 issuerId, address account) external {
        _checkIssuerAdmin(issuerId);
        _checkActive(issuerId);
        if (account == address(0)) revert IssuerRegistryInvalidAccount(account);
        uint32 current = _writerOf[account].issuerId;
        if (current != 0) revert IssuerRegistryWriterTaken(account, current);
        WriterRecord[] storage history = _writers[issuerId];
        uint256 index = history.length;
        history.push(WriterRecord({account: account, addedAt: uint64(block.timestamp), retiredAt: 0}));
        _writerOf[account] = WriterSlot({issuerId: issuerId, index: uint64(index)});
        emit WriterAdded(issuerId, account, index);
    }

    /// @inheritdoc IIssuerRegistry
    function retireWriter(uint32 issuerId, address account) external {
        _checkIssuerAdmin(issuerId);
        WriterSlot memory slot = _writerOf[account];
        if (slot.issuerId != issuerId) revert IssuerRegistryNotWriter(issuerId, account);
        _writers[issuerId][slot.index].retiredAt = uint64(block.timestamp);
        // Only the "current writer" pointer is cleared; the history entry stays.
        delete _writerOf[account];
        emit WriterRetired(issuerId, account, slot.index);
    }

    /// @inheritdoc IIssuerRegistry
    function addKey(uint32 issuerId, bytes32 keyId, bytes calldata publicKey, uint64 validFrom) external {
        _checkIssuerAdmin(issuerId);
        _checkActive(issuerId);
        if (keyId == bytes32(0)) revert IssuerRegistryInvalidKeyId();
        Key storage k = _keys[issuerId][keyId];
        if (k.prefix != 0) revert IssuerRegistryKeyExists(issuerId, keyId);
        if (publicKey.length != 33) revert IssuerRegistryInvalidPublicKey();
        uint8 prefix = uint8(publicKey[0]);
        bytes32 x = bytes32(publicKey[1:33]);
        if ((prefix != 0x02 && prefix != 0x03) || uint256(x) >= _SM2_P) revert IssuerRegistryInvalidPublicKey();
        uint64 nowTime = uint64(block.timestamp);
        if (validFrom == 0) {
            validFrom = nowTime;
        } else if (validFrom < nowTime) {
            revert IssuerRegistryKeyBackdated(validFrom, nowTime);
        }
        k.x = x;
        k.prefix = prefix;
        k.validFrom = validFrom;
        _keyIds[issuerId].push(keyId);
        emit KeyAdded(issuerId, keyId, publicKey, validFrom);
    }

    /// @inheritdoc IIssuerRegistry
    function retireKey(uint32 issuerId, bytes32 keyId) external {
        _checkIssuerAdmin(issuerId);
        Key storage k = _existingKey(issuerId, keyId);
        if (k.retiredAt != 0) revert IssuerRegistryKeyAlreadyRetired(issuerId, keyId);
        uint64 nowTime = uint64(block.timestamp);
        k.retiredAt = nowTime;
        emit KeyRetired(issuerId, keyId, nowTime);
    }

    /// @inheritdoc IIssuerRegistry
    function markKeyCompromised(uint32 issuerId, bytes32 keyId, uint64 compromisedFrom) external {
        _checkIssuerAdmin(issuerId);
        Key storage k = _existingKey(issuerId, keyId);
        if (k.compromised && compromisedFrom >= k.compromisedFrom) {
            revert IssuerRegistryCompromiseNotEarlier(issuerId, keyId, k.compromisedFrom, compromisedFrom);
        }
        k.compromised = true;
        k.compromisedFrom = compromisedFrom;
        emit KeyCompromised(issuerId, keyId, compromisedFrom);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IIssuerRegistry
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IIssuerRegistry
    function governors() external view returns (address[] memory) {
        return getRoleMembers(GOVERNOR_ROLE);
    }

    /// @inheritdoc IIssuerRegistry
    function isGovernor(address account) external view returns (bool) {
        return hasRole(GOVERNOR_ROLE, account);
    }

    /// @inheritdoc IIssuerRegistry
    function governorSetVersion() external view returns (uint32) {
        return _governorSetVersion;
    }

    /// @inheritdoc IIssuerRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IIssuerRegistry
    function proposal(uint256 proposalId) external view returns (Proposal memory) {
        Proposal storage p = _proposals[proposalId];
        if (p.proposer == address(0)) revert IssuerRegistryUnknownProposal(proposalId);
        return p;
    }

    /// @inheritdoc IIssuerRegistry
    function hasApproved(uint256 proposalId, address governor) external view returns (bool) {
        return _approved[proposalId][governor];
    }

    /// @inheritdoc IIssuerRegistry
    function issuer(uint32 issuerId) external view returns (IssuerInfo memory info) {
        Issuer storage i = _issuers[issuerId];
        if (i.status == IssuerStatus.None) revert IssuerRegistryUnknownIssuer(issuerId);
        info = IssuerInfo({
            issuerId: issuerId,
            status: i.status,
            divisionCode: i.divisionCode,
            admin: i.admin,
            admittedAt: i.admittedAt,
            name: i.name,
            did: issuerDid(issuerId),
            writerCount: _writers[issuerId].length,
            keyCount: _keyIds[issuerId].length
        });
    }

    /// @inheritdoc IIssuerRegistry
    function issuerStatus(uint32 issuerId) external view returns (IssuerStatus) {
        return _issuers[issuerId].status;
    }

    /// @inheritdoc IIssuerRegistry
    function issuerDid(uint32 issuerId) public view returns (string memory) {
        return string.concat("did:tongban:", Strings.toString(block.chainid), ":", Strings.toString(issuerId));
    }

    /// @inheritdoc IIssuerRegistry
    function writerStatus(uint32 issuerId, address account) external view returns (bool isWriter, bool issuerActive) {
        isWriter = issuerId != 0 && _writerOf[account].issuerId == issuerId;
        issuerActive = _issuers[issuerId].status == IssuerStatus.Active;
    }

    /// @inheritdoc IIssuerRegistry
    function writerIssuer(address account) external view returns (uint32) {
        return _writerOf[account].issuerId;
    }

    /// @inheritdoc IIssuerRegistry
    function writerCount(uint32 issuerId) external view returns (uint256) {
        return _writers[issuerId].length;
    }

    /// @inheritdoc IIssuerRegistry
    function writerAt(uint32 issuerId, uint256 index) external view returns (WriterRecord memory) {
        WriterRecord[] storage history = _writers[issuerId];
        if (index >= history.length) revert IssuerRegistryIndexOutOfRange(issuerId, index, history.length);
        return history[index];
    }

    /// @inheritdoc IIssuerRegistry
    function keyCount(uint32 issuerId) external view returns (uint256) {
        return _keyIds[issuerId].length;
    }

    /// @inheritdoc IIssuerRegistry
    function keyIdAt(uint32 issuerId, uint256 index) external view returns (bytes32) {
        bytes32[] storage ids = _keyIds[issuerId];
        if (index >= ids.length) revert IssuerRegistryIndexOutOfRange(issuerId, index, ids.length);
        return ids[index];
    }

    /// @inheritdoc IIssuerRegistry
    function key(uint32 issuerId, bytes32 keyId) external view returns (KeyRecord memory) {
        Key storage k = _existingKey(issuerId, keyId);
        return KeyRecord({
            keyId: keyId,
            publicKey: abi.encodePacked(k.prefix, k.x),
            validFrom: k.validFrom,
            retiredAt: k.retiredAt,
            compromised: k.compromised,
            compromisedFrom: k.compromisedFrom
        });
    }

    /// @inheritdoc IIssuerRegistry
    function isKeyValidAt(uint32 issuerId, bytes32 keyId, uint64 timestamp) external view returns (bool) {
        Key storage k = _keys[issuerId][keyId];
        if (k.prefix == 0 || timestamp < k.validFrom) return false;
        if (k.retiredAt != 0 && timestamp >= k.retiredAt) return false;
        if (k.compromised && timestamp >= k.compromisedFrom) return false;
        return true;
    }

    // --------------------------------------------------------------- internals

    function _checkGovernor(address account) private view {
        if (!hasRole(GOVERNOR_ROLE, account)) revert IssuerRegistryNotGovernor(account);
    }

    function _checkIssuerAdmin(uint32 issuerId) private view {
        // An issuer that was never admitted has admin 0, which no caller can be.
        if (_issuers[issuerId].admin != msg.sender) revert IssuerRegistryNotIssuerAdmin(issuerId, msg.sender);
    }

    function _checkActive(uint32 issuerId) private view {
        if (_issuers[issuerId].status != IssuerStatus.Active) revert IssuerRegistryIssuerNotActive(issuerId);
    }

    function _checkKnownIssuer(uint32 issuerId) private view {
        if (_issuers[issuerId].status == IssuerStatus.None) revert IssuerRegistryUnknownIssuer(issuerId);
    }

    function _existingKey(uint32 issuerId, bytes32 keyId) private view returns (Key storage k) {
        k = _keys[issuerId][keyId];
        if (k.prefix == 0) revert IssuerRegistryUnknownKey(issuerId, keyId);
    }

    function _recordApproval(uint256 proposalId, Proposal storage p) private returns (bool executed) {
        _approved[proposalId][msg.sender] = true;
        // At most MAX_GOVERNORS (32) approvals: one per governor of one set version.
        uint8 approvals = p.approvals + 1;
        p.approvals = approvals;
        emit ProposalApproved(proposalId, msg.sender, approvals, _threshold);
        if (approvals < _threshold) return false;
        // Effects before the action (which may call an AuditAnchor): no re-execution.
        p.executed = true;
        Action action = p.action;
        _execute(proposalId, action, p.params);
        emit ProposalExecuted(proposalId, action);
        return true;
    }

    /// @dev Checks that `params` are well formed and the action can be applied now.
    /// Called when proposing and again when executing (state may have changed between).
    function _validate(Action action, bytes memory params) private view {
        if (action == Action.AdmitIssuer) {
            (uint32 issuerId, uint32 divisionCode, string memory name, address admin) =
                abi.decode(params, (uint32, uint32, string, address));
            if (issuerId == 0) revert IssuerRegistryInvalidIssuerId(issuerId);
            if (_issuers[issuerId].status != IssuerStatus.None) revert IssuerRegistryIssuerExists(issuerId);
            if (divisionCode < 100000 || divisionCode > 999999) revert IssuerRegistryInvalidDivisionCode(divisionCode);
            uint256 length = bytes(name).length;
            if (length == 0 || length > MAX_NAME_LENGTH) revert IssuerRegistryInvalidName(length);
            if (admin == address(0)) revert IssuerRegistryInvalidAccount(admin);
        } else if (action == Action.SuspendIssuer) {
            uint32 issuerId = abi.decode(params, (uint32));
            _checkKnownIssuer(issuerId);
            _checkActive(issuerId);
        } else if (action == Action.ReinstateIssuer) {
            uint32 issuerId = abi.decode(params, (uint32));
            _checkKnownIssuer(issuerId);
            if (_issuers[issuerId].status != IssuerStatus.Suspended) revert IssuerRegistryIssuerNotSuspended(issuerId);
        } else if (action == Action.ReplaceIssuerAdmin) {
            (uint32 issuerId, address newAdmin) = abi.decode(params, (uint32, address));
            _checkKnownIssuer(issuerId);
            if (newAdmin == address(0) || newAdmin == _issuers[issuerId].admin) {
                revert IssuerRegistryInvalidAccount(newAdmin);
            }
        } else if (action == Action.AddGovernor) {
            address governor = abi.decode(params, (address));
            if (governor == address(0)) revert IssuerRegistryInvalidAccount(governor);
            if (hasRole(GOVERNOR_ROLE, governor)) revert IssuerRegistryGovernorExists(governor);
            uint256 count = getRoleMemberCount(GOVERNOR_ROLE) + 1;
            if (count > MAX_GOVERNORS) revert IssuerRegistryInvalidGovernorCount(count, MAX_GOVERNORS);
        } else if (action == Action.RemoveGovernor) {
            address governor = abi.decode(params, (address));
            if (!hasRole(GOVERNOR_ROLE, governor)) revert IssuerRegistryGovernorUnknown(governor);
            uint256 remaining = getRoleMemberCount(GOVERNOR_ROLE) - 1;
            if (remaining < _threshold) revert IssuerRegistryInvalidThreshold(_threshold, remaining);
        } else if (action == Action.SetThreshold) {
            uint8 newThreshold = abi.decode(params, (uint8));
            uint256 count = getRoleMemberCount(GOVERNOR_ROLE);
            if (newThreshold == 0 || newThreshold > count) revert IssuerRegistryInvalidThreshold(newThreshold, count);
        } else if (action == Action.ResetAuditEpoch) {
            (address target, uint32 logId) = abi.decode(params, (address, uint32));
            _checkKnownIssuer(logId);
            // Must be an AuditAnchor (ERC-165) bound to this registry.
            if (!ERC165Checker.supportsInterface(target, type(IAuditAnchor).interfaceId)) {
                revert IssuerRegistryInvalidTarget(target);
            }
            if (IAuditAnchor(target).registry() != address(this)) revert IssuerRegistryInvalidTarget(target);
        } else {
            revert IssuerRegistryUnknownAction(uint8(action));
        }
    }

    function _execute(uint256 proposalId, Action action, bytes memory params) private {
        _validate(action, params);
        if (action == Action.AdmitIssuer) {
            (uint32 issuerId, uint32 divisionCode, string memory name, address admin) =
                abi.decode(params, (uint32, uint32, string, address));
            Issuer storage i = _issuers[issuerId];
            i.admin = admin;
            i.status = IssuerStatus.Active;
            i.divisionCode = divisionCode;
            i.admittedAt = uint64(block.timestamp);
            i.name = name;
            emit IssuerAdmitted(issuerId, divisionCode, issuerDid(issuerId), name, admin, proposalId);
        } else if (action == Action.SuspendIssuer) {
            uint32 issuerId = abi.decode(params, (uint32));
            _issuers[issuerId].status = IssuerStatus.Suspended;
            emit IssuerSuspended(issuerId, proposalId);
        } else if (action == Action.ReinstateIssuer) {
            uint32 issuerId = abi.decode(params, (uint32));
            _issuers[issuerId].status = IssuerStatus.Active;
            emit IssuerReinstated(issuerId, proposalId);
        } else if (action == Action.ReplaceIssuerAdmin) {
            (uint32 issuerId, address newAdmin) = abi.decode(params, (uint32, address));
            address previous = _issuers[issuerId].admin;
            _issuers[issuerId].admin = newAdmin;
            emit IssuerAdminReplaced(issuerId, previous, newAdmin, proposalId);
        } else if (action == Action.AddGovernor) {
            _grantRole(GOVERNOR_ROLE, abi.decode(params, (address)));
            _governorSetChanged(proposalId);
        } else if (action == Action.RemoveGovernor) {
            _revokeRole(GOVERNOR_ROLE, abi.decode(params, (address)));
            _governorSetChanged(proposalId);
        } else if (action == Action.SetThreshold) {
            _threshold = abi.decode(params, (uint8));
            _governorSetChanged(proposalId);
        } else {
            // Action.ResetAuditEpoch (_validate rejected every other value).
            (address target, uint32 logId) = abi.decode(params, (address, uint32));
            IAuditAnchor(target).resetEpoch(logId, proposalId);
        }
    }

    function _governorSetChanged(uint256 proposalId) private {
        uint32 version = _governorSetVersion + 1;
        _governorSetVersion = version;
        emit GovernorSetChanged(version, getRoleMemberCount(GOVERNOR_ROLE), _threshold, proposalId);
    }
}
