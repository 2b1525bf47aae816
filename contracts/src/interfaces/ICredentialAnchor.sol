// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ICredentialAnchor
/// @notice Batch roots of credential digests anchored by issuers, and the
/// revocation/suspension status of single credential digests. Every write happens
/// in the caller's own issuer namespace: the caller must be a current writer of
/// that issuer in the IssuerRegistry.
interface ICredentialAnchor {
    // ------------------------------------------------------------------ types

    /// @notice Status of a credential digest under an issuer. Allowed transitions:
    /// None->Suspended, None->Revoked, Suspended->None (reinstate), Suspended->Revoked.
    /// Revoked is final.
    enum DigestStatus {
        None,
        Revoked,
        Suspended
    }

    /// @notice Where and when a root was anchored. `blockNumber` is 0 when it never was.
    /// The metadata hash is only in the {RootAnchored} event (one storage slot per root).
    struct AnchorRecord {
        uint64 blockNumber;
        uint64 timestamp;
        uint64 treeSize;
    }

    /// @notice The current status of a digest, the reason code of its last change and
    /// the block time of that change (0 if it never changed).
    struct StatusRecord {
        DigestStatus status;
        uint16 reason;
        uint64 updatedAt;
    }

    // ----------------------------------------------------------------- errors

    /// @notice The registry address has no code.
    error CredentialAnchorInvalidRegistry(address registry);
    /// @notice `account` is not a current writer of issuer `issuerId`.
    error CredentialAnchorNotWriter(uint32 issuerId, address account);
    /// @notice The issuer is suspended (or was never admitted).
    error CredentialAnchorIssuerNotActive(uint32 issuerId);
    /// @notice The issuer already anchored `root`, in block `anchoredAtBlock`.
    error CredentialAnchorDuplicateRoot(uint32 issuerId, bytes32 root, uint64 anchoredAtBlock);
    /// @notice The zero root is not a Merkle root.
    error CredentialAnchorInvalidRoot();
    /// @notice A batch has at least one credential.
    error CredentialAnchorInvalidTreeSize();
    /// @notice An array call needs at least one digest.
    error CredentialAnchorEmptyBatch();
    /// @notice An array call takes at most `max` digests; `count` were given.
    error CredentialAnchorBatchTooLarge(uint256 count, uint256 max);
    /// @notice `digest` cannot go from status `from` to `to`.
    error CredentialAnchorInvalidTransition(uint32 issuerId, bytes32 digest, DigestStatus from, DigestStatus to);

    // ----------------------------------------------------------------- events

    /// @notice `issuerId` anchored `root` of a tree of `treeSize` credentials.
    event RootAnchored(uint32 indexed issuerId, bytes32 indexed root, uint64 treeSize, bytes32 metadataHash);

    /// @notice The status of `digest` under `issuerId` became `status`, for `reason`.
    event CredentialStatusChanged(uint32 indexed issuerId, bytes32 indexed digest, DigestStatus status, uint16 reason);

    // ----------------------------------------------------------------- writes

    /// @notice Anchors a batch root; the block's number and time are recorded.
    /// @dev Requirements: caller is a current writer of `issuerId`; the issuer is active;
    /// `root` is not zero; `treeSize` > 0; the issuer has not anchored `root` before.
    /// Emits {RootAnchored}.
    function anchor(uint32 issuerId, bytes32 root, uint64 treeSize, bytes32 metadataHash) external;

    /// @notice Revokes a credential digest (final).
    /// @dev Requirements: caller is a current writer of `issuerId` (a suspended issuer may
    /// still revoke); status is None or Suspended. Emits {CredentialStatusChanged}.
    function revoke(uint32 issuerId, bytes32 digest, uint16 reason) external;

    /// @notice Suspends a credential digest.
    /// @dev Requirements: caller is a current writer of `issuerId` (a suspended issuer may
    /// still suspend); status is None. Emits {CredentialStatusChanged}.
    function suspend(uint32 issuerId, bytes32 digest, uint16 reason) external;

    /// @notice Reinstates a suspended credential digest (status back to None).
    /// @dev Requirements: caller is a current writer of `issuerId`; the issuer is active;
    /// status is Suspended. Emits {CredentialStatusChanged}.
    function reinstate(uint32 issuerId, bytes32 digest, uint16 reason) external;

    /// @notice Revokes 1..MAX_BATCH digests with one reason; all or nothing.
    /// @dev Requirements as {revoke}, for every digest. Emits one {CredentialStatusChanged} per digest.
    function revokeBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    /// @notice Suspends 1..MAX_BATCH digests with one reason; all or nothing.
    /// @dev Requirements as {suspend}, for every digest. Emits one {CredentialStatusChanged} per digest.
    function suspendBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    /// @notice Reinstates 1..MAX_BATCH digests with one reason; all or nothing.
    /// @dev Requirements as {reinstate}, for every digest. Emits one {CredentialStatusChanged} per digest.
    function reinstateBatch(uint32 issuerId, bytes32[] calldata digests, uint16 reason) external;

    // ------------------------------------------------------------------ views

    /// @notice The IssuerRegistry this contract reads writers and issuer status from.
    function registry() external view returns (address);

    /// @notice Where and when `issuerId` anchored `root` (all zero if it did not).
    function anchorOf(uint32 issuerId, bytes32 root) external view returns (AnchorRecord memory);

    /// @notice Whether `issuerId` anchored `root`.
    function isAnchored(uint32 issuerId, bytes32 root) external view returns (bool);

    /// @notice The status of `digest` under `issuerId`.
    function statusOf(uint32 issuerId, bytes32 digest) external view returns (StatusRecord memory);

    /// @notice The statuses of up to MAX_BATCH digests under `issuerId`, in order.
    function statusesOf(uint32 issuerId, bytes32[] calldata digests) external view returns (StatusRecord[] memory);
}
