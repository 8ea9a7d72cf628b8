"""On-chain sources: a registry of deployments, one adapter per protocol family, and sync."""
