"""Lending products modelled with the protocols' own integer math, one module per family."""
