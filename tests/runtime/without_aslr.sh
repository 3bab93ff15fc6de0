#!/bin/sh
# Test launcher of the tsan preset: runs the test with address-space randomization off where the
# kernel lets us. GCC 12's ThreadSanitizer aborts at start ("FATAL: ThreadSanitizer: unexpected
# memory mapping") on kernels with high mmap ASLR entropy (vm.mmap_rnd_bits above 28, e.g.
# Ubuntu 23.10+ and other 6.x kernels); personality(ADDR_NO_RANDOMIZE) avoids that. Where the
# personality call is refused (some container seccomp profiles), the test runs as it is, which
# works wherever the entropy is low enough.
if setarch "$(uname -m)" -R true 2>/dev/null; then
  exec setarch "$(uname -m)" -R "$@"
fi
exec "$@"
