// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC165} from "@openzeppelin/contracts/utils/introspection/ERC165.sol";

import {ICredentialAnchor} from "./interfaces/ICredentialAnchor.sol";
import {IIssuerRegistry} from "./interfaces/IIssuerRegistry.sol";

/// @title CredentialAnchor
/// @notice Anchors batch roots per (issuer, root) and keeps each credential digest's
/// revocation status per (issuer, digest). Who may write for an issuer is decided by
/// the IssuerRegistry (the issuer's current writers), so this contract has no roles
/// of its own. See docs/contracts.md.
/// @dev Gas: an anchored root takes one storage slot (block, time, tree size); the
/// metadata hash lives only in the event. A status takes one slot (status, reason, time).
contract CredentialAnchor is ICredentialAnchor, ERC165 {
    /// @notice Most digests one array call (or `statusesOf`) takes.
    uint256 public constant MAX_BATCH = 1000;

    IIssuerRegistry private immutable _registry;

    /// @dev Packed AnchorRecord: blockNumber | timestamp << 64 | treeSize << 128 (0: not anchored).
    mapping(uint32 issuerId => mapping(bytes32 root => uint256)) private _anchors;
    /// @dev Packed StatusRecord: status | reason << 8 | updatedAt << 24 (0: never changed).
    mapping(uint32 issuerId => mapping(bytes32 digest => uint256)) private _statuses;

    /// @param issuerRegistry The deployed IssuerRegistry.
    constructor(IIssuerRegistry issuerRegistry) {
        if (address(issuerRegistry).code.length == 0) revert CredentialAnchorInvalidRegistry(address(issuerRegistry));
        _registry = issuerRegistry;
    }

    /// @inheritdoc ICredentialAnchor
    function anchor(uint32 issuerId, bytes32 root, uint64 treeSize, bytes32 metadataHash) external {
        _checkWriter(issuerId, true);
        if (root == bytes32(0)) revert CredentialAnchorInvalidRoot();
        if (treeSize == 0) revert CredentialAnchorInvalidTreeSize();
        mapping(bytes32 => uint256) storage anchors = _anchors[issuerId];
        uint256 existing = anchors[root];
        if (existing != 0) revert CredentialAnchorDuplicateRoot(issuerId, root, uint64(existing));
        // block.number and block.timestamp fit 64 bits for billions of years.
        anchors[root] = uint256(uint64(block.number)) | (uint256(uint64(block.timestamp)) << 64)
            | (uint256(treeSize) << 128);
        emit RootAnchored(issuerId, root, treeSize, metadataHash);
    }

    /// @inheritdoc ICredentialAnchor
    function revoke(uint32 issuerId, bytes32 digest, uint16 reason) external {
        _checkWriter(issuerId, false);
        _setStatus(issuerId, digest, DigestStatus.Revoked, reason);
    }

    /// @inheritdoc ICredentialAnchor
    function suspend(uint32 issuerId, bytes32 digest, uint16 reason) external {
        _checkWriter(issuerId, false);
        _setStatus(issuerId, digest, DigestStatus.Suspended, reason);
    }

    /// @inheritdoc ICredentialAnchor
    function reinstate(uint32 issuerId, bytes32 digest, uint16 reason) external {
        _checkWriter(issuerId, true);
        _setStatus(issuerId, digest, DigestStatus.None, reason);
    }

    /// @inheritdoc ICredentialAnchor
    function revokeBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _checkWriter(issuerId, false);
        _setStatuses(issuerId, digests, DigestStatus.Revoked, reason);
    }

    /// @inheritdoc ICredentialAnchor
    function suspendBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _checkWriter(issuerId, false);
        _setStatuses(issuerId, digests, DigestStatus.Suspended, reason);
    }

    /// @inheritdoc ICredentialAnchor
    function reinstateBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external {
        _checkWriter(issuerId, true);
        _setStatuses(issuerId, digests, DigestStatus.None, reason);
    }

    /// @notice ERC-165: this contract implements ICredentialAnchor.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(ICredentialAnchor).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ICredentialAnchor
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ICredentialAnchor
    function anchorOf(uint32 issuerId, bytes32 root) external view returns (AnchorRecord memory) {
        uint256 packed = _anchors[issuerId][root];
        return AnchorRecord({
            blockNumber: uint64(packed),
            timestamp: uint64(packed >> 64),
            treeSize: uint64(packed >> 128)
        });
    }

    /// @inheritdoc ICredentialAnchor
    function isAnchored(uint32 issuerId, bytes32 root) external view returns (bool) {
        return _anchors[issuerId][root] != 0;
    }

    /// @inheritdoc ICredentialAnchor
    function statusOf(uint32 issuerId, bytes32 digest) external view returns (StatusRecord memory) {
        return _unpackStatus(_statuses[issuerId][digest]);
    }

    /// @inheritdoc ICredentialAnchor
    function statusesOf(uint32 issuerId, bytes32[] calldata digests) external view returns (StatusRecord[] memory records) {
        _checkBatchSize(digests.length);
        records = new StatusRecord[](digests.length);
        mapping(bytes32 => uint256) storage statuses = _statuses[issuerId];
        // Bounded by MAX_BATCH.
        for (uint256 i = 0; i < digests.length; ++i) {
            records[i] = _unpackStatus(statuses[digests[i]]);
        }
    }

    function _checkWriter(uint32 issuerId, bool requireActive) private view {
        (bool isWriter, bool issuerActive) = _registry.writerStatus(issuerId, msg.sender);
        if (!isWriter) revert CredentialAnchorNotWriter(issuerId, msg.sender);
        if (requireActive && !issuerActive) revert CredentialAnchorIssuerNotActive(issuerId);
    }

    function _checkBatchSize(uint256 count) private pure {
        if (count == 0) revert CredentialAnchorEmptyBatch();
        if (count > MAX_BATCH) revert CredentialAnchorBatchTooLarge(count, MAX_BATCH);
    }

    function _setStatuses(uint32 issuerId, bytes32[] calldata digests, DigestStatus to, uint16 reason) private {
        _checkBatchSize(digests.length);
        mapping(bytes32 => uint256) storage statuses = _statuses[issuerId];
        // Bounded by MAX_BATCH.
        for (uint256 i = 0; i < digests.length; ++i) {
            _transition(statuses, issuerId, digests[i], to, reason);
        }
    }

    function _setStatus(uint32 issuerId, bytes32 digest, DigestStatus to, uint16 reason) private {
        _transition(_statuses[issuerId], issuerId, digest, to, reason);
    }

    /// @dev Allowed: None->Suspended, None->Revoked, Suspended->None, Suspended->Revoked.
    function _transition(
        mapping(bytes32 => uint256) storage statuses,
        uint32 issuerId,
        bytes32 digest,
        DigestStatus to,
        uint16 reason
    ) private {
        DigestStatus from = DigestStatus(uint8(statuses[digest]));
        bool allowed = to == DigestStatus.Revoked
            ? from != DigestStatus.Revoked
            : (to == DigestStatus.Suspended ? from == DigestStatus.None : from == DigestStatus.Suspended);
        if (!allowed) revert CredentialAnchorInvalidTransition(issuerId, digest, from, to);
        // One slot: status, reason, time (block.timestamp fits 64 bits for billions of years).
        statuses[digest] = uint256(uint8(to)) | (uint256(reason) << 8) | (uint256(uint64(block.timestamp)) << 24);
        emit CredentialStatusChanged(issuerId, digest, to, reason);
    }

    function _unpackStatus(uint256 packed) private pure returns (StatusRecord memory) {
        return StatusRecord({
            status: DigestStatus(uint8(packed)),
            reason: uint16(packed >> 8),
            updatedAt: uint64(packed >> 24)
        });
    }
}
