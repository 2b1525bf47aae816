// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title ChainProbe
/// @notice A tiny contract that exercises the build pipeline and the chain layer
/// (deployment, events, custom-error reverts, many transactions in flight). It
/// holds no Tongban state and is never part of a production deployment.
contract ChainProbe is AccessControl {
    /// @notice Role allowed to record values.
    bytes32 public constant WRITER_ROLE = keccak256("WRITER_ROLE");

    /// @notice Largest value `record` accepts.
    uint256 public constant MAX_VALUE = 1_000_000;

    /// @notice `value` exceeds `max`.
    error ChainProbeValueTooLarge(uint256 value, uint256 max);

    /// @notice `by` recorded `value`; `count` is the number of records so far.
    event ValueRecorded(address indexed by, uint256 value, uint256 count);

    /// @notice Number of values recorded so far.
    uint256 public count;

    /// @notice Sum of all values recorded so far.
    uint256 public total;

    /// @param admin Account receiving the admin and writer roles.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(WRITER_ROLE, admin);
    }

    /// @notice Records `value`.
    /// @dev Requirements: caller holds WRITER_ROLE; `value` <= MAX_VALUE.
    /// Emits {ValueRecorded}.
    function record(uint256 value) external onlyRole(WRITER_ROLE) {
        if (value > MAX_VALUE) revert ChainProbeValueTooLarge(value, MAX_VALUE);
        count += 1;
        total += value;
        emit ValueRecorded(msg.sender, value, count);
    }
}
