// SHA-256's compression function on the x86 SHA extensions (SHA-NI), for whole 64-byte
// blocks, optionally copying the bytes it reads to a second buffer. The copy then costs
// next to nothing: the stores hide in the latency of the rounds, where a separate memcpy
// would read and write every byte again. Sha256 (digest.h) uses it when the CPU has the
// extensions, and OpenSSL otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wharf::sha256_ni {

// True if this CPU can run Blocks (SHA, SSSE3 and SSE4.1); checked once.
bool Supported();

// Runs `blocks` 64-byte blocks from `data` through `state` (the working words a..h, as the
// standard numbers them). If `copy_to` is not null, the same blocks are also written there
// (the ranges must not overlap). Only when Supported().
void Blocks(uint32_t state[8], const uint8_t* data, size_t blocks, uint8_t* copy_to);

}  // namespace wharf::sha256_ni
