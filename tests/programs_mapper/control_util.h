/* control_util.h: small helpers defined in a header, so that their code is
 * compiled into the including file but its lines belong to this file. */
#ifndef HWCOV_MAPPER_CONTROL_UTIL_H
#define HWCOV_MAPPER_CONTROL_UTIL_H

static inline int clamp(int value, int low, int high)
{
  if (value < low)
    return low;
  if (value > high)
    return high;
  return value;
}

#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
