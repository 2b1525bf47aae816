// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IIssuerRegistry
/// @notice The consortium's rules about who may issue: M-of-N governance admits,
/// suspends and reinstates issuers (provinces); each issuer's admin manages its own
/// writer accounts and SM2 public keys. Nothing is ever deleted: writer and key
/// histories only grow, so a verifier can ask "was key K of issuer I valid at time T?".
interface IIssuerRegistry {
    // ------------------------------------------------------------------ types

    /// @notice Lifecycle of an issuer. `None` means "never admitted".
    enum IssuerStatus {
        None,
        Active,
        Suspended
    }

    /// @notice What a governance proposal does once M governors approved it.
    /// Parameters (`params`) are ABI-encoded as noted per action.
    enum Action {
        None,
        // (uint32 issuerId, uint32 divisionCode, string name, address admin)
        AdmitIssuer,
        // (uint32 issuerId)
        SuspendIssuer,
        // (uint32 issuerId)
        ReinstateIssuer,
        // (uint32 issuerId, address newAdmin)
        ReplaceIssuerAdmin,
        // (address governor)
        AddGovernor,
        // (address governor)
        RemoveGovernor,
        // (uint8 threshold)
        SetThreshold,
        // (address auditAnchor, uint32 logId)
        ResetAuditEpoch
    }

    /// @notice A governance proposal as stored. A proposal only counts approvals
    /// made under the governor set it was created with (`governorSetVersion`).
    struct Proposal {
        Action action;
        bool executed;
        uint8 approvals;
        uint32 governorSetVersion;
        uint64 createdAt;
        uint64 expiresAt;
        address proposer;
        bytes params;
    }

    /// @notice An issuer's attributes and current state.
    struct IssuerInfo {
        uint32 issuerId;
        IssuerStatus status;
        uint32 divisionCode;
        address admin;
        uint64 admittedAt;
        string name;
        string did;
        uint256 writerCount;
        uint256 keyCount;
    }

    /// @notice One writer appointment; `retiredAt` is 0 while the writer is current.
    struct WriterRecord {
        address account;
        uint64 addedAt;
        uint64 retiredAt;
    }

    /// @notice One SM2 key of an issuer. `retiredAt` is 0 while not retired;
    /// `compromisedFrom` only counts when `compromised` is true.
    struct KeyRecord {
        bytes32 keyId;
        bytes publicKey;
        uint64 validFrom;
        uint64 retiredAt;
        bool compromised;
        uint64 compromisedFrom;
    }

    // ----------------------------------------------------------------- errors

    /// @notice `account` is not a governor.
    error IssuerRegistryNotGovernor(address account);
    /// @notice A governor set must have between 1 and `max` members; `count` was asked for.
    error IssuerRegistryInvalidGovernorCount(uint256 count, uint256 max);
    /// @notice `account` is already a governor.
    error IssuerRegistryGovernorExists(address account);
    /// @notice `account` is not a governor and cannot be removed.
    error IssuerRegistryGovernorUnknown(address account);
    /// @notice The threshold must satisfy 1 <= threshold <= governorCount.
    error IssuerRegistryInvalidThreshold(uint256 threshold, uint256 governorCount);
    /// @notice Roles change only through governance proposals.
    error IssuerRegistryGovernanceOnly();
    /// @notice `action` is not a governance action.
    error IssuerRegistryUnknownAction(uint8 action);
    /// @notice `expiresAt` must lie after `now` and at most MAX_PROPOSAL_LIFETIME later.
    error IssuerRegistryInvalidExpiry(uint64 expiresAt, uint64 now);
    /// @notice No proposal has id `proposalId`.
    error IssuerRegistryUnknownProposal(uint256 proposalId);
    /// @notice The proposal expired at `expiresAt`.
    error IssuerRegistryProposalExpired(uint256 proposalId, uint64 expiresAt);
    /// @notice The governor set changed since the proposal was made; propose again.
    error IssuerRegistryProposalStale(uint256 proposalId, uint32 proposalVersion, uint32 currentVersion);
    /// @notice The proposal was already executed.
    error IssuerRegistryProposalAlreadyExecuted(uint256 proposalId);
    /// @notice `governor` already approved the proposal.
    error IssuerRegistryAlreadyApproved(uint256 proposalId, address governor);
    /// @notice Issuer id 0 is reserved.
    error IssuerRegistryInvalidIssuerId(uint32 issuerId);
    /// @notice An issuer with this id was already admitted (ids are never reused).
    error IssuerRegistryIssuerExists(uint32 issuerId);
    /// @notice No issuer with this id was admitted.
    error IssuerRegistryUnknownIssuer(uint32 issuerId);
    /// @notice The issuer is not active (suspended).
    error IssuerRegistryIssuerNotActive(uint32 issuerId);
    /// @notice The issuer is not suspended.
    error IssuerRegistryIssuerNotSuspended(uint32 issuerId);
    /// @notice A GB/T 2260 division code has six digits (100000..999999).
    error IssuerRegistryInvalidDivisionCode(uint32 divisionCode);
    /// @notice A display name has 1..MAX_NAME_LENGTH bytes of UTF-8.
    error IssuerRegistryInvalidName(uint256 length);
    /// @notice The zero address (or an account that cannot take this role) was given.
    error IssuerRegistryInvalidAccount(address account);
    /// @notice `target` is not an AuditAnchor bound to this registry.
    error IssuerRegistryInvalidTarget(address target);
    /// @notice `account` is not the admin of issuer `issuerId`.
    error IssuerRegistryNotIssuerAdmin(uint32 issuerId, address account);
    /// @notice `account` is already a current writer of issuer `issuerId`.
    error IssuerRegistryWriterTaken(address account, uint32 issuerId);
    /// @notice `account` is not a current writer of issuer `issuerId`.
    error IssuerRegistryNotWriter(uint32 issuerId, address account);
    /// @notice Key id 0 is reserved.
    error IssuerRegistryInvalidKeyId();
    /// @notice The issuer already has a key with this id (ids are never reused).
    error IssuerRegistryKeyExists(uint32 issuerId, bytes32 keyId);
    /// @notice The issuer has no key with this id.
    error IssuerRegistryUnknownKey(uint32 issuerId, bytes32 keyId);
    /// @notice A public key is a 33-byte compressed SM2 point: 0x02 or 0x03, then x < p.
    error IssuerRegistryInvalidPublicKey();
    /// @notice `validFrom` lies before the current block's time `now`.
    error IssuerRegistryKeyBackdated(uint64 validFrom, uint64 now);
    /// @notice The key was already retired.
    error IssuerRegistryKeyAlreadyRetired(uint32 issuerId, bytes32 keyId);
    /// @notice The issuer's writer or key history has `count` entries; `index` is out of range.
    error IssuerRegistryIndexOutOfRange(uint32 issuerId, uint256 index, uint256 count);
    /// @notice The key is already compromised from `current` <= the `requested` time.
    error IssuerRegistryCompromiseNotEarlier(uint32 issuerId, bytes32 keyId, uint64 current, uint64 requested);

