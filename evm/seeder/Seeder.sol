// SPDX-License-Identifier: MIT
pragma solidity 0.8.27;

/// @notice lendscope devnet seeder: opens thousands of lending positions in few transactions.
/// Each borrower is its own small contract (an EIP-1167 clone of BorrowerAccount made with
/// CREATE2), so positions are held, and Borrow events are emitted, in the borrower's name.
/// Python draws the borrower mix and sends it as packed steps; this contract only executes them.

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
}

/// The Aave v3 pool functions the seeder uses.
interface ILendingPool {
    function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external;
    function borrow(address asset, uint256 amount, uint256 rateMode, uint16 referralCode, address onBehalfOf)
        external;
    function setUserUseReserveAsCollateral(address asset, bool useAsCollateral) external;
    function setUserEMode(uint8 categoryId) external;
}

/// A Morpho Blue market's parameters (the ABI tuple its functions take).
struct Market {
    address loanToken;
    address collateralToken;
    address oracle;
    address irm;
    uint256 lltv;
}

/// The Morpho Blue functions the seeder uses.
interface IBlue {
    function supply(Market calldata m, uint256 assets, uint256 shares, address onBehalf, bytes calldata data)
        external
        returns (uint256, uint256);
    function supplyCollateral(Market calldata m, uint256 assets, address onBehalf, bytes calldata data) external;
    function borrow(Market calldata m, uint256 assets, uint256 shares, address onBehalf, address receiver)
        external
        returns (uint256, uint256);
}

/// @notice A borrower account: runs calls for its seeder only, as itself.
contract BorrowerAccount {
    address private immutable SEEDER;

    constructor() {
        SEEDER = msg.sender;
    }

    function exec(address target, bytes calldata data) external {
        require(msg.sender == SEEDER, "only seeder");
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

contract Seeder {
    // Step word: kind (top 8 bits) | index (next 8 bits: asset, market or e-mode id) | amount.
    uint256 internal constant NEW = 0; // amount = borrower id (the CREATE2 salt)
    uint256 internal constant SUPPLY = 1; // Aave supply for the borrower
    uint256 internal constant COLLATERAL_OFF = 2; // borrower: setUserUseReserveAsCollateral(false)
    uint256 internal constant COLLATERAL_ON = 3; // borrower: setUserUseReserveAsCollateral(true)
    uint256 internal constant EMODE = 4; // borrower: setUserEMode(index)
    uint256 internal constant BORROW = 5; // borrower: Aave variable borrow
    uint256 internal constant M_COLLATERAL = 6; // Morpho supplyCollateral for the borrower
    uint256 internal constant M_BORROW = 7; // borrower: Morpho borrow
    uint256 internal constant LEND = 8; // Aave supply held by the seeder (liquidity)
    uint256 internal constant M_LEND = 9; // Morpho supply held by the seeder (liquidity)
    uint256 internal constant AMOUNT_MASK = (uint256(1) << 240) - 1;

    error StepFailed(uint256 borrower, uint256 step, bytes reason);

    address public immutable owner;
    address public immutable pool;
    address public immutable morpho;
    address public immutable account;
    bytes32 public immutable cloneCodeHash;
    address[] public assets;
    Market[] internal markets;

    constructor(address pool_, address morpho_, address[] memory assets_, Market[] memory markets_) {
        owner = msg.sender;
        pool = pool_;
        morpho = morpho_;
        for (uint256 i = 0; i < assets_.length; ++i) {
            assets.push(assets_[i]);
            IToken(assets_[i]).approve(pool_, type(uint256).max);
            IToken(assets_[i]).approve(morpho_, type(uint256).max);
        }
        for (uint256 i = 0; i < markets_.length; ++i) {
            markets.push(markets_[i]);
        }
        address impl = address(new BorrowerAccount());
        account = impl;
        cloneCodeHash = keccak256(_cloneCode(impl));
    }

    /// @notice The borrower contract for ``id`` (deployed or not).
    function accountOf(uint256 id) external view returns (address) {
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), bytes32(id), cloneCodeHash));
        return address(uint160(uint256(h)));
    }

    /// @notice Run packed steps; a failing step reverts everything with StepFailed.
    function seed(uint256[] calldata steps) external {
        require(msg.sender == owner, "only owner");
        address who;
        uint256 id;
        for (uint256 i = 0; i < steps.length; ++i) {
            uint256 w = steps[i];
            uint256 kind = w >> 248;
            uint256 idx = (w >> 240) & 0xff;
            uint256 amt = w & AMOUNT_MASK;
            if (kind == NEW) {
                id = amt;
                who = _clone(bytes32(amt));
                continue;
            }
            (bool viaAccount, address target, bytes memory data) = _step(kind, idx, amt, who);
            bool ok;
            bytes memory ret;
            if (viaAccount) {
                (ok, ret) = who.call(abi.encodeCall(BorrowerAccount.exec, (target, data)));
            } else {
                (ok, ret) = target.call(data);
            }
            if (!ok) revert StepFailed(id, i, ret);
        }
    }

    function _step(uint256 kind, uint256 idx, uint256 amt, address who)
        internal
        view
        returns (bool viaAccount, address target, bytes memory data)
    {
        if (kind == SUPPLY || kind == LEND) {
            address to = kind == SUPPLY ? who : address(this);
            return (false, pool, abi.encodeCall(ILendingPool.supply, (assets[idx], amt, to, 0)));
        }
        if (kind == COLLATERAL_OFF || kind == COLLATERAL_ON) {
            bool on = kind == COLLATERAL_ON;
            return (true, pool, abi.encodeCall(ILendingPool.setUserUseReserveAsCollateral, (assets[idx], on)));
        }
        if (kind == EMODE) {
            return (true, pool, abi.encodeCall(ILendingPool.setUserEMode, (uint8(idx))));
        }
        if (kind == BORROW) {
            return (true, pool, abi.encodeCall(ILendingPool.borrow, (assets[idx], amt, 2, 0, who)));
        }
        if (kind == M_COLLATERAL) {
            return (false, morpho, abi.encodeCall(IBlue.supplyCollateral, (markets[idx], amt, who, "")));
        }
        if (kind == M_BORROW) {
            return (true, morpho, abi.encodeCall(IBlue.borrow, (markets[idx], amt, 0, who, who)));
        }
        if (kind == M_LEND) {
            return (false, morpho, abi.encodeCall(IBlue.supply, (markets[idx], amt, 0, address(this), "")));
        }
        revert("unknown step");
    }

    function _clone(bytes32 salt) internal returns (address a) {
        bytes memory code = _cloneCode(account);
        assembly {
            a := create2(0, add(code, 32), mload(code), salt)
        }
        require(a != address(0), "clone failed");
    }

    /// EIP-1167 minimal proxy init code delegating to ``impl``.
    function _cloneCode(address impl) internal pure returns (bytes memory) {
        return abi.encodePacked(
            hex"3d602d80600a3d3981f3363d3d373d3d3d363d73", impl, hex"5af43d82803e903d91602b57fd5bf3"
        );
    }
}
