//! A packet through the hooks, in the kernel order.