    // ----------------------------------------------------------------- events

    /// @notice Governor `proposer` proposed `action` (approving it at the same time).
    event ProposalCreated(
        uint256 indexed proposalId,
        Action indexed action,
        address indexed proposer,
        bytes params,
        uint64 expiresAt,
        uint32 governorSetVersion
    );
    /// @notice `governor` approved; `approvals` of `threshold` so far.
    event ProposalApproved(uint256 indexed proposalId, address indexed governor, uint256 approvals, uint256 threshold);
    /// @notice The proposal reached the threshold and its action was applied.
    event ProposalExecuted(uint256 indexed proposalId, Action indexed action);
    /// @notice The governor set or threshold changed; proposals of older versions are stale.
    event GovernorSetChanged(uint32 version, uint256 governorCount, uint256 threshold, uint256 indexed proposalId);
    /// @notice An issuer was admitted (status Active).
    event IssuerAdmitted(
        uint32 indexed issuerId,
        uint32 divisionCode,
        string did,
        string name,
        address admin,
        uint256 indexed proposalId
    );
    /// @notice An issuer was suspended: no new anchors, keys or writers.
    event IssuerSuspended(uint32 indexed issuerId, uint256 indexed proposalId);
    /// @notice A suspended issuer was reinstated.
    event IssuerReinstated(uint32 indexed issuerId, uint256 indexed proposalId);
    /// @notice Governance replaced an issuer's admin account.
    event IssuerAdminReplaced(
        uint32 indexed issuerId,
        address previousAdmin,
        address newAdmin,
        uint256 indexed proposalId
    );
    /// @notice `account` became a writer of `issuerId`; `index` is its writer-history index.
    event WriterAdded(uint32 indexed issuerId, address indexed account, uint256 index);
    /// @notice `account` stopped being a writer of `issuerId`.
    event WriterRetired(uint32 indexed issuerId, address indexed account, uint256 index);
    /// @notice A key was added to the issuer's key history.
    event KeyAdded(uint32 indexed issuerId, bytes32 indexed keyId, bytes publicKey, uint64 validFrom);
    /// @notice A key was retired at `retiredAt` (the block time).
    event KeyRetired(uint32 indexed issuerId, bytes32 indexed keyId, uint64 retiredAt);
    /// @notice A key was marked compromised from `compromisedFrom`.
    event KeyCompromised(uint32 indexed issuerId, bytes32 indexed keyId, uint64 compromisedFrom);

    // ------------------------------------------------------------- governance

    /// @notice Proposes a governance action and approves it as its first governor.
    /// @dev Requirements: caller is a governor; `action` is not None; `params` are valid
    /// for the action right now; now < `expiresAt` <= now + MAX_PROPOSAL_LIFETIME.
    /// Emits {ProposalCreated}, {ProposalApproved}, and when the threshold is 1 the
    /// action's events and {ProposalExecuted}.
    /// @return proposalId The new proposal's id (1, 2, ...).
    function propose(Action action, bytes calldata params, uint64 expiresAt) external returns (uint256 proposalId);

