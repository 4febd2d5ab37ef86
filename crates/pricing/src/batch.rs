//! Batch pricing over slices (structure of arrays), SIMD kernels.
