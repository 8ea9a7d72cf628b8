"""JSON-RPC access for on-chain adapters: client, call cache, Multicall3 fan-out, block lookup."""

from lendscope.chain.blocks import (
    BlockNotFinalError,
    UnsafeBlockError,
    block_by_timestamp,
    block_timestamps,
    check_safe_head,
    quarter_end_block,
    quarter_end_timestamp,
    resolve_block,
)
from lendscope.chain.cache import (
    CACHE_SCHEMA_VERSION,
    CallCache,
    CallKey,
    UnpinnedBlockError,
    default_cache_path,
)
from lendscope.chain.multicall import (
    MULTICALL3_ADDRESS,
    Caller,
    CallFailedError,
    decode_aggregate3,
    encode_aggregate3,
)
from lendscope.chain.rpc import (
    RETRY_ALLOWLIST,
    ChainError,
    ChainIdMismatchError,
    RpcClient,
    RpcError,
    RpcHttpError,
    RpcStats,
    RpcTransportError,
    TokenBucket,
    parse_retry_after,
)

__all__ = [
    "CACHE_SCHEMA_VERSION",
    "MULTICALL3_ADDRESS",
    "RETRY_ALLOWLIST",
    "BlockNotFinalError",
    "CallCache",
    "CallFailedError",
    "CallKey",
    "Caller",
    "ChainError",
    "ChainIdMismatchError",
    "RpcClient",
    "RpcError",
    "RpcHttpError",
    "RpcStats",
    "RpcTransportError",
    "TokenBucket",
    "UnpinnedBlockError",
    "UnsafeBlockError",
    "block_by_timestamp",
    "block_timestamps",
    "check_safe_head",
    "decode_aggregate3",
    "default_cache_path",
    "encode_aggregate3",
    "parse_retry_after",
    "quarter_end_block",
    "quarter_end_timestamp",
    "resolve_block",
]
