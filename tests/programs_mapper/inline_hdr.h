/* inline_hdr.h: a function that only ever exists inlined (always_inline,
 * static): its code lives in its callers, its lines and its coverage here. */
#ifndef HWCOV_MAPPER_INLINE_HDR_H
#define HWCOV_MAPPER_INLINE_HDR_H

static inline __attribute__((always_inline)) int saturate(int value, int limit)
{
  if (value > limit)
    return limit;
  if (value < -limit)
    return -limit;
  return value;
}

#endif
