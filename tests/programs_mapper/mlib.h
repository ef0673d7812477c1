/* mlib.h: the interface of libmlib.so (mlib.c), used by calls.c. */
#ifndef HWCOV_MAPPER_MLIB_H
#define HWCOV_MAPPER_MLIB_H

int mlib_gcd(int a, int b);
int mlib_is_prime(int n);
long mlib_sum(const int *values, int count, int (*keep)(int));

#endif
