"""jaxlab: classic deep-learning experiments as one config file and one command (JAX/Flax)."""