    /// @notice Approves a proposal; the approval that reaches the threshold executes it.
    /// @dev Requirements: caller is a governor who has not approved it yet; the proposal
    /// exists, is not executed, not expired, and the governor set has not changed since
    /// it was made. Emits {ProposalApproved} and, at the threshold, the action's events
    /// and {ProposalExecuted}. A failing action reverts the approval.
    /// @return executed Whether this approval executed the proposal.
    function approve(uint256 proposalId) external returns (bool executed);

    // ---------------------------------------------------- issuer administration

    /// @notice Appoints `account` as a writer of issuer `issuerId`.
    /// @dev Requirements: caller is the issuer's admin; the issuer is active; `account`
    /// is not zero and not a current writer of any issuer. Emits {WriterAdded}.
    function addWriter(uint32 issuerId, address account) external;

    /// @notice Retires writer `account` of issuer `issuerId` (allowed while suspended).
    /// @dev Requirements: caller is the issuer's admin; `account` is a current writer of
    /// the issuer. Emits {WriterRetired}.
    function retireWriter(uint32 issuerId, address account) external;

    /// @notice Adds an SM2 public key to the issuer's key history.
    /// @dev Requirements: caller is the issuer's admin; the issuer is active; `keyId` is
    /// not zero and unused for this issuer; `publicKey` is a 33-byte compressed point;
    /// `validFrom` is 0 (meaning the block time) or not before the block time.
    /// Emits {KeyAdded}.
    function addKey(uint32 issuerId, bytes32 keyId, bytes calldata publicKey, uint64 validFrom) external;

    /// @notice Retires a key from the current block time on (allowed while suspended).
    /// @dev Requirements: caller is the issuer's admin; the key exists and is not retired.
    /// Emits {KeyRetired}.
    function retireKey(uint32 issuerId, bytes32 keyId) external;

    /// @notice Marks a key compromised from `compromisedFrom` (past or future; allowed
    /// while suspended). A later call may only move the time earlier.
    /// @dev Requirements: caller is the issuer's admin; the key exists; if already
    /// compromised, `compromisedFrom` is earlier than the recorded time. Emits {KeyCompromised}.
    function markKeyCompromised(uint32 issuerId, bytes32 keyId, uint64 compromisedFrom) external;

    // ------------------------------------------------------------------ views

    /// @notice Number of governor approvals a proposal needs.
    function threshold() external view returns (uint256);

    /// @notice Current governors, in no particular order.
    function governors() external view returns (address[] memory);

    /// @notice Whether `account` is a governor.
    function isGovernor(address account) external view returns (bool);

    /// @notice Version of the governor set; it grows with every governor or threshold change.
    function governorSetVersion() external view returns (uint32);

    /// @notice Number of proposals made so far (ids run from 1 to this number).
    function proposalCount() external view returns (uint256);

    /// @notice A proposal by id. Reverts {IssuerRegistryUnknownProposal} if there is none.
    function proposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Whether `governor` approved proposal `proposalId`.
    function hasApproved(uint256 proposalId, address governor) external view returns (bool);

    /// @notice An issuer's attributes. Reverts {IssuerRegistryUnknownIssuer} if never admitted.
    function issuer(uint32 issuerId) external view returns (IssuerInfo memory);

    /// @notice An issuer's status (`None` if never admitted).
    function issuerStatus(uint32 issuerId) external view returns (IssuerStatus);

    /// @notice The issuer's DID, `did:tongban:<chainId>:<issuerId>`.
    function issuerDid(uint32 issuerId) external view returns (string memory);

    /// @notice Whether `account` is a current writer of `issuerId`, and whether the issuer is active.
    /// @dev The one call the anchor contracts make per transaction.
    function writerStatus(uint32 issuerId, address account) external view returns (bool isWriter, bool issuerActive);

    /// @notice The issuer `account` currently writes for (0 if none).
    function writerIssuer(address account) external view returns (uint32);

    /// @notice Number of writer appointments of an issuer, current and retired.
    function writerCount(uint32 issuerId) external view returns (uint256);

    /// @notice The writer appointment at `index` of the issuer's writer history.
    /// Reverts {IssuerRegistryIndexOutOfRange}.
    function writerAt(uint32 issuerId, uint256 index) external view returns (WriterRecord memory);

    /// @notice Number of keys an issuer ever added.
    function keyCount(uint32 issuerId) external view returns (uint256);

    /// @notice The id of the issuer's `index`-th key, in the order added.
    /// Reverts {IssuerRegistryIndexOutOfRange}.
    function keyIdAt(uint32 issuerId, uint256 index) external view returns (bytes32);

    /// @notice A key record. Reverts {IssuerRegistryUnknownKey} if there is none.
    function key(uint32 issuerId, bytes32 keyId) external view returns (KeyRecord memory);

    /// @notice Whether key `keyId` of `issuerId` was valid at `timestamp`: validFrom <= t,
    /// t < retiredAt (if retired) and t < compromisedFrom (if compromised). Unknown keys
    /// are never valid; the issuer's suspension does not change the answer.
    function isKeyValidAt(uint32 issuerId, bytes32 keyId, uint64 timestamp) external view returns (bool);
}
