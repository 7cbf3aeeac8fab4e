// Models: architecture configurations, the forward pass with KV cache and hooks, and the backward pass.
