"""Kernels: device computations that models and data loaders share (no flax Modules, no data)."""
