"""Solana lending accounts: lendscope's own decoders of Kamino Lend, marginfi and Save layouts.

Each module holds one account layout as fixed offsets (facts read from the protocol's published
npm SDK or IDL, cited per module; no protocol source is copied) and a decoder to a frozen
dataclass. :mod:`.reader` pins reads to one finalized slot. The adapters that turn decoded
accounts into :class:`~lendscope.onchain.protocols.MarketRow` rows are
``lendscope.onchain.protocols.{kamino,marginfi,save}``; ``lendscope.onchain.solana_sync`` runs
them as a sync.
"""
