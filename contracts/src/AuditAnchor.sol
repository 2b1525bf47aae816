// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {IAuditAnchor} from "./interfaces/IAuditAnchor.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title AuditAnchor
/// @notice Checkpoints of each issuer's audit log (log id = issuer id), written by that
/// issuer's current writers; tree sizes strictly grow within an epoch. An epoch reset
/// is a governance action: the IssuerRegistry calls {resetEpoch} when an M-of-N
/// ResetAuditEpoch proposal naming this contract is executed. See docs/contracts.md.
contract AuditAnchor is IAuditAnchor, ERC165 {
    /// @dev Per log: current epoch, last tree size in that epoch, number of checkpoints.
    struct LogState {
        uint32 epoch;
        uint64 lastTreeSize;
        uint64 count;
    }

    IIssuerRegistry private immutable _registry;

    mapping(uint32 logId => LogState) private _logs;
    mapping(uint32 logId => mapping(uint256 index => Checkpoint)) private _checkpoints;

    /// @param issuerRegistry The deployed IssuerRegistry (writers, governance).
    constructor(IIssuerRegistry issuerRegistry) {
        if (address(issuerRegistry).code.length == 0) revert AuditAnchorInvalidRegistry(address(issuerRegistry));
        _registry = issuerRegistry;
    }

    /// @inheritdoc IAuditAnchor
    function appendCheckpoint(uint32 logId, uint64 treeSize, bytes32 root) external returns (uint256 index) {
        (bool isWriter, bool issuerActive) = _registry.writerStatus(logId, msg.sender);
        if (!isWriter) revert AuditAnchorNotWriter(logId, msg.sender);
        if (!issuerActive) revert AuditAnchorIssuerNotActive(logId);
        if (root == bytes32(0)) revert AuditAnchorInvalidRoot();
        LogState memory state = _logs[logId];
        if (treeSize <= state.lastTreeSize) {
            revert AuditAnchorTreeSizeNotGrowing(logId, state.epoch, state.lastTreeSize, treeSize);
        }
        index = state.count;
        _checkpoints[logId][index] = Checkpoint({
            treeSize: treeSize,
            timestamp: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            epoch: state.epoch,
            root: root
        });
        _logs[logId] = LogState({epoch: state.epoch, lastTreeSize: treeSize, count: state.count + 1});
        emit CheckpointAppended(logId, state.epoch, index, treeSize, root);
    }

    /// @inheritdoc IAuditAnchor
    function resetEpoch(uint32 logId, uint256 proposalId) external {
        if (msg.sender != address(_registry)) revert AuditAnchorNotRegistry(msg.sender);
        LogState storage state = _logs[logId];
        uint32 previous = state.epoch;
        uint32 next = previous + 1;
        state.epoch = next;
        state.lastTreeSize = 0;
        emit EpochReset(logId, previous, next, proposalId);
    }

    /// @notice ERC-165: this contract implements IAuditAnchor (the registry checks this
    /// before accepting a ResetAuditEpoch proposal naming it).
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IAuditAnchor).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc IAuditAnchor
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IAuditAnchor
    function epochOf(uint32 logId) external view returns (uint32) {
        return _logs[logId].epoch;
    }

    /// @inheritdoc IAuditAnchor
    function lastTreeSize(uint32 logId) external view returns (uint64) {
        return _logs[logId].lastTreeSize;
    }

    /// @inheritdoc IAuditAnchor
    function checkpointCount(uint32 logId) external view returns (uint256) {
        return _logs[logId].count;
    }

    /// @inheritdoc IAuditAnchor
    function checkpointAt(uint32 logId, uint256 index) external view returns (Checkpoint memory) {
        uint256 count = _logs[logId].count;
        if (index >= count) revert AuditAnchorCheckpointOutOfRange(logId, index, count);
        return _checkpoints[logId][index];
    }

    /// @inheritdoc IAuditAnchor
    function latestCheckpoint(uint32 logId) external view returns (Checkpoint memory) {
        uint256 count = _logs[logId].count;
        if (count == 0) revert AuditAnchorCheckpointOutOfRange(logId, 0, 0);
        // count > 0 here, so count - 1 cannot underflow (checked arithmetic kept anyway).
        return _checkpoints[logId][count - 1];
    }
}
