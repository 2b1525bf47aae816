// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAuditAnchor
/// @notice Checkpoints of each issuer's tamper-evident audit log (log id = issuer id).
/// Tree sizes strictly grow within an epoch; only governance (M of N, executed by
/// the IssuerRegistry) starts a new epoch after an incident. Every checkpoint stays
/// readable by index, across epochs.
interface IAuditAnchor {
    /// @notice One anchored checkpoint of a log.
    struct Checkpoint {
        uint64 treeSize;
        uint64 timestamp;
        uint64 blockNumber;
        uint32 epoch;
        bytes32 root;
    }

    /// @notice The registry address has no code.
    error AuditAnchorInvalidRegistry(address registry);
    /// @notice `account` is not a current writer of issuer `logId`.
    error AuditAnchorNotWriter(uint32 logId, address account);
    /// @notice The issuer owning the log is suspended.
    error AuditAnchorIssuerNotActive(uint32 logId);
    /// @notice The zero root is not a Merkle root.
    error AuditAnchorInvalidRoot();
    /// @notice In `epoch`, the log already reached `previousTreeSize` >= `treeSize`.
    error AuditAnchorTreeSizeNotGrowing(uint32 logId, uint32 epoch, uint64 previousTreeSize, uint64 treeSize);
    /// @notice Only the IssuerRegistry (executing a governance proposal) may reset epochs.
    error AuditAnchorNotRegistry(address account);
    /// @notice The log has `count` checkpoints; `index` is out of range.
    error AuditAnchorCheckpointOutOfRange(uint32 logId, uint256 index, uint256 count);

    /// @notice A checkpoint was appended to log `logId` at position `index`.
    event CheckpointAppended(uint32 indexed logId, uint32 indexed epoch, uint256 index, uint64 treeSize, bytes32 root);

    /// @notice Governance proposal `proposalId` started epoch `newEpoch` of log `logId`.
    event EpochReset(uint32 indexed logId, uint32 previousEpoch, uint32 newEpoch, uint256 indexed proposalId);

    /// @notice Appends a checkpoint (tree size, root) to log `logId`.
    /// @dev Requirements: caller is a current writer of issuer `logId`; the issuer is
    /// active; `root` is not zero; `treeSize` exceeds the last tree size of the current
    /// epoch (0 at the start of an epoch). Emits {CheckpointAppended}.
    /// @return index The checkpoint's position in the log's checkpoint list.
    function appendCheckpoint(uint32 logId, uint64 treeSize, bytes32 root) external returns (uint256 index);

    /// @notice Starts a new epoch of log `logId`: tree sizes restart from 0; earlier
    /// checkpoints stay readable.
    /// @dev Requirements: caller is the IssuerRegistry, which calls this only when
    /// executing an approved ResetAuditEpoch proposal `proposalId`. Emits {EpochReset}.
    function resetEpoch(uint32 logId, uint256 proposalId) external;

    /// @notice The IssuerRegistry this contract reads writers from and takes resets from.
    function registry() external view returns (address);

    /// @notice The current epoch of log `logId` (0 until the first reset).
    function epochOf(uint32 logId) external view returns (uint32);

    /// @notice The last tree size anchored in the current epoch (0 if none).
    function lastTreeSize(uint32 logId) external view returns (uint64);

    /// @notice The number of checkpoints of log `logId`, all epochs together.
    function checkpointCount(uint32 logId) external view returns (uint256);

    /// @notice The checkpoint at `index`. Reverts {AuditAnchorCheckpointOutOfRange}.
    function checkpointAt(uint32 logId, uint256 index) external view returns (Checkpoint memory);

    /// @notice The newest checkpoint. Reverts {AuditAnchorCheckpointOutOfRange} if there is none.
    function latestCheckpoint(uint32 logId) external view returns (Checkpoint memory);
}
